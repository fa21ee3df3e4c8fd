//! Device → host: [`Tensor::to_array`], [`Tensor::read`], [`Tensor::read_into`].

use ndarray::{ArrayD, ArrayViewMut, Dimension};

use std::sync::Arc;

use web_time::Instant;

use crate::core::layout::Scatter;
use crate::runtime::sync::{block_on, map, map_covering};
use crate::runtime::timing::{Op, Span, host_copy, map_wait, submit};
use crate::transfer::staging::Plan;
use crate::{Element, Error, Gpu, Result, Tensor, TransferPath};

/// Mapped bytes handed to a visitor: a range of a mapped view. Derefs to the bytes; on the web
/// it also gives them as a JS `Uint8Array` over the mapping, without a copy into wasm memory.
pub(crate) struct Mapped<'a> {
    view: &'a wgpu::BufferView,
    range: std::ops::Range<usize>,
}

impl<'a> Mapped<'a> {
    fn whole(view: &'a wgpu::BufferView) -> Self {
        Mapped {
            view,
            range: 0..view.len(),
        }
    }

    fn part(view: &'a wgpu::BufferView, range: std::ops::Range<usize>) -> Self {
        Mapped { view, range }
    }

    /// The bytes as a JS `Uint8Array` over the mapped range.
    #[cfg(target_arch = "wasm32")]
    pub fn as_uint8array(&self) -> js_sys::Uint8Array {
        let (a, b) = (self.range.start as u32, self.range.end as u32);
        self.view.as_uint8array().subarray(a, b)
    }
}

impl std::ops::Deref for Mapped<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.view[self.range.clone()]
    }
}

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
        let mut v = self.gpu().read_many_async::<T>(&[self]).await?;
        Ok(v.pop().expect("one array per tensor"))
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

    /// Reads the tensor's raw elements (`N` = `dtype().size_in_bytes()` little-endian bytes
    /// each) into a view of any layout and alignment, such as a NumPy array's memory (blocking,
    /// native only). The view must have the tensor's shape.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr2(&[[1u16, 2], [3, 4]]))?;
    /// let mut out = ndarray::Array2::from_elem((2, 2), [0u8; 2]);
    /// t.read_elements_into(&mut out.view_mut().reversed_axes().into_dyn())?;
    /// assert_eq!(out[[1, 0]], [2, 0]); // transposed on the way in
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn read_elements_into<const N: usize>(
        &self,
        out: &mut ndarray::ArrayViewMutD<'_, [u8; N]>,
    ) -> Result<()> {
        if N != self.dtype().size_in_bytes() {
            return Err(Error::InvalidOption {
                name: "read_elements_into",
                value: format!("{N}-byte elements"),
                reason: format!(
                    "{} elements are {} bytes",
                    self.dtype(),
                    self.dtype().size_in_bytes()
                ),
            });
        }
        if out.shape() != self.shape() {
            return Err(Error::ShapeMismatch {
                expected: self.shape().to_vec(),
                got: out.shape().to_vec(),
            });
        }
        block_on(
            "Tensor::read_elements_into",
            "Tensor::read_into_async().await",
            || async {
                let mut scatter = Scatter::new(out);
                self.visit_bytes(|bytes| scatter.push(bytes)).await
            },
        )?
    }

    /// The raw little-endian element bytes, row-major (blocking, native only).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        block_on("Tensor::to_bytes", "Tensor::read_bytes().await", || {
            self.read_bytes()
        })?
    }

    /// The raw little-endian element bytes, row-major, without blocking.
    pub async fn read_bytes(&self) -> Result<Vec<u8>> {
        let mut out = crate::core::fresh::vec_with_capacity(self.size_in_bytes() as usize);
        self.visit_bytes(|b| {
            crate::core::layout::extend_par(&mut out, b);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Reads the raw little-endian element bytes, row-major, into `out` (blocking, native
    /// only), whatever the dtype. `out.len()` must be [`Tensor::size_in_bytes`].
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1u16, 0x0302]))?;
    /// let mut out = [0u8; 4];
    /// t.read_bytes_into(&mut out)?;
    /// assert_eq!(out, [1, 0, 2, 3]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn read_bytes_into(&self, out: &mut [u8]) -> Result<()> {
        block_on(
            "Tensor::read_bytes_into",
            "Tensor::read_bytes_into_async().await",
            || self.read_bytes_into_async(out),
        )?
    }

    /// [`Tensor::read_bytes_into`] without blocking.
    pub async fn read_bytes_into_async(&self, out: &mut [u8]) -> Result<()> {
        let size = self.dtype().size_in_bytes();
        if out.len() as u64 != self.size_in_bytes() {
            return Err(Error::ShapeMismatch {
                expected: vec![self.size_in_bytes() as usize],
                got: vec![out.len()],
            });
        }
        self.visit_mapped(|view, start, len| {
            out[start * size..(start + len) * size].copy_from_slice(&view[..len * size]);
            Ok(())
        })
        .await
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
        mut f: impl FnMut(Mapped<'_>, usize, usize) -> Result<()>,
    ) -> Result<()> {
        self.gpu()
            .visit_many(&[self], |_, view, start, len| f(view, start, len))
            .await
    }
}

