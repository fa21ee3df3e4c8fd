//! Row-major ordering of host arrays of any layout, done during the one host copy.
//!
//! An ndarray view may be transposed, Fortran-ordered, stepped or reversed. The device always
//! holds row-major (C-order) elements. [`Gather`] reads a view in row-major order straight into
//! mapped GPU memory, and [`Scatter`] writes row-major bytes from mapped memory straight into a
//! view. Neither makes a second pass over the data; strided lanes go through a small bounce
//! buffer that stays in L1 cache.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, Slice};

use crate::{Error, Result};

/// Elements per bounce-buffer round (16 KiB of f32).
const BOUNCE: usize = 4096;

/// Index of the lane containing row-major position `pos`, unravelled over the outer axes.
fn outer_index(shape: &[usize], mut lane: usize, out: &mut Vec<usize>) {
    out.clear();
    out.resize(shape.len().saturating_sub(1), 0);
    for i in (0..out.len()).rev() {
        out[i] = lane % shape[i];
        lane /= shape[i];
    }
}

/// Reads a view's elements in row-major order, a range at a time.
pub(crate) struct Gather<'a, T> {
    view: ArrayViewD<'a, T>,
    contiguous: Option<&'a [T]>,
    pos: usize,
    idx: Vec<usize>,
    bounce: Vec<T>,
}

impl<'a, T: bytemuck::NoUninit> Gather<'a, T> {
    pub fn new(mut view: ArrayViewD<'a, T>) -> Self {
        let contiguous = view.to_slice();
        if contiguous.is_none() {
            squeeze(&mut view);
        }
        let contiguous = contiguous.or_else(|| view.to_slice());
        Gather {
            view,
            contiguous,
            pos: 0,
            idx: Vec::new(),
            bounce: Vec::new(),
        }
    }

    /// Writes the next `dst.len() / size_of::<T>()` elements into `dst` (e.g. a mapped range).
    pub fn fill(&mut self, mut dst: wgpu::WriteOnly<'_, [u8]>) {
        let size = std::mem::size_of::<T>();
        let count = dst.len() / size;
        let end = self.pos + count;
        if let Some(s) = self.contiguous {
            dst.copy_from_slice(bytemuck::cast_slice(&s[self.pos..end]));
            self.pos = end;
            return;
        }
        let inner = *self.view.shape().last().unwrap_or(&1);
        while self.pos < end {
            let (lane_no, off) = (self.pos / inner, self.pos % inner);
            let take = (inner - off).min(end - self.pos);
            outer_index(self.view.shape(), lane_no, &mut self.idx);
            let mut lane = self.view.view();
            for &i in &self.idx {
                lane.index_axis_inplace(Axis(0), i);
            }
            lane.slice_axis_inplace(Axis(0), Slice::from(off..off + take));
            let (head, tail) = dst.split_at(take * size);
            dst = tail;
            match lane.to_slice() {
                Some(s) => {
                    let mut head = head;
                    head.copy_from_slice(bytemuck::cast_slice(s));
                }
                None => {
                    let mut head = head;
                    let mut it = lane.iter().copied();
                    let mut done = 0;
                    while done < take {
                        let n = (take - done).min(BOUNCE);
                        self.bounce.clear();
                        self.bounce.extend(it.by_ref().take(n));
                        let (h, t) = head.split_at(n * size);
                        head = t;
                        let mut h = h;
                        h.copy_from_slice(bytemuck::cast_slice(&self.bounce));
                        done += n;
                    }
                }
            }
            self.pos += take;
        }
    }
}

/// Writes row-major elements into a view of any layout, a range at a time.
pub(crate) struct Scatter<'v, T> {
    view: ArrayViewMutD<'v, T>,
    /// The (simplified) view's shape, kept so a push allocates nothing.
    shape: Vec<usize>,
    pos: usize,
    idx: Vec<usize>,
}

impl<'v, T: bytemuck::CheckedBitPattern + bytemuck::NoUninit + Send + Sync> Scatter<'v, T> {
    pub fn new<'a: 'v>(view: &'v mut ArrayViewMutD<'a, T>) -> Self {
        let mut view = view.view_mut();
        if !view.is_standard_layout() {
            squeeze(&mut view);
        }
        Scatter {
            shape: view.shape().to_vec(),
            view,
            pos: 0,
            idx: Vec::new(),
        }
    }

    /// Writes the elements in `bytes` (row-major, little-endian) at the current position.
    ///
    /// Bytes are checked before anything is written: a bool byte other than 0 or 1 is
    /// [`Error::InvalidBool`].
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        let src: &[T] = cast_checked(bytes, self.pos)?;
        let end = self.pos + src.len();
        if let Some(s) = self.view.as_slice_mut() {
            par_copy(&mut s[self.pos..end], src);
            self.pos = end;
            return Ok(());
        }
        let inner = *self.shape.last().unwrap_or(&1);
        let mut src = src;
        while self.pos < end {
            let (lane_no, off) = (self.pos / inner, self.pos % inner);
            let take = (inner - off).min(end - self.pos);
            outer_index(&self.shape, lane_no, &mut self.idx);
            let mut lane = self.view.view_mut();
            for &i in &self.idx {
                lane.index_axis_inplace(Axis(0), i);
            }
            lane.slice_axis_inplace(Axis(0), Slice::from(off..off + take));
            let (head, rest) = src.split_at(take);
            src = rest;
            lane.assign(&ArrayViewD::from_shape(ndarray::IxDyn(&[take]), head).expect("1-D"));
            self.pos += take;
        }
        Ok(())
    }
}

