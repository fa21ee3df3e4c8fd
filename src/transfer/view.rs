//! Zero-copy readback: [`Tensor::view`] maps the data and lends it as an array view, for
//! callers who read it once and need no copy of their own.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use ndarray::{ArrayViewD, IxDyn};

use crate::core::layout::cast_checked;
use crate::runtime::sync::{block_on, map};
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
            let pool = self.tensor.gpu().pool();
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
        let direct = gpu.path() == TransferPath::Mapped
            && inner.chunks.len() == 1
            && inner.block.is_none()
            && !inner.foreign;
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
            crate::runtime::sync::map_now(gpu, slice, wgpu::MapMode::Read)
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
        guard.view = Some(slice.get_mapped_range().map_err(Error::map)?);
        cast_checked::<T>(guard.bytes(), 0)?;
        Ok(guard)
    }

    /// Copies every chunk, on the device, into one staging buffer (pooled when it fits a pool
    /// size class).
    fn copy_to_staging(&self, bytes: u64) -> Result<wgpu::Buffer> {
        let gpu = self.gpu();
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let limits = gpu.limits();
        if bytes > limits.max_buffer_size {
            return Err(Error::TooLarge {
                what: "mapped view",
                limit: "max_buffer_size",
                requested: bytes,
                max: limits.max_buffer_size,
            });
        }
        let pool = gpu.pool();
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
        let mut span = gpu.span(crate::runtime::timing::Op::Readback, self.size_in_bytes());
        span.submit(gpu, [enc.finish()]);
        Ok(staging)
    }
}
