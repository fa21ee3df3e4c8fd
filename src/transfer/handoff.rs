//! Handing tensors to a caller's wgpu buffers: [`Tensor::copy_to_buffer`] (a device copy) and
//! [`Gpu::upload_into`] (an array straight into the caller's buffer). Both write exactly the
//! tensor's bytes: whole words by `copy_buffer_to_buffer`, and a last partial word (odd
//! lengths of 1- and 2-byte dtypes) by a one-invocation kernel that keeps the bytes after it.

use ndarray::{ArrayBase, Data, Dimension};

use crate::core::layout::Gather;
use crate::runtime::kernels::{
    Dispatches, EntryPoint, KernelFamily, Module, WgslStruct, wgsl_struct,
};
use crate::{Element, Gpu, Result, Tensor};

wgsl_struct! {
    /// The uniform parameters of the tail kernels (`p` in `shaders/handoff.wgsl`).
    struct TailParams {
        /// The source word, counted from the bound source range.
        src_word: u32,
        /// The destination word, counted from the bound destination range.
        dst_word: u32,
        /// The bytes of the word to write.
        mask: u32,
        /// The word's bytes, for [`Entry::FromParams`].
        value: u32,
    }
}

/// The bindings of `shaders/handoff.wgsl`.
mod binding {
    /// The tensor's buffer (`src`).
    pub const SRC: u32 = 0;
    /// The caller's buffer (`dst`).
    pub const DST: u32 = 1;
    /// [`super::TailParams`] (`p`).
    pub const PARAMS: u32 = 2;
}

/// The entry points of `shaders/handoff.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Entry {
    /// The last word's bytes come from the tensor's buffer.
    FromBuffer,
    /// They come from the host, in the parameters.
    FromParams,
}

impl EntryPoint for Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::FromBuffer => "tail_from_buffer",
            Entry::FromParams => "tail_from_params",
        }
    }
}

/// The tail kernels of one device.
struct TailKernels(Module<Entry>);

impl KernelFamily for TailKernels {
    fn build(gpu: &Gpu) -> Result<Self> {
        let source = include_str!("../../shaders/handoff.wgsl");
        let label = "tensorbridge handoff";
        Ok(TailKernels(Module::new(
            gpu,
            label,
            &[TailParams::WGSL],
            source,
        )))
    }
}

/// Usage a destination needs for `bytes` bytes: `COPY_DST`, and `STORAGE` for a partial word.
fn needs(bytes: u64) -> wgpu::BufferUsages {
    match bytes % 4 {
        0 => wgpu::BufferUsages::COPY_DST,
        _ => wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::STORAGE,
    }
}

/// The binding of the word at byte `at` of `buffer`: the smallest range from an offset the
/// device can bind, and the word's index in it.
fn word_binding<'a>(
    gpu: &Gpu,
    buffer: &'a wgpu::Buffer,
    at: u64,
) -> (wgpu::BindingResource<'a>, u32) {
    let align = gpu.limits().min_storage_buffer_offset_alignment as u64;
    let offset = at - at % align;
    let binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer,
        offset,
        size: wgpu::BufferSize::new(at - offset + 4),
    });
    (binding, ((at - offset) / 4) as u32)
}

