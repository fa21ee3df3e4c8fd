//! Host array → device: [`Gpu::upload`]. One host copy, with any layout fix-up done during it.

use ndarray::{ArrayBase, ArrayView1, Data, Dimension};

use crate::core::layout::Gather;
use crate::runtime::sync::{map_covering, map_now};
use crate::runtime::tensor::Piece;
use crate::runtime::timing::{Op, Span, host_copy, map_wait, submit};
use crate::transfer::staging::Plan;
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
        self.write_all(&[&tensor], &mut [Gather::new(view)])?;
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
            crate::core::layout::cast_checked::<bool>(bytes, 0)?;
        }
        let tensor = Tensor::alloc(self, dtype, shape)?;
        let gather = Gather::new(ArrayView1::from(bytes).into_dyn());
        self.write_all(&[&tensor], &mut [gather])?;
        Ok(tensor)
    }

    /// Uploads raw elements of `dtype` from a view of any layout (strided, reversed, Fortran
    /// order, 0-d, empty): each element is `N` bytes (`dtype.size_in_bytes()`), little-endian,
    /// and may sit at any alignment. This is how a caller that holds untyped memory (a NumPy
    /// array through the buffer protocol, say) uploads it with the one copy, the layout fixed
    /// up during it. bool bytes must be 0 or 1.
    ///
    /// ```
    /// use tensorbridge::DType;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// // Four u16 as little-endian byte pairs, uploaded transposed.
    /// let bytes: Vec<[u8; 2]> = vec![[1, 0], [2, 0], [3, 0], [4, 0]];
    /// let view = ndarray::ArrayView2::from_shape((2, 2), &bytes).unwrap();
    /// let t = gpu.upload_elements(&view.t().into_dyn(), DType::U16)?;
    /// assert_eq!(t.to_array::<u16>()?.into_raw_vec_and_offset().0, [1, 3, 2, 4]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload_elements<const N: usize>(
        &self,
        view: &ndarray::ArrayViewD<'_, [u8; N]>,
        dtype: DType,
    ) -> Result<Tensor> {
        if N != dtype.size_in_bytes() {
            return Err(Error::InvalidOption {
                name: "upload_elements",
                value: format!("{N}-byte elements"),
                reason: format!("{dtype} elements are {} bytes", dtype.size_in_bytes()),
            });
        }
        if dtype == DType::Bool
            && let Some((index, e)) = view.iter().enumerate().find(|(_, e)| e[0] > 1)
        {
            return Err(Error::InvalidBool { index, value: e[0] });
        }
        let tensor = Tensor::alloc(self, dtype, view.shape())?;
        self.write_all(&[&tensor], &mut [Gather::new(view.view())])?;
        Ok(tensor)
    }

    /// Uploads a small internal array (kernel inputs or outputs) into one buffer, whatever the
    /// configured chunk size.
    pub(crate) fn upload_single<T: Element>(&self, data: &[T]) -> Result<Tensor> {
        let t = Tensor::alloc_single(self, T::DTYPE, &[data.len()])?;
        let view = ArrayView1::from(data).into_dyn();
        self.write_all(&[&t], &mut [Gather::new(view)])?;
        Ok(t)
    }

    /// Writes all of the gathered elements into the tensors by this device's transfer path: one
    /// map wait and one submission for the whole batch (per staging buffer on the staged path).
    pub(crate) fn write_all<T: bytemuck::NoUninit>(
        &self,
        tensors: &[&Tensor],
        gathers: &mut [Gather<'_, T>],
    ) -> Result<()> {
        self.check()?;
        let bytes = tensors.iter().map(|t| t.size_in_bytes()).sum();
        let mut span = self.span(Op::Upload, bytes);
        // A caller's buffer (adopted, or `upload_into`'s) is written through staging even on
        // the mapped path, unless it is mappable itself.
        let own = tensors.iter().all(|t| t.mappable());
        match self.path() {
            TransferPath::Mapped if own => self.write_mapped(tensors, gathers, &mut span)?,
            TransferPath::Mapped | TransferPath::Staged => {
                self.write_staged(tensors, gathers, &mut span)?
            }
            TransferPath::Web => self.write_queue(tensors, gathers, &mut span)?,
        }
        self.check()
    }

    /// Writes straight into the tensors' own mappable buffers, mapping them all with one wait.
    fn write_mapped<T: bytemuck::NoUninit>(
        &self,
        tensors: &[&Tensor],
        g: &mut [Gather<'_, T>],
        span: &mut Span,
    ) -> Result<()> {
        let pieces: Vec<(usize, Piece)> = tensors
            .iter()
            .enumerate()
            .flat_map(|(i, t)| t.pieces(u64::MAX).map(move |p| (i, p)))
            .collect();
        let slices: Vec<_> = pieces
            .iter()
            .map(|&(i, p)| p.slice(&tensors[i].inner))
            .collect();
        let mapped = span.time(map_wait, || {
            map_covering(self, &slices, wgpu::MapMode::Write)
        })?;
        // One clock read for the whole loop: per-piece timing costs more than small copies.
        let start = web_time::Instant::now();
        let result = mapped.views_mut().map(|mut views| {
            for (&(i, p), slice) in pieces.iter().zip(&slices) {
                let (k, at) = mapped.find(slice.buffer(), slice.offset());
                let size = tensors[i].dtype().size_in_bytes();
                g[i].fill(views[k].slice(at..at + p.len * size));
            }
        });
        mapped.unmap();
        span.since(host_copy, start);
        result
    }

    /// Writes through two reused staging buffers, alternating, so the host copy into one
    /// overlaps the device copy out of the other. Small tensors share a staging buffer.
    fn write_staged<T: bytemuck::NoUninit>(
        &self,
        tensors: &[&Tensor],
        g: &mut [Gather<'_, T>],
        span: &mut Span,
    ) -> Result<()> {
        let plan = Plan::new(tensors, self.staging_chunk_bytes());
        let usage = wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC;
        let staging = plan.staging(self, "upload staging", usage)?;
        let result = (|| {
            for (k, (range, used)) in plan.groups.iter().enumerate() {
                let s = &staging[k % 2];
                let slice = s.slice(0..*used);
                span.time(map_wait, || map_now(self, slice, wgpu::MapMode::Write))?;
                let filled = span.time(host_copy, || {
                    let mut v = slice.get_mapped_range_mut().map_err(Error::map)?;
                    for slot in &plan.slots[range.clone()] {
                        let at = slot.offset as usize;
                        let len = slot.piece.len * tensors[slot.item].dtype().size_in_bytes();
                        g[slot.item].fill(v.slice(at..at + len));
                    }
                    Ok::<_, Error>(())
                });
                s.unmap();
                filled?;
                let cmd = span.time(submit, || plan.encode_copies(self, k, tensors, s, true));
                span.submit(self, [cmd]);
            }
            Ok(())
        })();
        crate::runtime::pool::give_all(self.pool(), staging, result.is_ok());
        result
    }

    /// Writes through `queue.write_buffer` (the web path; also usable natively).
    fn write_queue<T: bytemuck::NoUninit>(
        &self,
        tensors: &[&Tensor],
        g: &mut [Gather<'_, T>],
        span: &mut Span,
    ) -> Result<()> {
        for (i, t) in tensors.iter().enumerate() {
            let inner = &t.inner;
            for p in t.pieces(self.staging_chunk_bytes()) {
                let bytes = p.padded_bytes(inner);
                let Some(size) = std::num::NonZeroU64::new(bytes) else {
                    continue;
                };
                let buf = &inner.chunks[p.chunk];
                let queue = self.queue();
                match queue.write_buffer_with(buf, p.offset(inner), size) {
                    Some(mut v) => span.time(host_copy, || {
                        g[i].fill(v.slice(..p.len * inner.dtype.size_in_bytes()))
                    }),
                    None => return Err(self.lost_or("queue.write_buffer_with refused".into())),
                }
            }
        }
        span.submit(self, []);
        Ok(())
    }
}
