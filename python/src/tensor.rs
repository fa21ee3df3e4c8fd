//! `Tensor` and `QTensor` for Python, with NumPy's conventions: `shape` is a tuple, `dtype` a
//! NumPy dtype, `numpy()` / `np.asarray(t)` read back, reductions return NumPy scalars of
//! NumPy's result dtypes.

use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tensorbridge::{DType, Kind, QScheme, QType, QuantSpec, Scalar};

use crate::arrays::{Raw, by_size, dtype_of, numpy_dtype};
use crate::errors::IntoPy;

/// An array on the GPU. Make one with `Gpu.asarray(a)`; read it with `numpy()` or
/// `np.asarray(t)`. Its memory goes back to the device's pool when it is garbage-collected.
#[pyclass(module = "tensorbridge", name = "Tensor", frozen)]
pub struct Tensor {
    pub inner: tensorbridge::Tensor,
}

/// Our dtype for anything `np.dtype()` accepts ("float16", np.int32, ml_dtypes.bfloat16, ...).
pub fn parse_dtype(py: Python<'_>, dtype: &Bound<'_, PyAny>) -> PyResult<DType> {
    let np = py.import("numpy")?;
    let descr = np.getattr("dtype")?.call1((dtype,))?;
    let descr = descr.cast_into::<numpy::PyArrayDescr>()?;
    Ok(dtype_of(&descr)?.0)
}

/// A Python value of a scalar, as `np.<dtype>(value)`.
fn numpy_scalar<'py>(py: Python<'py>, d: DType, s: Scalar) -> PyResult<Bound<'py, PyAny>> {
    let ty = numpy_dtype(py, d)?.getattr("type")?;
    match s {
        Scalar::Bool(b) => ty.call1((b,)),
        Scalar::Int(i) => ty.call1((i,)),
        Scalar::UInt(u) => ty.call1((u,)),
        Scalar::Float(f) => ty.call1((f,)),
    }
}

impl Tensor {
    pub fn new(inner: tensorbridge::Tensor) -> Tensor {
        Tensor { inner }
    }

    /// Reads into `out`, which must have the tensor's shape and dtype and may have any layout.
    pub fn read_into(&self, py: Python<'_>, out: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
        let (d, big) = dtype_of(&out.dtype())?;
        if d != self.inner.dtype() || big {
            return Err(PyTypeError::new_err(format!(
                "out= has dtype {}, the tensor is {}",
                out.dtype(),
                self.inner.dtype()
            )));
        }
        if out.shape() != self.inner.shape() {
            return Err(PyValueError::new_err(format!(
                "out= has shape {:?}, the tensor {:?}",
                out.shape(),
                self.inner.shape()
            )));
        }
        let raw = Raw::of(out, true)?;
        let t = &self.inner;
        py.detach(|| {
            by_size!(raw.itemsize, |N| {
                // SAFETY: `out` is alive (borrowed for this call), writable, of item size N;
                // NumPy's contract for code that releases the GIL is that nothing else
                // touches the array meanwhile.
                let mut view = unsafe { raw.view_mut::<N>() };
                t.read_elements_into(&mut view)
            })
        })
        .py_err()
    }
}

#[pymethods]
impl Tensor {
    /// The shape, a tuple.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }

    /// The NumPy dtype.
    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        numpy_dtype(py, self.inner.dtype())
    }

    /// Bytes of the elements (as `ndarray.nbytes`).
    #[getter]
    fn nbytes(&self) -> u64 {
        self.inner.size_in_bytes()
    }

    /// Number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    /// Number of elements.
    #[getter]
    fn size(&self) -> usize {
        self.inner.len()
    }

    fn __len__(&self) -> PyResult<usize> {
        self.inner
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of unsized object"))
    }

    fn __repr__(&self) -> String {
        format!(
            "tensorbridge.Tensor(shape={:?}, dtype={})",
            self.inner.shape(),
            self.inner.dtype()
        )
    }

    /// A new tensor of `dtype`, cast on the GPU with NumPy's `astype` semantics, bit for bit.
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let d = parse_dtype(py, dtype)?;
        let t = &self.inner;
        Ok(Tensor::new(py.detach(|| t.cast(d)).py_err()?))
    }

    /// The values as a new NumPy array (C order), or read into `out`, an existing array of the
    /// same shape and dtype and any layout, which is returned.
    #[pyo3(signature = (out = None))]
    fn numpy<'py>(
        &self,
        py: Python<'py>,
        out: Option<Bound<'py, PyUntypedArray>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = match out {
            Some(o) => o,
            None => {
                let np = py.import("numpy")?;
                let shape = PyTuple::new(py, self.inner.shape())?;
                let a = np
                    .getattr("empty")?
                    .call1((shape, numpy_dtype(py, self.inner.dtype())?))?;
                a.cast_into::<PyUntypedArray>()?
            }
        };
        self.read_into(py, &out)?;
        Ok(out.into_any())
    }

    /// `np.asarray(t)`: the values, as [`numpy`], then `astype(dtype)` when asked.
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if copy == Some(false) {
            return Err(PyValueError::new_err(
                "a GPU tensor cannot be viewed without a copy; call numpy()",
            ));
        }
        let a = self.numpy(py, None)?;
        match dtype {
            Some(d) => a.call_method1("astype", (d,)),
            None => Ok(a),
        }
    }

    /// The smallest element, as `np.min` (NaN if any is NaN; ValueError if empty).
    fn min<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        let s = py.detach(|| t.min()).py_err()?;
        numpy_scalar(py, t.dtype(), s)
    }

    /// The largest element, as `np.max`.
    fn max<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        let s = py.detach(|| t.max()).py_err()?;
        numpy_scalar(py, t.dtype(), s)
    }

    /// The sum, as `np.sum`: int64 (wrapping) for bool and signed integers, uint64 for unsigned
    /// ones, the tensor's dtype for floats (summed far more accurately, then rounded once).
    fn sum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        let s = py.detach(|| t.sum()).py_err()?;
        let d = match t.dtype().kind() {
            Kind::Float => t.dtype(),
            Kind::UInt => DType::U64,
            _ => DType::I64,
        };
        numpy_scalar(py, d, s)
    }

    /// The mean, as `np.mean`: float64 for bool and integers (the exact sum over the count,
    /// rounded once), the tensor's dtype for floats.
    fn mean<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        let m = py.detach(|| t.mean()).py_err()?;
        let d = match t.dtype().kind() {
            Kind::Float => t.dtype(),
            _ => DType::F64,
        };
        numpy_scalar(py, d, Scalar::Float(m))
    }

    /// `(counts, edges)` of `bins` equal bins over `range` (default min to max), as
    /// `np.histogram`: counts int64, edges float64.
    #[pyo3(signature = (bins = 10, range = None))]
    fn histogram<'py>(
        &self,
        py: Python<'py>,
        bins: usize,
        range: Option<(f64, f64)>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let t = &self.inner;
        let h = py.detach(|| t.histogram(bins, range)).py_err()?;
        let counts: Vec<i64> = h.counts.iter().map(|&c| c as i64).collect();
        let counts = numpy::PyArray1::from_vec(py, counts).into_any();
        let edges = numpy::PyArray1::from_vec(py, h.edges).into_any();
        Ok((counts, edges))
    }

    /// Quantizes on the GPU: `dtype` "int8" or "uint8", `scheme` "affine" or "symmetric",
    /// per tensor or along `axis`, parameters from the data's min and max or given as `scale`
    /// and `zero_point` (one per channel).
    #[pyo3(signature = (dtype = "int8", scheme = "affine", axis = None, scale = None, zero_point = None))]
    fn quantize(
        &self,
        py: Python<'_>,
        dtype: &str,
        scheme: &str,
        axis: Option<usize>,
        scale: Option<Vec<f32>>,
        zero_point: Option<Vec<i32>>,
    ) -> PyResult<QTensor> {
        let qtype = match dtype {
            "int8" => QType::I8,
            "uint8" => QType::U8,
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "quantize to {dtype:?}: int8 or uint8"
                )));
            }
        };
        let scheme = match scheme {
            "affine" => QScheme::Affine,
            "symmetric" => QScheme::Symmetric,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "scheme {scheme:?}: affine or symmetric"
                )));
            }
        };
        let params = match (scale, zero_point) {
            (Some(s), Some(z)) => Some((s, z)),
            (None, None) => None,
            _ => return Err(PyValueError::new_err("give scale and zero_point together")),
        };
        let spec = QuantSpec {
            qtype,
            scheme,
            axis,
            params,
        };
        let t = &self.inner;
        let q = py.detach(|| t.quantize(&spec)).py_err()?;
        Ok(QTensor { inner: q })
    }
}

/// A quantized tensor: 8-bit codes on the GPU, with a scale and zero point per channel.
#[pyclass(module = "tensorbridge", name = "QTensor", frozen)]
pub struct QTensor {
    inner: tensorbridge::QTensor,
}

#[pymethods]
impl QTensor {
    /// The codes, an int8 or uint8 tensor.
    #[getter]
    fn codes(&self) -> Tensor {
        Tensor::new(self.inner.codes.clone())
    }

    /// One scale per channel (one in all for per-tensor), float32.
    #[getter]
    fn scale<'py>(&self, py: Python<'py>) -> Bound<'py, numpy::PyArray1<f32>> {
        numpy::PyArray1::from_slice(py, &self.inner.scale)
    }

    /// One zero point per channel, int32.
    #[getter]
    fn zero_point<'py>(&self, py: Python<'py>) -> Bound<'py, numpy::PyArray1<i32>> {
        numpy::PyArray1::from_slice(py, &self.inner.zero_point)
    }

    /// The channel axis, or None for per-tensor.
    #[getter]
    fn axis(&self) -> Option<usize> {
        self.inner.axis
    }

    /// `(codes - zero_point) * scale` as a float32 tensor, on the GPU.
    fn dequantize(&self, py: Python<'_>) -> PyResult<Tensor> {
        let q = &self.inner;
        Ok(Tensor::new(py.detach(|| q.dequantize()).py_err()?))
    }

    fn __repr__(&self) -> String {
        format!(
            "tensorbridge.QTensor(shape={:?}, dtype={}, axis={:?})",
            self.inner.codes.shape(),
            self.inner.codes.dtype(),
            self.inner.axis
        )
    }
}
