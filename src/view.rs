//! Zero-copy readback: [`Tensor::view`] maps the data and lends it as an array view, for
//! callers who read it once and need no copy of their own.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use ndarray::{ArrayViewD, IxDyn};

use crate::layout::cast_checked;
use crate::sync::{block_on, map};
use crate::{Element, Error, Result, Tensor, TransferPath};

/// Mapped tensor data, borrowed straight from GPU-visible memory. Derefs to `[T]` (row-major);
/// [`MappedArray::view`] gives the n-d view. Dropping it unmaps the memory.
///
/// On the mapped path (unified memory, one chunk) this is the tensor's own buffer, and while
/// the guard lives the tensor cannot be used by the GPU or mapped again: those calls return
/// [`Error::Busy`]. Otherwise the data is first copied on the device into one staging buffer,
/// which goes back to the pool on drop; the host still copies nothing.
pub struct MappedArray<T: Element> {
    tensor: Tensor,
    buffer: wgpu::Buffer,
    /// `Some` until drop, which must release the view before unmapping.
    view: Option<wgpu::BufferView>,
    /// True when `buffer` is staging rather than the tensor's own storage.
    staged: bool,
    _elem: PhantomData<T>,
}

impl<T: Element> MappedArray<T> {
    /// The data as an n-d array view with the tensor's shape.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        ArrayViewD::from_shape(IxDyn(self.tensor.shape()), self).expect("length matches shape")
    }

    fn bytes(&self) -> &[u8] {
        let view = self.view.as_ref().expect("present until drop");
        &view[..self.tensor.len() * std::mem::size_of::<T>()]
    }
}

impl<T: Element> std::ops::Deref for MappedArray<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // Checked in `Tensor::view_async` (alignment and bool bytes); the mapping is immutable.
        cast_checked(self.bytes(), 0).expect("checked when mapped")
    }
}

impl<T: Element> std::fmt::Debug for MappedArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedArray")
            .field("tensor", &self.tensor)
            .field("staged", &self.staged)
            .finish()
    }
}

impl<T: Element> Drop for MappedArray<T> {
    fn drop(&mut self) {
        self.view = None;
        self.buffer.unmap();
        if self.staged {
            let pool = &self.tensor.gpu().shared.pool;
            if pool.class(self.buffer.size()) == self.buffer.size() {
                pool.give(self.buffer.clone());
            } else {
                self.buffer.destroy();
            }
        } else {
            self.tensor.inner.viewed.store(false, Ordering::Release);
        }
    }
}

impl Tensor {
    /// Maps the tensor and lends its data without copying it out (blocking, native only).
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr2(&[[1i32, 2], [3, 4]]))?;
    /// let m = t.view::<i32>()?;
    /// assert_eq!(m.view()[[1, 0]], 3);
    /// assert_eq!(m.iter().sum::<i32>(), 10);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn view<T: Element>(&self) -> Result<MappedArray<T>> {
        block_on("Tensor::view", "Tensor::view_async().await", || {
            self.view_async::<T>()
        })?
    }

    /// [`Tensor::view`] without blocking.
    pub async fn view_async<T: Element>(&self) -> Result<MappedArray<T>> {
        self.expect_dtype::<T>()?;
        let gpu = self.gpu();
        gpu.check()?;
        let inner = &self.inner;
        let bytes = (self.size_in_bytes().next_multiple_of(4)).max(4);
        let direct = gpu.shared.path == TransferPath::Mapped
            && inner.chunks.len() == 1
            && inner.block.is_none();
        let (buffer, staged) = if direct {
            (inner.chunks[0].clone(), false)
        } else {
            (self.copy_to_staging(bytes)?, true)
        };
        let slice = buffer.slice(0..bytes);
        let mapped = if direct {
            // Claim and map under the tensor's lock, so no GPU submission using the buffer can
            // slip in between (those take the lock and then see the claim).
            let _lock = self.lock_map();
            self.claim()?;
            crate::sync::map_now(gpu, slice, wgpu::MapMode::Read)
        } else {
            map(gpu, slice, wgpu::MapMode::Read).await
        };
        if let Err(e) = mapped {
            if staged {
                buffer.destroy();
            } else {
                inner.viewed.store(false, Ordering::Release);
            }
            return Err(e);
        }
        // From here on, the guard's drop unmaps and releases whatever happens.
        let mut guard = MappedArray {
            tensor: self.clone(),
            buffer: buffer.clone(),
            view: None,
            staged,
            _elem: PhantomData,
        };
        guard.view = Some(
            slice
                .get_mapped_range()
                .map_err(|e| Error::Map(e.to_string()))?,
        );
        cast_checked::<T>(guard.bytes(), 0)?;
        Ok(guard)
    }

    /// Copies every chunk, on the device, into one staging buffer (pooled when it fits a pool
    /// size class).
    fn copy_to_staging(&self, bytes: u64) -> Result<wgpu::Buffer> {
        let gpu = self.gpu();
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let limits = &gpu.shared.info.limits;
        if bytes > limits.max_buffer_size {
            return Err(Error::TooLarge {
                what: "mapped view",
                limit: "max_buffer_size",
                requested: bytes,
                max: limits.max_buffer_size,
            });
        }
        let pool = &gpu.shared.pool;
        let class = pool.class(bytes);
        let staging = if class >= bytes {
            pool.take(gpu, "view staging", class, usage)?
        } else {
            gpu.create_buffer("view staging", bytes, usage)?
        };
        let inner = &self.inner;
        let mut enc = gpu.device().create_command_encoder(&Default::default());
        for p in self.pieces(u64::MAX) {
            let at = (p.start * inner.dtype.size_in_bytes()) as u64;
            let len = p.padded_bytes(inner);
            enc.copy_buffer_to_buffer(&inner.chunks[p.chunk], p.offset(inner), &staging, at, len);
        }
        let mut span = gpu.span(crate::stats::Op::Readback, self.size_in_bytes());
        span.submit(gpu, [enc.finish()]);
        Ok(staging)
    }

    /// Marks the tensor as mapped by a view, or says it already is.
    fn claim(&self) -> Result<()> {
        self.inner
            .viewed
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| self.busy())
    }

    /// [`Error::Busy`] when a [`MappedArray`] holds this tensor's own buffer.
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
    fn lock_map(&self) -> std::sync::MutexGuard<'_, ()> {
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
