//! [`Tensor`]: an n-d array living in one or more wgpu storage buffers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use smallvec::{SmallVec, smallvec};

use crate::{DType, Error, Gpu, Result};

/// An n-dimensional array on the device. `Clone` is cheap: clones share the buffers.
///
/// Layout: row-major elements in their host byte layout, packed into `u32` words (see
/// [`DType`]). A tensor larger than one device buffer may hold (the smaller of
/// `max_storage_buffer_binding_size` and `max_buffer_size`) is split into chunks of
/// `chunk_elems` elements; this is invisible to the user. When the last clone is dropped, the
/// buffers go back to the [`Gpu`]'s pool for reuse.
#[derive(Clone)]
pub struct Tensor {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub gpu: Gpu,
    pub dtype: DType,
    /// Inline up to 4 dimensions, so small tensors of a batch allocate less.
    pub shape: SmallVec<[usize; 4]>,
    pub len: usize,
    /// Elements per chunk; a multiple of 32 so packed words never straddle chunks.
    pub chunk_elems: usize,
    /// Inline when there is one chunk (every small tensor).
    pub chunks: SmallVec<[wgpu::Buffer; 1]>,
    /// Byte offset of element 0 in `chunks[0]`: 0, except for tensors sub-allocated in a shared
    /// [`Block`] by a batched upload (those have one chunk).
    pub offset: u64,
    /// The shared buffer a sub-allocated tensor lives in; it returns to the pool with the last
    /// tensor using it.
    pub block: Option<Arc<Block>>,
    /// The caller's buffer ([`Tensor::from_wgpu_buffer`]): used in place, never pooled.
    pub foreign: bool,
    /// What keeps a caller's allocation alive while the tensor reads it
    /// ([`Tensor::from_wgpu_buffer_kept`]).
    pub _keep: Option<Box<Kept>>,
    /// Bytes accounted in the pool (sum of buffer sizes).
    pub bytes: u64,
    /// Serialises direct mapping of this tensor's buffers (Mapped path); shared by every
    /// tensor of a block, since a buffer maps as a whole.
    pub map_lock: Arc<Mutex<()>>,
    /// Set while a [`crate::MappedArray`] maps this tensor's own buffer.
    pub viewed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let pool = self.gpu.pool();
        pool.release(self.bytes);
        if self.block.is_none() && !self.foreign {
            for b in self.chunks.drain(..) {
                pool.give(b);
            }
        }
    }
}

/// A value a tensor keeps alive ([`Tensor::from_wgpu_buffer_kept`]).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Kept = dyn std::any::Any + Send + Sync;
/// A value a tensor keeps alive ([`Tensor::from_wgpu_buffer_kept`]).
#[cfg(target_arch = "wasm32")]
pub(crate) type Kept = dyn std::any::Any;

/// One pooled buffer holding several small tensors of a batch (mapped path): one map and one
/// unmap serve them all.
pub(crate) struct Block {
    gpu: Gpu,
    buffer: wgpu::Buffer,
}

impl Drop for Block {
    fn drop(&mut self) {
        self.gpu.pool().give(self.buffer.clone());
    }
}

/// Tensors of at most this many bytes share a block in a batched upload.
pub(crate) const BLOCK_ITEM_MAX: u64 = 64 << 10;

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensor")
            .field("dtype", &self.dtype())
            .field("shape", &self.shape())
            .field("chunks", &self.inner.chunks.len())
            .finish()
    }
}

/// One contiguous element range of a tensor that lies inside one chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub chunk: usize,
    /// First element, counted from the start of the tensor.
    pub start: usize,
    /// Elements in the piece.
    pub len: usize,
}

impl Piece {
    /// Byte offset of the piece inside its chunk buffer.
    pub fn offset(&self, t: &Inner) -> u64 {
        t.offset + ((self.start - self.chunk * t.chunk_elems) * t.dtype.size_in_bytes()) as u64
    }

