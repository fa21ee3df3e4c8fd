//! Device → host: [`Tensor::to_array`], [`Tensor::read`], [`Tensor::read_into`].

use ndarray::{ArrayD, ArrayViewMut, Dimension, IxDyn};

use crate::layout::{Scatter, cast_checked};
use crate::sync::{block_on, map};
use crate::{Element, Error, Result, Tensor, TransferPath};

impl Tensor {
    /// Reads the tensor back into a new array (blocking, native only).
    ///
    /// Cost: one copy out of mapped memory into the new array (plus, on the
    /// [`TransferPath::Staged`] path, device copies into two reused staging buffers). The new
    /// array's memory is fresh, so its first touch page-faults; for repeated reads prefer
    /// [`Tensor::read_into`] with a reused destination.
    ///
    /// Reading as a type other than the tensor's dtype is [`Error::DTypeMismatch`]; use
    /// [`Tensor::to_array_as`] to cast on the device first.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1u16, 2, 3]))?;
    /// assert_eq!(t.to_array::<u16>()?.as_slice().unwrap(), &[1, 2, 3]);
    /// assert!(t.to_array::<i16>().is_err());
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn to_array<T: Element>(&self) -> Result<ArrayD<T>> {
        block_on("Tensor::to_array", "Tensor::read().await", || {
            self.read::<T>()
        })?
    }

    /// Reads the tensor back into a new array, without blocking (native and wasm).
    pub async fn read<T: Element>(&self) -> Result<ArrayD<T>> {
        self.expect_dtype::<T>()?;
        let mut out: Vec<T> = Vec::with_capacity(self.len());
        self.visit_bytes(|bytes| {
            out.extend_from_slice(cast_checked::<T>(bytes, out.len())?);
            Ok(())
        })
        .await?;
        ArrayD::from_shape_vec(IxDyn(self.shape()), out).map_err(|e| Error::Gpu(e.to_string()))
    }

    /// Reads the tensor straight into the caller's memory (blocking, native only). The view
    /// must have the tensor's shape and may have any layout (strided, transposed, reversed).
    ///
    /// Cost: one copy from mapped memory into `out`; nothing is allocated.
    pub fn read_into<T: Element, D: Dimension>(
        &self,
        out: &mut ArrayViewMut<'_, T, D>,
    ) -> Result<()> {
        block_on(
            "Tensor::read_into",
            "Tensor::read_into_async().await",
            || self.read_into_async(out),
        )?
    }

    /// [`Tensor::read_into`] without blocking.
    pub async fn read_into_async<T: Element, D: Dimension>(
        &self,
        out: &mut ArrayViewMut<'_, T, D>,
    ) -> Result<()> {
        self.expect_dtype::<T>()?;
        if out.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                expected: self.shape().to_vec(),
                got: out.shape().to_vec(),
            });
        }
        let mut dynamic = out.view_mut().into_dyn();
        let mut scatter = Scatter::new(&mut dynamic);
        self.visit_bytes(|bytes| scatter.push(bytes)).await
    }

    /// The raw little-endian element bytes, row-major (blocking, native only).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        block_on("Tensor::to_bytes", "Tensor::read_bytes().await", || {
            self.read_bytes()
        })?
    }

    /// The raw little-endian element bytes, row-major, without blocking.
    pub async fn read_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size_in_bytes() as usize);
        self.visit_bytes(|b| {
            out.extend_from_slice(b);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    pub(crate) fn expect_dtype<T: Element>(&self) -> Result<()> {
        if T::DTYPE != self.dtype() {
            return Err(Error::DTypeMismatch {
                actual: self.dtype(),
                requested: T::DTYPE,
            });
        }
        Ok(())
    }

    /// Hands the tensor's bytes, in row-major order and in pieces, to `f`, straight from
    /// mapped memory.
    pub(crate) async fn visit_bytes(&self, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let size = self.dtype().size_in_bytes();
        self.visit_mapped(|view, _start, len| f(&view[..len * size]))
            .await
    }

    /// Maps the tensor piece by piece and hands each mapped view to `f` with the piece's first
    /// element and its element count. The view may be longer than the piece (word padding).
    ///
    /// On the web, `f` can read the view as a JS `Uint8Array` without a copy into wasm memory.
    pub(crate) async fn visit_mapped(
        &self,
        mut f: impl FnMut(&wgpu::BufferView, usize, usize) -> Result<()>,
    ) -> Result<()> {
        let gpu = self.gpu();
        gpu.check()?;
        let inner = &self.inner;
        if gpu.shared.path == TransferPath::Mapped {
            let _guard = inner.map_lock.lock().unwrap_or_else(|p| p.into_inner());
            for p in self.pieces(u64::MAX) {
                let buf = &inner.chunks[p.chunk];
                let slice = buf.slice(0..p.padded_bytes(inner));
                // The Mapped path exists only natively, where mapping completes synchronously.
                crate::sync::map_now(gpu, slice, wgpu::MapMode::Read)?;
                let r = match slice.get_mapped_range() {
                    Ok(v) => f(&v, p.start, p.len),
                    Err(e) => Err(Error::Map(e.to_string())),
                };
                buf.unmap();
                r?;
            }
            return Ok(());
        }
        let pieces = self.pieces(gpu.staging_chunk_bytes());
        let Some(largest) = pieces.iter().map(|p| p.padded_bytes(inner)).max() else {
            return Ok(());
        };
        let pool = &gpu.shared.pool;
        let class = pool.class(largest);
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let mut staging = Vec::with_capacity(2);
        for _ in 0..pieces.len().min(2) {
            staging.push(pool.take(gpu, "readback staging", class, usage)?);
        }
        let copy = |k: usize| {
            let p = pieces[k];
            let mut enc = gpu
                .shared
                .device
                .create_command_encoder(&Default::default());
            enc.copy_buffer_to_buffer(
                &inner.chunks[p.chunk],
                p.offset(inner),
                &staging[k % 2],
                0,
                p.padded_bytes(inner),
            );
            gpu.shared.queue.submit([enc.finish()]);
        };
        for k in 0..staging.len() {
            copy(k);
        }
        let mut result = Ok(());
        for (k, p) in pieces.iter().enumerate() {
            let s = &staging[k % 2];
            let slice = s.slice(0..p.padded_bytes(inner));
            if let Err(e) = map(gpu, slice, wgpu::MapMode::Read).await {
                result = Err(e);
                break;
            }
            let r = match slice.get_mapped_range() {
                Ok(v) => f(&v, p.start, p.len),
                Err(e) => Err(Error::Map(e.to_string())),
            };
            s.unmap();
            if let Err(e) = r {
                result = Err(e);
                break;
            }
            if k + 2 < pieces.len() {
                copy(k + 2);
            }
        }
        crate::pool::give_all(pool, staging, result.is_ok());
        result
    }
}