impl Gpu {
    /// Maps the pieces of every tensor and hands each mapped view to `f(item, view, start,
    /// len)`, tensor by tensor and in row-major order within each. One map wait and one
    /// submission for the whole batch (per staging buffer on the staged path).
    pub(crate) async fn visit_many(
        &self,
        tensors: &[&Tensor],
        mut f: impl FnMut(usize, Mapped<'_>, usize, usize) -> Result<()>,
    ) -> Result<()> {
        self.check()?;
        for t in tensors {
            self.owns(t)?;
            t.check_not_viewed()?;
        }
        let bytes = tensors.iter().map(|t| t.size_in_bytes()).sum();
        let mut span = self.span(Op::Readback, bytes);
        if self.path() == TransferPath::Mapped && tensors.iter().all(|t| t.mappable()) {
            return self.visit_own_buffers(tensors, &mut span, f);
        }
        let plan = Plan::new(tensors, self.staging_chunk_bytes());
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let staging = plan.staging(self, "readback staging", usage)?;
        let copy = |k: usize, span: &mut Span| {
            let cmd = span.time(submit, || {
                plan.encode_copies(self, k, tensors, &staging[k % 2], false)
            });
            span.submit(self, [cmd]);
        };
        for k in 0..staging.len() {
            copy(k, &mut span);
        }
        let mut result = Ok(());
        for (k, (range, used)) in plan.groups.iter().enumerate() {
            let s = &staging[k % 2];
            let start = Instant::now();
            result = map(self, s.slice(0..*used), wgpu::MapMode::Read).await;
            span.since(map_wait, start);
            if result.is_err() {
                break;
            }
            for slot in &plan.slots[range.clone()] {
                result = span.time(host_copy, || {
                    match s
                        .slice(slot.offset..slot.offset + slot.bytes)
                        .get_mapped_range()
                    {
                        Ok(v) => f(
                            slot.item,
                            Mapped::whole(&v),
                            slot.piece.start,
                            slot.piece.len,
                        ),
                        Err(e) => Err(Error::map(e)),
                    }
                });
                if result.is_err() {
                    break;
                }
            }
            s.unmap();
            if result.is_err() {
                break;
            }
            if k + 2 < plan.groups.len() {
                copy(k + 2, &mut span);
            }
        }
        crate::runtime::pool::give_all(self.pool(), staging, result.is_ok());
        result
    }

    /// The mapped path: maps the tensors' own buffers (each tensor once, however often it is
    /// listed) with one wait, then reads them in place.
    fn visit_own_buffers(
        &self,
        tensors: &[&Tensor],
        span: &mut Span,
        mut f: impl FnMut(usize, Mapped<'_>, usize, usize) -> Result<()>,
    ) -> Result<()> {
        // Lock each distinct tensor once, in address order, so concurrent batches cannot
        // deadlock.
        let mut distinct: Vec<&Tensor> = tensors.to_vec();
        distinct.sort_by_key(|t| Arc::as_ptr(&t.inner));
        distinct.dedup_by_key(|t| Arc::as_ptr(&t.inner));
        // Tensors of one block share their lock: take each lock once.
        let mut locks: Vec<&std::sync::Mutex<()>> =
            distinct.iter().map(|t| &*t.inner.map_lock).collect();
        locks.sort_by_key(|l| *l as *const _);
        locks.dedup_by_key(|l| *l as *const _);
        let _guards: Vec<_> = locks
            .iter()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()))
            .collect();
        let slices: Vec<_> = distinct
            .iter()
            .flat_map(|t| {
                let inner = &t.inner;
                t.pieces(u64::MAX).map(move |p| p.slice(inner))
            })
            .collect();
        // The mapped path exists only natively, where mapping completes synchronously.
        let mapped = span.time(map_wait, || {
            map_covering(self, &slices, wgpu::MapMode::Read)
        })?;
        let start = Instant::now();
        let result = mapped.views().and_then(|views| {
            for (i, t) in tensors.iter().enumerate() {
                let inner = &t.inner;
                for p in t.pieces(u64::MAX) {
                    let at = p.offset(inner);
                    let (k, at) = mapped.find(&inner.chunks[p.chunk], at);
                    let range = at..at + p.padded_bytes(inner) as usize;
                    f(i, Mapped::part(&views[k], range), p.start, p.len)?;
                }
            }
            Ok(())
        });
        span.since(host_copy, start);
        mapped.unmap();
        result
    }

    /// Tensors of another `Gpu` cannot take part in this one's batches.
    pub(crate) fn owns(&self, t: &Tensor) -> Result<()> {
        if t.gpu().same(self) {
            Ok(())
        } else {
            Err(Error::WrongDevice {
                tensor: t.gpu().info().name.clone(),
                gpu: self.info().name.clone(),
            })
        }
    }
}
