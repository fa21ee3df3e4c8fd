//! Byte order on the device: big-endian data (e.g. a `'>f4'` .npy) is uploaded as-is in the one
//! host copy, then swapped in place by `shaders/byteswap.wgsl`.

use crate::kernels::{Dispatches, Kernels};
use crate::{Gpu, Result, Tensor};

impl Tensor {
    /// Reverses the bytes of every element in place (no-op for 1-byte dtypes).
    pub(crate) fn swap_bytes_in_place(&self) -> Result<()> {
        let size = self.dtype().size_in_bytes() as u32;
        if size == 1 || self.is_empty() {
            return Ok(());
        }
        let gpu: &Gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let device = &gpu.shared.device;
        let kernels = gpu.shared.byteswap.get_or_init(|| {
            Kernels::new(
                device,
                "tensorbridge byteswap",
                include_str!("../shaders/byteswap.wgsl"),
            )
        });
        let pipeline = kernels.pipeline(device, "main", None);
        let max_dim = gpu.shared.info.limits.max_compute_workgroups_per_dimension as u64;
        let inner = &self.inner;
        let mut dispatches = Dispatches::new(gpu);
        for p in self.pieces(u64::MAX) {
            let words = p.padded_bytes(inner) / 4;
            let n = if size == 8 { words / 2 } else { words };
            let (x, y) = crate::cast::grid(n.div_ceil(256), max_dim);
            let params = [n as u32, x * 256, size, 0];
            let bindings = [(0, self.binding(p.chunk))];
            dispatches.add(&pipeline, (1, &params), &bindings, (x, y))?;
        }
        dispatches.submit();
        gpu.check()
    }
}
