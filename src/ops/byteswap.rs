//! Byte order on the device: big-endian data (e.g. a `'>f4'` .npy) is uploaded as-is in the one
//! host copy, then swapped in place by `shaders/byteswap.wgsl`.

use crate::runtime::kernels::{
    Dispatches, EntryPoint, KernelFamily, Module, WgslStruct, grid, wgsl_struct,
};
use crate::{DType, Gpu, Result, Tensor};

/// Words one invocation of [`Entry::Units`] swaps: GROUP `vec4<u32>` in
/// `shaders/byteswap.wgsl`.
const GROUP_WORDS: u64 = 16;

wgsl_struct! {
    /// The uniform parameters of the byte-swap kernels (`p`).
    struct SwapParams {
        /// Work items: groups ([`Entry::Units`]) or words / word pairs ([`Entry::Words`]).
        n: u32,
        /// Invocations per grid row: workgroups in x times 256.
        row: u32,
        /// First word of [`Entry::Words`]' work, after the last whole group.
        base: u32,
        pad: u32,
    }
}

/// The bindings of `shaders/byteswap.wgsl`.
mod binding {
    /// The data as 16-byte units (`data`), for [`super::Entry::Units`].
    pub const UNITS: u32 = 0;
    /// [`super::SwapParams`] (`p`).
    pub const PARAMS: u32 = 1;
    /// The data as words (`tail`), for [`super::Entry::Words`].
    pub const WORDS: u32 = 2;
}

/// The entry points of `shaders/byteswap.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Entry {
    /// Whole groups of [`GROUP_WORDS`] words per invocation.
    Units,
    /// The words after the last whole group, one element per invocation.
    Words,
}

impl EntryPoint for Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Units => "units",
            Entry::Words => "words",
        }
    }
}

/// The byte-swap kernels of one device.
struct SwapKernels(Module<Entry>);

impl KernelFamily for SwapKernels {
    fn build(gpu: &Gpu) -> Result<Self> {
        let source = include_str!("../../shaders/byteswap.wgsl");
        let label = "tensorbridge byteswap";
        Ok(SwapKernels(Module::new(
            gpu,
            label,
            &[SwapParams::WGSL],
            source,
        )))
    }
}

impl Tensor {
    /// Reverses the bytes of every element in place, on the device (a no-op for 1-byte
    /// dtypes): big-endian data uploaded as raw bytes becomes the tensor's little-endian
    /// values.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[0x0102u16]))?;
    /// t.swap_bytes_in_place()?;
    /// assert_eq!(t.to_array::<u16>()?[0], 0x0201);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn swap_bytes_in_place(&self) -> Result<()> {
        let size = self.dtype().size_in_bytes() as u32;
        if size == 1 || self.is_empty() {
            return Ok(());
        }
        let gpu: &Gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let kernels = gpu.kernels::<SwapKernels>()?;
        // The kernels depend only on the element size: one pipeline per size, not per dtype.
        let dtype = Some(match size {
            2 => DType::U16,
            4 => DType::U32,
            _ => DType::U64,
        });
        let max_dim = gpu.limits().max_compute_workgroups_per_dimension as u64;
        let mut dispatches = Dispatches::new(gpu);
        let mut add = |entry, n: u64, base: u64, binding| {
            let (x, y) = grid(n.div_ceil(256), max_dim);
            let params = SwapParams {
                n: n as u32,
                row: x * 256,
                base: base as u32,
                pad: 0,
            };
            let pipeline = kernels.0.pipeline(gpu.device(), entry, dtype);
            dispatches.add(&pipeline, (binding::PARAMS, &params), &[binding], (x, y))
        };
        for p in self.pieces(u64::MAX) {
            let words = p.padded_bytes(&self.inner) / 4;
            // From the unpadded bytes, as `unit_binding` binds them.
            let groups = (p.len * size as usize) as u64 / (4 * GROUP_WORDS);
            if groups > 0 {
                let whole = self.unit_binding(p.chunk, 4 * GROUP_WORDS);
                add(Entry::Units, groups, 0, (binding::UNITS, whole))?;
            }
            let (base, rest) = (groups * GROUP_WORDS, words - groups * GROUP_WORDS);
            if rest > 0 {
                let n = if size == 8 { rest / 2 } else { rest };
                add(
                    Entry::Words,
                    n,
                    base,
                    (binding::WORDS, self.binding(p.chunk)),
                )?;
            }
        }
        dispatches.submit();
        gpu.check()
    }
}