    /// The piece's bytes (word-padded) in its chunk buffer.
    pub fn slice<'a>(&self, t: &'a Inner) -> wgpu::BufferSlice<'a> {
        let at = self.offset(t);
        t.chunks[self.chunk].slice(at..at + self.padded_bytes(t))
    }

    /// Bytes of the piece, rounded up to whole words (the tail word is padding).
    pub fn padded_bytes(&self, t: &Inner) -> u64 {
        ((self.len * t.dtype.size_in_bytes()) as u64).next_multiple_of(4)
    }
}

impl Tensor {
    /// Allocates an uninitialised tensor (buffers from the pool).
    pub(crate) fn alloc(gpu: &Gpu, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        Self::alloc_chunked(gpu, dtype, shape, gpu.max_chunk_bytes())
    }

    /// Allocates a small internal tensor (kernel outputs) in one buffer, whatever
    /// [`crate::GpuOptions::max_chunk_bytes`] says; up to the device's own limits.
    pub(crate) fn alloc_single(gpu: &Gpu, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let l = gpu.limits();
        let limit = l.max_buffer_size.min(l.max_storage_buffer_binding_size) & !255;
        Self::alloc_chunked(gpu, dtype, shape, limit)
    }

    fn alloc_chunked(gpu: &Gpu, dtype: DType, shape: &[usize], max_chunk: u64) -> Result<Tensor> {
        gpu.check()?;
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let size = dtype.size_in_bytes();
        let bytes = len.and_then(|n| dtype.bytes_for(n));
        let (Some(len), Some(_)) = (len, bytes) else {
            return Err(Error::TooLarge {
                what: "tensor",
                limit: "address space",
                requested: u64::MAX,
                max: usize::MAX as u64,
            });
        };
        let pool = gpu.pool();
        let chunk_elems = (max_chunk / size as u64) as usize;
        let n_chunks = len.div_ceil(chunk_elems).max(1);
        let usage = match gpu.path() {
            crate::TransferPath::Mapped => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::MAP_READ
                    | wgpu::BufferUsages::MAP_WRITE
            }
            _ => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST
            }
        };
        let sizes: Vec<u64> = (0..n_chunks)
            .map(|c| {
                let elems = (len - (c * chunk_elems).min(len)).min(chunk_elems);
                pool.class((elems * size) as u64)
            })
            .collect();
        let bytes: u64 = sizes.iter().sum();
        pool.reserve(bytes)?;
        let mut chunks = SmallVec::with_capacity(n_chunks);
        for s in sizes {
            match pool.take(gpu, "tensor", s, usage) {
                Ok(b) => chunks.push(b),
                Err(e) => {
                    pool.release(bytes);
                    for b in chunks {
                        pool.give(b);
                    }
                    return Err(e);
                }
            }
        }
        Ok(Tensor {
            inner: Arc::new(Inner {
                gpu: gpu.clone(),
                dtype,
                shape: SmallVec::from_slice(shape),
                len,
                chunk_elems,
                chunks,
                offset: 0,
                block: None,
                foreign: false,
                _keep: None,
                bytes,
                map_lock: Arc::new(Mutex::new(())),
                viewed: AtomicBool::new(false),
            }),
        })
    }

    /// Adopts a caller's buffer without copying: the tensor's `dtype` elements of `shape` start at
    /// `byte_offset` in `buffer` and are read and written there, in place. The caller passes a
    /// clone of its handle; the buffer is never returned to tensorbridge's pool, and dropping
    /// the tensor leaves it alive and untouched.
    ///
    /// Readback, casts, statistics, quantization and saving all work on the tensor. The buffer
    /// needs `STORAGE | COPY_SRC` usage (`COPY_DST` too to upload into it), `byte_offset` must be
    /// a multiple of `min_storage_buffer_offset_alignment`, the tensor's bytes (rounded up to a
    /// whole word) must lie inside the buffer and fit one binding
    /// (`max_storage_buffer_binding_size`), and the buffer must come from `gpu`'s device. Each
    /// failed check is an [`Error::Buffer`] naming the problem (or [`Error::TooLarge`]).
    ///
    /// ```
    /// use tensorbridge::{DType, Tensor, wgpu};
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
    ///     label: Some("mine"),
    ///     size: 1024,
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC
    ///         | wgpu::BufferUsages::COPY_DST,
    ///     mapped_at_creation: false,
    /// });
    /// gpu.queue().write_buffer(&buffer, 256, bytemuck::cast_slice(&[1.5f32, -2.0, 4.0]));
    /// let t = Tensor::from_wgpu_buffer(&gpu, buffer.clone(), 256, DType::F32, &[3])?;
    /// assert_eq!(t.to_array::<f32>()?.as_slice().unwrap(), &[1.5, -2.0, 4.0]);
    /// assert_eq!(t.cast(DType::I32)?.to_array::<i32>()?.as_slice().unwrap(), &[1, -2, 4]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn from_wgpu_buffer(
        gpu: &Gpu,
        buffer: wgpu::Buffer,
        byte_offset: u64,
        dtype: DType,
        shape: &[usize],
    ) -> Result<Tensor> {
        Self::adopt(gpu, buffer, byte_offset, dtype, shape, None)
    }

    /// [`Tensor::from_wgpu_buffer`], holding `keep` (see [`Tensor::from_wgpu_buffer_kept`]).
    fn adopt(
        gpu: &Gpu,
        buffer: wgpu::Buffer,
        byte_offset: u64,
        dtype: DType,
        shape: &[usize],
        keep: Option<Box<Kept>>,
    ) -> Result<Tensor> {
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let bytes = len
            .and_then(|n| dtype.bytes_for(n))
            .ok_or(Error::TooLarge {
                what: "adopted tensor",
                limit: "address space",
                requested: u64::MAX,
                max: usize::MAX as u64,
            })?;
        let needs = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
        gpu.check_buffer(&buffer, byte_offset, bytes, needs)?;
        let align = gpu.limits().min_storage_buffer_offset_alignment as u64;
        if !byte_offset.is_multiple_of(align) {
            return Err(Error::Buffer {
                problem: crate::BufferProblem::Alignment,
                reason: format!(
                    "byte offset {byte_offset} is not a multiple of \
                     min_storage_buffer_offset_alignment ({align}), so kernels cannot bind it"
                ),
            });
        }
        let limit = gpu.limits().max_storage_buffer_binding_size;
        if bytes.next_multiple_of(4) > limit {
            return Err(Error::TooLarge {
                what: "adopted tensor",
                limit: "max_storage_buffer_binding_size",
                requested: bytes,
                max: limit,
            });
        }
        Ok(Self::over(gpu, buffer, byte_offset, dtype, shape, keep))
    }

    /// [`Tensor::from_wgpu_buffer`] for memory another engine suballocates from a pool: the
    /// tensor holds `keep` (say, that engine's tensor) until it is dropped, so the engine does
    /// not reuse the range meanwhile.
    pub fn from_wgpu_buffer_kept<K: std::any::Any + wgpu::WasmNotSendSync>(
        gpu: &Gpu,
        buffer: wgpu::Buffer,
        byte_offset: u64,
        dtype: DType,
        shape: &[usize],
        keep: K,
    ) -> Result<Tensor> {
        let keep: Box<Kept> = Box::new(keep);
        Self::adopt(gpu, buffer, byte_offset, dtype, shape, Some(keep))
    }

    /// A tensor over `buffer` from `byte_offset`, unchecked (see [`Tensor::from_wgpu_buffer`]).
    pub(crate) fn over(
        gpu: &Gpu,
        buffer: wgpu::Buffer,
        byte_offset: u64,
        dtype: DType,
        shape: &[usize],
        keep: Option<Box<Kept>>,
    ) -> Tensor {
        let len = shape.iter().product();
        gpu.pool().count_adopted();
        Tensor {
            inner: Arc::new(Inner {
                gpu: gpu.clone(),
                dtype,
                shape: SmallVec::from_slice(shape),
                len,
                chunk_elems: usize::max(len, 1).next_multiple_of(32),
                chunks: smallvec![buffer],
                offset: byte_offset,
                block: None,
                foreign: true,
                _keep: keep,
                bytes: 0,
                map_lock: Arc::new(Mutex::new(())),
                viewed: AtomicBool::new(false),
            }),
        }
    }

    /// Allocates small tensors side by side in shared pooled buffers (blocks), each at an offset
    /// aligned for storage binding. Used by batched uploads on the mapped path.
    pub(crate) fn alloc_block(gpu: &Gpu, dtype: DType, shapes: &[&[usize]]) -> Result<Vec<Tensor>> {
        let pool = gpu.pool();
        let align = (gpu.limits().min_storage_buffer_offset_alignment as u64).max(256);
        let size = dtype.size_in_bytes();
        let lens: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
        let padded = |n: usize| ((n * size) as u64).next_multiple_of(align).max(align);
        let mut out = Vec::with_capacity(shapes.len());
        let mut i = 0;
        while i < shapes.len() {
            // As many tensors as fit one buffer.
            let (first, mut total) = (i, 0u64);
            while i < shapes.len()
                && (total == 0 || total + padded(lens[i]) <= gpu.max_chunk_bytes())
            {
                total += padded(lens[i]);
                i += 1;
            }
            let usage = wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::MAP_READ
                | wgpu::BufferUsages::MAP_WRITE;
            let class = pool.class(total);
            pool.reserve_many(i - first, total)?;
            let buffer = match pool.take(gpu, "tensor block", class, usage) {
                Ok(b) => b,
                Err(e) => {
                    pool.release_many(i - first, total);
                    return Err(e);
                }
            };
            let lock = Arc::new(Mutex::new(()));
            let block = Arc::new(Block {
                gpu: gpu.clone(),
                buffer: buffer.clone(),
            });
            let mut offset = 0;
            for k in first..i {
                out.push(Tensor {
                    inner: Arc::new(Inner {
                        gpu: gpu.clone(),
                        dtype,
                        shape: SmallVec::from_slice(shapes[k]),
                        len: lens[k],
                        chunk_elems: lens[k].next_multiple_of(32).max(32),
                        chunks: smallvec![buffer.clone()],
                        offset,
                        block: Some(block.clone()),
                        foreign: false,
                        _keep: None,
                        bytes: padded(lens[k]),
                        map_lock: lock.clone(),
                        viewed: AtomicBool::new(false),
                    }),
                });
                offset += padded(lens[k]);
            }
        }
        Ok(out)
    }

    /// The binding of chunk `c` for a kernel: the whole buffer, or this tensor's range of a
    /// shared block.
    pub(crate) fn binding(&self, c: usize) -> wgpu::BindingResource<'_> {
        let inner = &self.inner;
        match inner.block.is_some() || inner.foreign {
            false => inner.chunks[c].as_entire_binding(),
            true => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &inner.chunks[c],
                offset: inner.offset,
                size: wgpu::BufferSize::new(
                    ((inner.len * inner.dtype.size_in_bytes()) as u64)
                        .next_multiple_of(4)
                        .max(4),
                ),
            }),
        }
    }

    /// The binding of chunk `c` for a kernel that reads or writes it in whole units of `unit`
    /// bytes: the tensor's bytes in that chunk, rounded down to whole units (at least one).
    pub(crate) fn unit_binding(&self, c: usize, unit: u64) -> wgpu::BindingResource<'_> {
        let inner = &self.inner;
        let elems = (inner.len - c * inner.chunk_elems).min(inner.chunk_elems);
        let bytes = (elems * inner.dtype.size_in_bytes()) as u64;
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &inner.chunks[c],
            offset: inner.offset,
            size: wgpu::BufferSize::new((bytes - bytes % unit).max(unit)),
        })
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// The shape (row-major).
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.inner.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// Bytes of element data (`len * dtype.size_in_bytes()`), without padding.
    pub fn size_in_bytes(&self) -> u64 {
        (self.inner.len * self.inner.dtype.size_in_bytes()) as u64
    }

    /// The [`Gpu`] this tensor lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.inner.gpu
    }

    /// The device buffers holding the tensor, in order; each holds `chunk_elems()` elements
    /// except the last. Use them to bind the tensor in your own kernels. The data starts at
    /// [`Tensor::byte_offset`] in the first buffer (not 0 for small tensors of a batched upload,
    /// which share one buffer).
    pub fn buffers(&self) -> &[wgpu::Buffer] {
        &self.inner.chunks
    }

    /// Byte offset of the first element in `buffers()[0]` (a multiple of
    /// `min_storage_buffer_offset_alignment`, so it can be bound).
    pub fn byte_offset(&self) -> u64 {
        self.inner.offset
    }

    /// The one buffer holding the whole tensor and the byte offset of its first element, or
    /// `None` when the tensor is split into chunks (it is larger than one binding).
    ///
    /// Layout: row-major elements in their host byte layout (little-endian), packed into `u32`
    /// words: bool/u8/i8 four to a word, 16-bit types two to a word, 64-bit types as two words
    /// (low word first). The tensor's bytes are `size_in_bytes()` long from the offset; the last
    /// word may hold padding. Work the caller submits on the buffer is ordered with
    /// tensorbridge's on the shared queue (see [`Gpu::from_wgpu`]).
    pub fn wgpu_buffer(&self) -> Option<(&wgpu::Buffer, u64)> {
        match &self.inner.chunks[..] {
            [b] => Some((b, self.inner.offset)),
            _ => None,
        }
    }

    /// Whether the tensor's buffers can be mapped in place (pooled tensors on the mapped path;
    /// an adopted buffer only if the caller made it mappable).
    pub(crate) fn mappable(&self) -> bool {
        let both = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE;
        self.inner.chunks.iter().all(|b| b.usage().contains(both))
    }

    /// Elements per chunk buffer.
    pub fn chunk_elems(&self) -> usize {
        self.inner.chunk_elems
    }

    /// Splits the element range into pieces that each lie in one chunk and hold at most
    /// `max_bytes` bytes (rounded down to a multiple of 8 elements, so every piece starts at a
    /// byte offset that is a multiple of 8, as mapping requires).
    pub(crate) fn pieces(&self, max_bytes: u64) -> impl Iterator<Item = Piece> + '_ {
        let t = &self.inner;
        let size = t.dtype.size_in_bytes();
        let step = (((max_bytes as usize) / size) & !7).clamp(8, t.chunk_elems);
        let mut start = 0;
        std::iter::from_fn(move || {
            if start >= t.len {
                return None;
            }
            let chunk = start / t.chunk_elems;
            let chunk_end = ((chunk + 1) * t.chunk_elems).min(t.len);
            let len = step.min(chunk_end - start);
            let piece = Piece { chunk, start, len };
            start += len;
            Some(piece)
        })
    }
}

