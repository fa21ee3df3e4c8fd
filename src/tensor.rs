//! [`Tensor`]: an n-d array living in one or more wgpu storage buffers.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::{DType, Gpu, Result};

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
    pub shape: Vec<usize>,
    pub len: usize,
    /// Elements per chunk; a multiple of 32 so packed words never straddle chunks.
    pub chunk_elems: usize,
    pub chunks: Vec<wgpu::Buffer>,
    /// Bytes accounted in the pool (sum of buffer sizes).
    pub bytes: u64,
    /// Serialises direct mapping of this tensor's own buffers (Mapped path).
    pub map_lock: Mutex<()>,
    /// Set while a [`crate::MappedArray`] maps this tensor's own buffer.
    pub viewed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let pool = &self.gpu.shared.pool;
        pool.release(self.bytes);
        for b in self.chunks.drain(..) {
            pool.give(b);
        }
    }
}

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
        ((self.start - self.chunk * t.chunk_elems) * t.dtype.size_in_bytes()) as u64
    }

    /// Bytes of the piece, rounded up to whole words (the tail word is padding).
    pub fn padded_bytes(&self, t: &Inner) -> u64 {
        ((self.len * t.dtype.size_in_bytes()) as u64).next_multiple_of(4)
    }
}

impl Tensor {
    /// Allocates an uninitialised tensor (buffers from the pool).
    pub(crate) fn alloc(gpu: &Gpu, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        Self::alloc_chunked(gpu, dtype, shape, gpu.shared.max_chunk_bytes)
    }

    /// Allocates a small internal tensor (kernel outputs) in one buffer, whatever
    /// [`crate::GpuOptions::max_chunk_bytes`] says; up to the device's own limits.
    pub(crate) fn alloc_single(gpu: &Gpu, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let l = &gpu.shared.info.limits;
        let limit = l.max_buffer_size.min(l.max_storage_buffer_binding_size) & !255;
        Self::alloc_chunked(gpu, dtype, shape, limit)
    }

    fn alloc_chunked(gpu: &Gpu, dtype: DType, shape: &[usize], max_chunk: u64) -> Result<Tensor> {
        gpu.check()?;
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let size = dtype.size_in_bytes();
        let bytes = len.and_then(|n| dtype.bytes_for(n));
        let (Some(len), Some(_)) = (len, bytes) else {
            return Err(crate::Error::TooLarge {
                what: "tensor",
                limit: "address space",
                requested: u64::MAX,
                max: usize::MAX as u64,
            });
        };
        let shared = &gpu.shared;
        let chunk_elems = (max_chunk / size as u64) as usize;
        let n_chunks = len.div_ceil(chunk_elems).max(1);
        let usage = match shared.path {
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
                shared.pool.class((elems * size) as u64)
            })
            .collect();
        let bytes: u64 = sizes.iter().sum();
        shared.pool.reserve(bytes)?;
        let mut chunks = Vec::with_capacity(n_chunks);
        for s in sizes {
            match shared.pool.take(gpu, "tensor", s, usage) {
                Ok(b) => chunks.push(b),
                Err(e) => {
                    shared.pool.release(bytes);
                    for b in chunks {
                        shared.pool.give(b);
                    }
                    return Err(e);
                }
            }
        }
        Ok(Tensor {
            inner: Arc::new(Inner {
                gpu: gpu.clone(),
                dtype,
                shape: shape.to_vec(),
                len,
                chunk_elems,
                chunks,
                bytes,
                map_lock: Mutex::new(()),
                viewed: AtomicBool::new(false),
            }),
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
    /// except the last. Use them to bind the tensor in your own kernels.
    pub fn buffers(&self) -> &[wgpu::Buffer] {
        &self.inner.chunks
    }

    /// Elements per chunk buffer.
    pub fn chunk_elems(&self) -> usize {
        self.inner.chunk_elems
    }

    /// Splits the element range into pieces that each lie in one chunk and hold at most
    /// `max_bytes` bytes (rounded down to a multiple of 8 elements, so every piece starts at a
    /// byte offset that is a multiple of 8, as mapping requires).
    pub(crate) fn pieces(&self, max_bytes: u64) -> Vec<Piece> {
        let t = &self.inner;
        let size = t.dtype.size_in_bytes();
        let step = (((max_bytes as usize) / size) & !7).clamp(8, t.chunk_elems);
        let mut out = Vec::new();
        let mut start = 0;
        while start < t.len {
            let chunk = start / t.chunk_elems;
            let chunk_end = ((chunk + 1) * t.chunk_elems).min(t.len);
            let len = step.min(chunk_end - start);
            out.push(Piece { chunk, start, len });
            start += len;
        }
        out
    }
}