impl Tensor {
    /// Copies the tensor's bytes, on the device, into a caller's `buffer` from `byte_offset`
    /// (a multiple of 4): the layout of [`Tensor::wgpu_buffer`], exactly
    /// [`Tensor::size_in_bytes`] long. Bytes after them are left untouched, even inside the
    /// last word.
    ///
    /// The buffer needs `COPY_DST` usage, and `STORAGE` too when the size is not a multiple of
    /// 4; it must come from this tensor's device. A failed check is an [`crate::Error::Buffer`]
    /// naming the problem. The copy is submitted when this returns; later work on the queue,
    /// the caller's included, sees its result.
    ///
    /// ```
    /// use tensorbridge::wgpu;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let theirs = gpu.device().create_buffer(&wgpu::BufferDescriptor {
    ///     label: None,
    ///     size: 64,
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST
    ///         | wgpu::BufferUsages::COPY_SRC,
    ///     mapped_at_creation: false,
    /// });
    /// gpu.upload(&ndarray::arr1(&[7i16, -8, 9]))?.copy_to_buffer(&theirs, 16)?;
    /// let back = tensorbridge::Tensor::from_wgpu_buffer(&gpu, theirs, 0, tensorbridge::DType::I16, &[11])?;
    /// assert_eq!(&back.to_array::<i16>()?.as_slice().unwrap()[8..], &[7, -8, 9]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn copy_to_buffer(&self, buffer: &wgpu::Buffer, byte_offset: u64) -> Result<()> {
        let gpu = self.gpu();
        let bytes = self.size_in_bytes();
        gpu.check_buffer(buffer, byte_offset, bytes, needs(bytes))?;
        let _in_use = self.lock_for_gpu()?;
        let inner = &self.inner;
        let size = inner.dtype.size_in_bytes();
        let mut dispatches = Dispatches::new(gpu);
        let mut tail = None;
        for p in self.pieces(u64::MAX) {
            let n = (p.len * size) as u64;
            let body = n & !3;
            let at = byte_offset + (p.start * size) as u64;
            let chunk = &inner.chunks[p.chunk];
            if body > 0 {
                let from = p.offset(inner);
                dispatches
                    .encoder()
                    .copy_buffer_to_buffer(chunk, from, buffer, at, body);
            }
            if n > body {
                tail = Some((chunk, p.offset(inner) + body, at + body, n - body));
            }
        }
        if let Some((chunk, from, to, n)) = tail {
            let kernels = gpu.kernels::<TailKernels>()?;
            let (src, src_word) = word_binding(gpu, chunk, from);
            let (dst, dst_word) = word_binding(gpu, buffer, to);
            let params = TailParams {
                src_word,
                dst_word,
                mask: (1u32 << (8 * n)) - 1,
                value: 0,
            };
            let pipeline = kernels.0.pipeline(gpu.device(), Entry::FromBuffer, None);
            let bindings = [(binding::SRC, src), (binding::DST, dst)];
            dispatches.add(&pipeline, (binding::PARAMS, &params), &bindings, (1, 1))?;
        }
        dispatches.submit();
        gpu.check()
    }
}

impl Gpu {
    /// Uploads an array (any layout, as [`Gpu::upload`] takes) straight into a caller's
    /// `buffer` from `byte_offset` (a multiple of 4), in the layout of [`Tensor::wgpu_buffer`]:
    /// the usual way to fill another framework's tensor. One host copy, into reused staging
    /// memory, and one device copy into the buffer (in the browser, one `writeBuffer`). Bytes
    /// after the array's are left untouched, even inside its last word.
    ///
    /// The buffer needs `COPY_DST` usage, and `STORAGE` too when the array's byte size is not
    /// a multiple of 4; it must come from this device. A failed check is an
    /// [`crate::Error::Buffer`] naming the problem.
    ///
    /// ```
    /// use tensorbridge::wgpu;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let theirs = gpu.device().create_buffer(&wgpu::BufferDescriptor {
    ///     label: None,
    ///     size: 256,
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST
    ///         | wgpu::BufferUsages::COPY_SRC,
    ///     mapped_at_creation: false,
    /// });
    /// let a = ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
    /// gpu.upload_into(&a.t(), &theirs, 0)?;
    /// let t = tensorbridge::Tensor::from_wgpu_buffer(&gpu, theirs, 0, tensorbridge::DType::F32, &[2, 2])?;
    /// assert_eq!(t.to_array::<f32>()?, a.t().into_dyn());
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload_into<S, D, T>(
        &self,
        array: &ArrayBase<S, D>,
        buffer: &wgpu::Buffer,
        byte_offset: u64,
    ) -> Result<()>
    where
        S: Data<Elem = T>,
        D: Dimension,
        T: Element,
    {
        let size = std::mem::size_of::<T>();
        let bytes = (array.len() * size) as u64;
        self.check_buffer(buffer, byte_offset, bytes, needs(bytes))?;
        let body = bytes & !3;
        let mut gather = Gather::new(array.view().into_dyn());
        if body > 0 {
            let elems = body as usize / size;
            let target = Tensor::over(self, buffer.clone(), byte_offset, T::DTYPE, &[elems], None);
            self.write_all(&[&target], std::slice::from_mut(&mut gather))?;
        }
        let n = bytes - body;
        if n > 0 {
            let mut word = [0u8; 4];
            gather.fill(wgpu::WriteOnly::from_mut(&mut word[..n as usize]));
            let kernels = self.kernels::<TailKernels>()?;
            let (dst, dst_word) = word_binding(self, buffer, byte_offset + body);
            let params = TailParams {
                src_word: 0,
                dst_word,
                mask: (1u32 << (8 * n)) - 1,
                value: u32::from_le_bytes(word),
            };
            let pipeline = kernels.0.pipeline(self.device(), Entry::FromParams, None);
            let mut dispatches = Dispatches::new(self);
            let bindings = [(binding::DST, dst)];
            dispatches.add(&pipeline, (binding::PARAMS, &params), &bindings, (1, 1))?;
            dispatches.submit();
        }
        self.check()
    }
}