/// The map lock and the view claim: a buffer a [`crate::MappedArray`] maps must not be used by
/// the GPU meanwhile.
impl Tensor {
    /// Marks the tensor as mapped by a view, or says it already is.
    pub(crate) fn claim(&self) -> Result<()> {
        self.inner
            .viewed
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| self.busy())
    }

    /// [`Error::Busy`] when a [`crate::MappedArray`] holds this tensor's own buffer.
    pub(crate) fn check_not_viewed(&self) -> Result<()> {
        if self.inner.viewed.load(Ordering::Acquire) {
            return Err(self.busy());
        }
        Ok(())
    }

    /// Takes the tensor's map lock for a GPU submission that uses its buffers: while held, no
    /// other thread maps them (submitting work on a mapped buffer is a validation error). Hold
    /// it until `queue.submit` returns. [`Error::Busy`] when a view maps the buffer.
    pub(crate) fn lock_for_gpu(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        let guard = self.lock_map();
        self.check_not_viewed()?;
        Ok(guard)
    }

    /// The tensor's map lock (shared by the tensors of a block). A panic elsewhere while it was
    /// held leaves nothing inconsistent, so a poisoned lock is taken as is.
    pub(crate) fn lock_map(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner
            .map_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn busy(&self) -> Error {
        Error::Busy {
            reason: "the tensor is mapped by a MappedArray (Tensor::view); drop it first".into(),
        }
    }
}