/// Copies `src` into `dst`, split across the machine's cores when it is large. Reading into a
/// new array is bound by the first touch of its pages (page faults), which run in parallel;
/// BENCHMARKS.md has the numbers. Below a few MiB per thread a plain copy is faster.
fn par_copy<T: Copy + Send + Sync>(dst: &mut [T], src: &[T]) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        const MIN_BYTES_PER_THREAD: usize = 8 << 20;
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let cores = *CORES
            .get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)));
        let threads = cores.min(std::mem::size_of_val(src) / MIN_BYTES_PER_THREAD);
        if threads > 1 {
            let per = src.len().div_ceil(threads);
            std::thread::scope(|scope| {
                for (d, s) in dst.chunks_mut(per).zip(src.chunks(per)) {
                    scope.spawn(move || d.copy_from_slice(s));
                }
            });
            return;
        }
    }
    dst.copy_from_slice(src);
}

/// Appends `src` to `v` with [`par_copy`]: a new array's pages are first touched by the copy
/// itself, on every core, instead of by a single-threaded `extend_from_slice`.
pub(crate) fn extend_par<T: Copy + Send + Sync>(v: &mut Vec<T>, src: &[T]) {
    let start = v.len();
    v.reserve(src.len());
    let spare = &mut v.spare_capacity_mut()[..src.len()];
    // SAFETY: MaybeUninit<T> has T's layout, and an initialised T is a valid MaybeUninit<T>.
    let src_uninit = unsafe {
        std::slice::from_raw_parts(src.as_ptr().cast::<std::mem::MaybeUninit<T>>(), src.len())
    };
    par_copy(spare, src_uninit);
    // SAFETY: the `src.len()` elements after `start` were just written.
    unsafe { v.set_len(start + src.len()) };
}

/// Views row-major little-endian bytes as elements, rejecting invalid bool bytes.
pub(crate) fn cast_checked<T: bytemuck::CheckedBitPattern>(
    bytes: &[u8],
    first_index: usize,
) -> Result<&[T]> {
    bytemuck::checked::try_cast_slice(bytes).map_err(|e| match e {
        bytemuck::checked::CheckedCastError::InvalidBitPattern => {
            let (i, v) = bytes
                .iter()
                .enumerate()
                .find(|&(_, &b)| b > 1)
                .map(|(i, &b)| (i, b))
                .unwrap_or((0, 0));
            Error::InvalidBool {
                index: first_index + i,
                value: v,
            }
        }
        other => Error::gpu(format!("mapped memory cast: {other}")),
    })
}

/// Removes length-1 axes and merges axes that are contiguous with each other.
fn squeeze<S: ndarray::Data>(view: &mut ndarray::ArrayBase<S, ndarray::IxDyn>) {
    if view.is_empty() {
        return;
    }
    loop {
        while view.ndim() > 1 {
            match view.shape().iter().position(|&d| d == 1) {
                Some(ax) => view.index_axis_inplace(Axis(ax), 0),
                None => break,
            }
        }
        let mut merged = false;
        for i in (0..view.ndim().saturating_sub(1)).rev() {
            if view.merge_axes(Axis(i), Axis(i + 1)) {
                merged = true;
                break;
            }
        }
        if !merged || view.ndim() <= 1 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Element;
    use ndarray::{Array, ArrayD, IxDyn, s};

    fn gather_all<T: Element + bytemuck::Pod>(v: ArrayViewD<'_, T>, piece: usize) -> Vec<T> {
        let size = std::mem::size_of::<T>();
        // A typed destination, so the bytes are aligned for T (as mapped ranges are).
        let mut out = vec![T::zeroed(); v.len()];
        let mut g = Gather::new(v);
        for chunk in bytemuck::cast_slice_mut::<T, u8>(&mut out).chunks_mut(piece * size) {
            g.fill(wgpu::WriteOnly::from_mut(chunk));
        }
        out
    }

    #[test]
    fn gather_matches_iteration_order_for_odd_layouts() {
        let a = Array::from_shape_fn((4, 5, 6), |(i, j, k)| (i * 100 + j * 10 + k) as i32);
        let views: Vec<ArrayViewD<'_, i32>> = vec![
            a.view().into_dyn(),
            a.t().into_dyn(),
            a.slice(s![..;-1, 1..;2, ..]).into_dyn(),
            a.slice(s![.., ..1, ..;-3]).into_dyn(),
            a.slice(s![2, .., 3]).into_dyn(),
            a.slice(s![2, 1, 3]).into_dyn(),
            a.slice(s![.., 0..0, ..]).into_dyn(),
        ];
        for v in views {
            let want: Vec<i32> = v.iter().copied().collect();
            for piece in [1, 3, 7, 1000] {
                assert_eq!(gather_all(v.clone(), piece), want, "shape {:?}", v.shape());
            }
        }
    }

    #[test]
    fn scatter_into_strided_views() {
        let src: Vec<u16> = (0..120).collect();
        let bytes: &[u8] = bytemuck::cast_slice(&src);
        let mut dst = ArrayD::<u16>::zeros(IxDyn(&[6, 5, 4]));
        let mut t = dst.view_mut().reversed_axes();
        let want = ArrayD::from_shape_vec(IxDyn(&[4, 5, 6]), src.clone()).unwrap();
        let mut sc = Scatter::new(&mut t);
        for c in bytes.chunks(14) {
            sc.push(c).unwrap();
        }
        assert_eq!(t, want);
    }

    #[test]
    fn invalid_bool_is_an_error() {
        let err = cast_checked::<bool>(&[0, 1, 7], 10).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidBool {
                index: 12,
                value: 7
            }
        );
    }
}
