//! Batching: many tensors in one call, one submission and one map wait for the whole set.
//!
//! A single small transfer is dominated by its fixed cost (a map wait, a submission). Batching
//! pays that once for the set: on the staged and web paths the tensors share staging buffers;
//! on the mapped path all their buffers are mapped with a single wait.

use ndarray::{ArrayD, ArrayView, Dimension, IxDyn};

use crate::core::layout::{Gather, cast_checked};
use crate::runtime::sync::block_on;
use crate::runtime::tensor::BLOCK_ITEM_MAX;
use crate::{DType, Element, Error, Gpu, Result, Tensor, TransferPath};

impl Gpu {
    /// Uploads many arrays in one batch: one map wait and one submission for the whole set
    /// (per 16 MiB staging buffer on the staged path). Each array may have any layout.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let arrays: Vec<Array2<f32>> = (0..8).map(|i| Array2::from_elem((16, 16), i as f32)).collect();
    /// let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    /// let tensors = gpu.upload_many(&views)?;
    /// let back = gpu.read_many::<f32>(&tensors.iter().collect::<Vec<_>>())?;
    /// assert_eq!(back[3], arrays[3].clone().into_dyn());
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload_many<T: Element, D: Dimension>(
        &self,
        arrays: &[ArrayView<'_, T, D>],
    ) -> Result<Vec<Tensor>> {
        let tensors = self.alloc_batch(T::DTYPE, arrays.iter().map(|a| a.shape()))?;
        let mut gathers: Vec<_> = arrays
            .iter()
            .map(|a| Gather::new(a.view().into_dyn()))
            .collect();
        self.write_all(&tensors.iter().collect::<Vec<_>>(), &mut gathers)?;
        Ok(tensors)
    }

    /// Tensors for a batch. On the mapped path, small ones share pooled blocks, so the whole
    /// batch maps and unmaps once; elsewhere each gets its own buffers (the staging buffers are
    /// what is shared there).
    fn alloc_batch<'a>(
        &self,
        dtype: DType,
        shapes: impl Iterator<Item = &'a [usize]>,
    ) -> Result<Vec<Tensor>> {
        let shapes: Vec<&[usize]> = shapes.collect();
        // Small: its aligned range fits a block without exceeding the buffer size cap.
        let cap = BLOCK_ITEM_MAX.min(self.max_chunk_bytes());
        let small = |s: &[usize]| {
            let bytes = s.iter().product::<usize>() as u64 * dtype.size_in_bytes() as u64;
            bytes.next_multiple_of(256).max(256) <= cap
        };
        if self.path() != TransferPath::Mapped || shapes.len() < 2 {
            return shapes
                .iter()
                .map(|s| Tensor::alloc(self, dtype, s))
                .collect();
        }
        // Small tensors go to blocks, the rest get their own buffers; order is kept.
        let (few, many): (Vec<usize>, Vec<usize>) =
            (0..shapes.len()).partition(|&i| !small(shapes[i]));
        let blocked = Tensor::alloc_block(
            self,
            dtype,
            &many.iter().map(|&i| shapes[i]).collect::<Vec<_>>(),
        )?;
        let mut out: Vec<Option<Tensor>> = vec![None; shapes.len()];
        for (i, t) in many.into_iter().zip(blocked) {
            out[i] = Some(t);
        }
        for i in few {
            out[i] = Some(Tensor::alloc(self, dtype, shapes[i])?);
        }
        Ok(out
            .into_iter()
            .map(|t| t.expect("every slot filled"))
            .collect())
    }

    /// [`Gpu::upload_many`] as a future, for async code. The host copy happens when it is first
    /// polled (uploads never wait for the device on the web path).
    pub async fn upload_many_async<T: Element, D: Dimension>(
        &self,
        arrays: &[ArrayView<'_, T, D>],
    ) -> Result<Vec<Tensor>> {
        self.upload_many(arrays)
    }

    /// Reads many tensors back in one batch: one submission and one map wait for the whole set
    /// (blocking, native only). Every tensor must hold `T`.
    pub fn read_many<T: Element>(&self, tensors: &[&Tensor]) -> Result<Vec<ArrayD<T>>> {
        block_on("Gpu::read_many", "Gpu::read_many_async().await", || {
            self.read_many_async(tensors)
        })?
    }

    /// [`Gpu::read_many`] without blocking (native and wasm).
    pub async fn read_many_async<T: Element>(&self, tensors: &[&Tensor]) -> Result<Vec<ArrayD<T>>> {
        for t in tensors {
            t.expect_dtype::<T>()?;
        }
        let mut out: Vec<Vec<T>> = tensors
            .iter()
            .map(|t| crate::core::fresh::vec_with_capacity(t.len()))
            .collect();
        let size = std::mem::size_of::<T>();
        self.visit_many(tensors, |i, view, _, len| {
            let v = &mut out[i];
            let src = cast_checked::<T>(&view[..len * size], v.len())?;
            crate::core::layout::extend_par(v, src);
            Ok(())
        })
        .await?;
        tensors
            .iter()
            .zip(out)
            .map(|(t, v)| {
                ArrayD::from_shape_vec(IxDyn(t.shape()), v).map_err(|e| Error::gpu(e.to_string()))
            })
            .collect()
    }
}
