//! NumPy arrays as raw element views, and NumPy dtypes as ours.
//!
//! An array's memory is read or written in place, whatever its strides (negative and Fortran
//! order included), as an ndarray view of `[u8; N]` elements: the one copy of an upload or a
//! readback goes straight between it and GPU-visible memory.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis, IxDyn, ShapeBuilder};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use tensorbridge::DType;

/// Our dtype for a NumPy dtype, and whether its elements are big-endian. `ml_dtypes.bfloat16`
/// (kind 'V', named "bfloat16") is bf16.
pub fn dtype_of(descr: &Bound<'_, PyArrayDescr>) -> PyResult<(DType, bool)> {
    let size = descr.itemsize();
    let name = descr.str()?.to_string();
    let d = match (descr.kind(), size) {
        (b'b', 1) => DType::Bool,
        (b'u', 1) => DType::U8,
        (b'u', 2) => DType::U16,
        (b'u', 4) => DType::U32,
        (b'u', 8) => DType::U64,
        (b'i', 1) => DType::I8,
        (b'i', 2) => DType::I16,
        (b'i', 4) => DType::I32,
        (b'i', 8) => DType::I64,
        (b'f', 2) => DType::F16,
        (b'f', 4) => DType::F32,
        (b'f', 8) => DType::F64,
        (b'V', 2) if name == "bfloat16" => DType::BF16,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "dtype {name} is not supported: tensorbridge holds bool, uint8..uint64, \
                 int8..int64, float16, float32, float64 and ml_dtypes.bfloat16"
            )));
        }
    };
    // '>' big-endian, '<' little, '=' native (little on every platform wgpu runs on), '|' n/a.
    Ok((d, descr.byteorder() == b'>'))
}

/// The NumPy dtype of ours (bfloat16 needs the ml_dtypes package).
pub fn numpy_dtype<'py>(py: Python<'py>, d: DType) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    if d == DType::BF16 {
        let ml = py.import("ml_dtypes").map_err(|_| {
            PyTypeError::new_err(
                "this tensor is bfloat16, which NumPy represents through the ml_dtypes \
                 package: pip install ml_dtypes (or cast it first: t.astype('float32'))",
            )
        })?;
        return np.getattr("dtype")?.call1((ml.getattr("bfloat16")?,));
    }
    np.getattr("dtype")?.call1((d.name(),))
}

/// An array's memory as untyped elements: a base address and per-axis steps in elements, all
/// non-negative, with the axes whose NumPy stride was negative listed to be flipped back.
/// Plain data, so it can cross into code that runs without the GIL.
pub struct Raw {
    base: usize,
    shape: Vec<usize>,
    steps: Vec<usize>,
    flipped: Vec<usize>,
    /// Bytes per element.
    pub itemsize: usize,
}

impl Raw {
    /// The layout of `a`; `writable` requires (and checks) that `a` may be written, with no
    /// two elements at one address.
    pub fn of(a: &Bound<'_, PyUntypedArray>, writable: bool) -> PyResult<Raw> {
        // SAFETY: `a` is a live NumPy array; its object header is read, not written.
        let (data, flags) = unsafe {
            let obj = &*a.as_array_ptr();
            (obj.fields.data as usize, obj.fields.flags)
        };
        if writable && flags & numpy::npyffi::NPY_ARRAY_WRITEABLE == 0 {
            return Err(PyValueError::new_err("out= is a read-only array"));
        }
        let itemsize = a.dtype().itemsize();
        let shape = a.shape().to_vec();
        let empty = shape.contains(&0);
        let mut base = data as isize;
        let mut steps = Vec::with_capacity(shape.len());
        let mut flipped = Vec::new();
        for (k, (&len, &stride)) in shape.iter().zip(a.strides()).enumerate() {
            if empty || len <= 1 {
                steps.push(0);
                continue;
            }
            if stride % itemsize as isize != 0 {
                return Err(PyValueError::new_err(format!(
                    "axis {k} has a stride of {stride} bytes, not a multiple of the {itemsize}-byte \
                     element; copy the array first (np.ascontiguousarray)"
                )));
            }
            if stride == 0 && writable {
                return Err(PyValueError::new_err(
                    "out= repeats elements (a zero stride); it must hold each element once",
                ));
            }
            if stride < 0 {
                base += (len as isize - 1) * stride;
                flipped.push(k);
            }
            steps.push(stride.unsigned_abs() / itemsize);
        }
        Ok(Raw {
            base: base as usize,
            shape,
            steps,
            flipped,
            itemsize,
        })
    }

    /// The elements as a view.
    ///
    /// # Safety
    /// The array this came from must stay alive and unresized for `'a`, and `N` must be its
    /// item size.
    pub unsafe fn view<'a, const N: usize>(&self) -> ArrayViewD<'a, [u8; N]> {
        debug_assert_eq!(N, self.itemsize);
        let shape = IxDyn(&self.shape).strides(IxDyn(&self.steps));
        // SAFETY: per the caller, the memory is alive; every element lies inside the array
        // (steps and base come from NumPy's own strides); [u8; N] has alignment 1.
        let mut v = unsafe { ArrayViewD::from_shape_ptr(shape, self.base as *const [u8; N]) };
        for &k in &self.flipped {
            v.invert_axis(Axis(k));
        }
        v
    }

    /// The elements as a mutable view.
    ///
    /// # Safety
    /// As [`Raw::view`], for an array made with `writable`, which nothing else reads or writes
    /// meanwhile.
    pub unsafe fn view_mut<'a, const N: usize>(&self) -> ArrayViewMutD<'a, [u8; N]> {
        debug_assert_eq!(N, self.itemsize);
        let shape = IxDyn(&self.shape).strides(IxDyn(&self.steps));
        // SAFETY: as in `view`; `of(.., writable: true)` rejected zero strides, so no two
        // elements alias.
        let mut v = unsafe { ArrayViewMutD::from_shape_ptr(shape, self.base as *mut [u8; N]) };
        for &k in &self.flipped {
            v.invert_axis(Axis(k));
        }
        v
    }
}

/// Calls `$body` with `$n` bound to a const of the element size (1, 2, 4 or 8 bytes).
macro_rules! by_size {
    ($size:expr, |$n:ident| $body:expr) => {
        match $size {
            1 => {
                const $n: usize = 1;
                $body
            }
            2 => {
                const $n: usize = 2;
                $body
            }
            4 => {
                const $n: usize = 4;
                $body
            }
            _ => {
                const $n: usize = 8;
                $body
            }
        }
    };
}
pub(crate) use by_size;
