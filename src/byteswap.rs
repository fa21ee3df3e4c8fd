//! Byte order on the device: big-endian data (e.g. a `'>f4'` .npy) is uploaded as-is in the one
//! host copy, then swapped in place by `shaders/byteswap.wgsl`.

use crate::kernels::{Dispatches, Kernels};
use crate::{DType, Gpu, Result, Tensor};

/// Words one invocation of the `units` kernel swaps: GROUP `vec4<u32>` in
/// `shaders/byteswap.wgsl`.
const GROUP_WORDS: u64 = 16;

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
        // The kernels depend only on the element size: one pipeline per size, not per dtype.
        let dtype = Some(match size {
            2 => DType::U16,
            4 => DType::U32,
            _ => DType::U64,
        });
        let max_dim = gpu.shared.info.limits.max_compute_workgroups_per_dimension as u64;
        let mut dispatches = Dispatches::new(gpu);
        let mut add = |entry, n: u64, base: u64, binding| {
            let (x, y) = crate::cast::grid(n.div_ceil(256), max_dim);
            let params = [n as u32, x * 256, base as u32, 0];
            let pipeline = kernels.pipeline(device, entry, dtype);
            dispatches.add(&pipeline, (1, &params), &[binding], (x, y))
        };
        for p in self.pieces(u64::MAX) {
            let words = p.padded_bytes(&self.inner) / 4;
            // From the unpadded bytes, as `unit_binding` binds them.
            let groups = (p.len * size as usize) as u64 / (4 * GROUP_WORDS);
            if groups > 0 {
                let whole = self.unit_binding(p.chunk, 4 * GROUP_WORDS);
                add("units", groups, 0, (0, whole))?;
            }
            let (base, rest) = (groups * GROUP_WORDS, words - groups * GROUP_WORDS);
            if rest > 0 {
                let n = if size == 8 { rest / 2 } else { rest };
                add("words", n, base, (2, self.binding(p.chunk)))?;
            }
        }
        dispatches.submit();
        gpu.check()
    }
}
