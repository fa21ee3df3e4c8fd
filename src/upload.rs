//! Host array → device: [`Gpu::upload`]. One host copy, with any layout fix-up done during it.

use ndarray::{ArrayBase, ArrayView1, Data, Dimension};

use crate::layout::Gather;
use crate::sync::map_now;
use crate::{DType, Element, Error, Gpu, Result, Tensor, TransferPath};

impl Gpu {
    /// Uploads an array (owned, view, transposed, stepped, Fortran-order, 0-d or empty) as its raw
    /// bytes. No element is converted on the host.
    ///
    /// Cost: exactly one copy of the data, from the array into GPU-visible memory, made in
    /// row-major order whatever the array's strides. On the [`TransferPath::Mapped`] path that
    /// memory *is* the tensor's storage buffer; on [`TransferPath::Staged`] it is one of two
    /// reused 16 MiB staging buffers followed by a device copy. Buffers come from the pool, so a
    /// steady stream of uploads allocates nothing. Blocks natively until the host copy is done;
    /// device copies may still be in flight (later GPU work is ordered after them).
    ///
    /// ```
    /// use ndarray::array;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    /// let t = gpu.upload(&a.t())?; // transposed view: becomes row-major during the copy
    /// assert_eq!(t.shape(), &[3, 2]);
    /// assert_eq!(t.to_array::<f32>()?, a.t().into_dyn());
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload<S, D, T>(&self, array: &ArrayBase<S, D>) -> Result<Tensor>
    where
        S: Data<Elem = T>,
        D: Dimension,
        T: Element,
    {
        let view = array.view().into_dyn();
        let tensor = Tensor::alloc(self, T::DTYPE, view.shape())?;
        self.write(&tensor, Gather::new(view))?;
        Ok(tensor)
    }

    /// Uploads raw little-endian element bytes as a tensor of `dtype` and `shape` (row-major).
    /// `bytes.len()` must be `shape.product() * dtype.size_in_bytes()`; bool bytes must be 0 or 1.
    ///
    /// ```
    /// use tensorbridge::DType;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload_bytes(&1.5f32.to_le_bytes(), DType::F32, &[])?;
    /// assert_eq!(t.to_array::<f32>()?.first(), Some(&1.5));
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload_bytes(&self, bytes: &[u8], dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if len.and_then(|n| n.checked_mul(dtype.size_in_bytes())) != Some(bytes.len()) {
            return Err(Error::ShapeMismatch {
                expected: shape.to_vec(),
                got: vec![bytes.len() / dtype.size_in_bytes()],
            });
        }
        if dtype == DType::Bool {
            crate::layout::cast_checked::<bool>(bytes, 0)?;
        }
        let tensor = Tensor::alloc(self, dtype, shape)?;
        self.write(&tensor, Gather::new(ArrayView1::from(bytes).into_dyn()))?;
        Ok(tensor)
    }

    /// Writes all of the gathered elements into `tensor` by this device's transfer path.
    fn write<T: Element>(&self, tensor: &Tensor, mut gather: Gather<'_, T>) -> Result<()> {
        match self.shared.path {
            TransferPath::Mapped => self.write_mapped(tensor, &mut gather)?,
            TransferPath::Staged => self.write_staged(tensor, &mut gather)?,
            TransferPath::Web => self.write_queue(tensor, &mut gather)?,
        }
        self.check()
    }

    /// Writes straight into the tensor's own mappable buffers.
    fn write_mapped<T: Element>(&self, t: &Tensor, g: &mut Gather<'_, T>) -> Result<()> {
        let inner = &t.inner;
        for p in t.pieces(u64::MAX) {
            let buf = &inner.chunks[p.chunk];
            let slice = buf.slice(0..p.padded_bytes(inner));
            map_now(self, slice, wgpu::MapMode::Write)?;
            let filled = slice
                .get_mapped_range_mut()
                .map(|mut v| g.fill(v.slice(..p.len * inner.dtype.size_in_bytes())));
            buf.unmap();
            filled.map_err(|e| crate::Error::Map(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes through two reused staging buffers, alternating, so the host copy of piece k+1
    /// overlaps the device copy of piece k.
    fn write_staged<T: Element>(&self, t: &Tensor, g: &mut Gather<'_, T>) -> Result<()> {
        let inner = &t.inner;
        let pieces = t.pieces(self.staging_chunk_bytes());
        let Some(largest) = pieces.iter().map(|p| p.padded_bytes(inner)).max() else {
            return Ok(());
        };
        let pool = &self.shared.pool;
        let class = pool.class(largest);
        let usage = wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC;
        let mut staging = Vec::with_capacity(2);
        for _ in 0..pieces.len().min(2) {
            staging.push(pool.take(self, "upload staging", class, usage)?);
        }
        let result = (|| {
            for (k, p) in pieces.iter().enumerate() {
                let s = &staging[k % 2];
                let bytes = p.padded_bytes(inner);
                let slice = s.slice(0..bytes);
                map_now(self, slice, wgpu::MapMode::Write)?;
                let filled = slice
                    .get_mapped_range_mut()
                    .map(|mut v| g.fill(v.slice(..p.len * inner.dtype.size_in_bytes())));
                s.unmap();
                filled.map_err(|e| crate::Error::Map(e.to_string()))?;
                let mut enc = self
                    .shared
                    .device
                    .create_command_encoder(&Default::default());
                enc.copy_buffer_to_buffer(s, 0, &inner.chunks[p.chunk], p.offset(inner), bytes);
                self.shared.queue.submit([enc.finish()]);
            }
            Ok(())
        })();
        crate::pool::give_all(pool, staging, result.is_ok());
        result
    }

    /// Writes through `queue.write_buffer` (the web path; also usable natively).
    fn write_queue<T: Element>(&self, t: &Tensor, g: &mut Gather<'_, T>) -> Result<()> {
        let inner = &t.inner;
        for p in t.pieces(self.staging_chunk_bytes()) {
            let bytes = p.padded_bytes(inner);
            let Some(size) = std::num::NonZeroU64::new(bytes) else {
                continue;
            };
            let buf = &inner.chunks[p.chunk];
            match self
                .shared
                .queue
                .write_buffer_with(buf, p.offset(inner), size)
            {
                Some(mut v) => g.fill(v.slice(..p.len * inner.dtype.size_in_bytes())),
                None => return Err(self.lost_or("queue.write_buffer_with refused".into())),
            }
        }
        self.shared.queue.submit([]);
        Ok(())
    }
}
