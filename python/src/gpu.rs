//! `Gpu` for Python: opening a device, arrays onto it (one at a time, in batches, prefetched
//! from an iterator), files, and the device's info, memory and timing counters.

use std::collections::VecDeque;
use std::sync::Mutex;

use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tensorbridge::{GpuOptions, LoadOptions, SaveOptions, TransferPath};

use crate::arrays::{Raw, by_size, dtype_of};
use crate::errors::IntoPy;
use crate::tensor::Tensor;

/// A GPU device (any wgpu adapter: Vulkan, Metal, DX12, GL). `Gpu()` opens the default one;
/// `backend` ("vulkan", "metal", "dx12", "gl") and `adapter` (part of its name) choose.
#[pyclass(module = "tensorbridge", name = "Gpu", frozen)]
pub struct Gpu {
    inner: tensorbridge::Gpu,
}

/// `a` as a NumPy array: itself, or `np.asarray(a)` for anything else array-like.
fn as_ndarray<'py>(a: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    if let Ok(arr) = a.cast::<PyUntypedArray>() {
        return Ok(arr.clone());
    }
    let np = a.py().import("numpy")?;
    Ok(np
        .getattr("asarray")?
        .call1((a,))?
        .cast_into::<PyUntypedArray>()?)
}

impl Gpu {
    /// Uploads one NumPy array with the GIL released: the one copy, from the array's memory
    /// into GPU-visible memory, in whatever layout it has; big-endian data is swapped on the
    /// device.
    fn upload(&self, py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let arr = as_ndarray(a)?;
        let (dtype, big) = dtype_of(&arr.dtype())?;
        let raw = Raw::of(&arr, false)?;
        let gpu = &self.inner;
        let t = py
            .detach(|| {
                by_size!(raw.itemsize, |N| {
                    // SAFETY: `arr` is alive for this call and its item size is N; the caller
                    // does not resize or write it while the call runs (NumPy's contract for
                    // code that releases the GIL).
                    let view = unsafe { raw.view::<N>() };
                    let t = gpu.upload_elements(&view, dtype)?;
                    if big {
                        t.swap_bytes_in_place()?;
                    }
                    Ok(t)
                })
            })
            .py_err()?;
        Ok(Tensor::new(t))
    }
}

#[pymethods]
impl Gpu {
    #[new]
    #[pyo3(signature = (backend = None, adapter = None, max_chunk_bytes = None, memory_budget = None, path = None))]
    fn new(
        py: Python<'_>,
        backend: Option<&str>,
        adapter: Option<String>,
        max_chunk_bytes: Option<u64>,
        memory_budget: Option<u64>,
        path: Option<&str>,
    ) -> PyResult<Gpu> {
        let backend = backend
            .map(tensorbridge::parse_backend)
            .transpose()
            .py_err()?;
        let path = match path {
            None => None,
            Some("mapped") => Some(TransferPath::Mapped),
            Some("staged") => Some(TransferPath::Staged),
            Some(p) => {
                return Err(PyValueError::new_err(format!(
                    "path {p:?}: 'mapped' or 'staged'"
                )));
            }
        };
        let options = GpuOptions {
            backend,
            adapter_name: adapter,
            max_chunk_bytes,
            memory_budget,
            path,
            ..Default::default()
        };
        let inner = py
            .detach(|| tensorbridge::Gpu::with_options(options))
            .py_err()?;
        Ok(Gpu { inner })
    }

    /// Every adapter on this machine: a list of dicts (name, backend, device_type, driver).
    #[staticmethod]
    fn adapters(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
        let list = PyList::empty(py);
        for a in py.detach(tensorbridge::Gpu::adapters) {
            let d = PyDict::new(py);
            d.set_item("name", &a.name)?;
            d.set_item("backend", format!("{:?}", a.backend))?;
            d.set_item("device_type", format!("{:?}", a.device_type))?;
            d.set_item("driver", &a.driver)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The adapter, its limits, the transfer path and the casts done with its own instructions.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = self.inner.info();
        let d = PyDict::new(py);
        d.set_item("name", &i.name)?;
        d.set_item("backend", format!("{:?}", i.backend))?;
        d.set_item("device_type", format!("{:?}", i.device_type))?;
        d.set_item("driver", &i.driver)?;
        d.set_item("path", i.path.map(|p| format!("{p:?}")))?;
        d.set_item("max_chunk_bytes", i.max_chunk_bytes)?;
        d.set_item("max_buffer_size", i.limits.max_buffer_size)?;
        d.set_item(
            "max_storage_buffer_binding_size",
            i.limits.max_storage_buffer_binding_size,
        )?;
        let features: Vec<&str> = i.features.iter_names().map(|(n, _)| n).collect();
        d.set_item("features", features)?;
        d.set_item("native_casts", i.native_casts.clone())?;
        Ok(d)
    }

    /// `{num_tensors, num_bytes, pooled_bytes, num_buffers_created}`.
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.inner.memory();
        let d = PyDict::new(py);
        d.set_item("num_tensors", m.num_tensors)?;
        d.set_item("num_bytes", m.num_bytes)?;
        d.set_item("pooled_bytes", m.pooled_bytes)?;
        d.set_item("num_buffers_created", m.num_created)?;
        Ok(d)
    }

    /// Where the time went: for "upload", "readback" and "cast", the calls, bytes and seconds
    /// spent in the host copy, submitting, waiting for maps, and on the device.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let out = PyDict::new(py);
        for (name, p) in [
            ("upload", s.upload),
            ("readback", s.readback),
            ("cast", s.cast),
        ] {
            let d = PyDict::new(py);
            d.set_item("calls", p.calls)?;
            d.set_item("bytes", p.bytes)?;
            d.set_item("host_copy_s", p.host_copy.as_secs_f64())?;
            d.set_item("submit_s", p.submit.as_secs_f64())?;
            d.set_item("map_wait_s", p.map_wait.as_secs_f64())?;
            d.set_item("device_s", p.device.as_secs_f64())?;
            out.set_item(name, d)?;
        }
        Ok(out)
    }

    /// Waits for all work submitted so far.
    fn synchronize(&self, py: Python<'_>) -> PyResult<()> {
        let gpu = &self.inner;
        py.detach(|| gpu.synchronize()).py_err()
    }

    /// Frees the idle buffers kept for reuse.
    fn trim(&self) {
        self.inner.trim();
    }

    /// Destroys the device; later use raises DeviceLostError.
    fn destroy(&self) {
        self.inner.destroy();
    }

    /// Uploads any array (any strides, negative steps, Fortran order, 0-d, empty; every dtype
    /// including bool and ml_dtypes.bfloat16) with exactly one copy, from the array's memory
    /// into GPU-visible memory. Anything else array-like goes through `np.asarray` first.
    fn asarray(&self, py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        if let Ok(t) = a.cast::<Tensor>() {
            return Ok(Tensor::new(t.get().inner.clone()));
        }
        self.upload(py, a)
    }

    /// Uploads many arrays: a list of tensors.
    fn asarray_many(&self, py: Python<'_>, arrays: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<Tensor>> {
        arrays.iter().map(|a| self.asarray(py, a)).collect()
    }

    /// Reads many tensors back: a list of NumPy arrays.
    fn numpy_many<'py>(
        &self,
        tensors: Vec<Bound<'py, Tensor>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        tensors.iter().map(|t| t.call_method0("numpy")).collect()
    }

    /// An iterator over `arrays` (any iterable of arrays) that yields them as tensors, keeping
    /// up to `depth` uploaded ahead of the one it yields, so their device copies overlap the
    /// caller's work.
    #[pyo3(signature = (arrays, depth = 2))]
    fn prefetch(&self, arrays: &Bound<'_, PyAny>, depth: usize) -> PyResult<Prefetch> {
        Ok(Prefetch {
            gpu: self.inner.clone(),
            source: Mutex::new(Some(arrays.try_iter()?.into_any().unbind())),
            ready: Mutex::new(VecDeque::new()),
            depth: depth.max(1),
        })
    }

    /// Every array of an `.npy`, `.npz` or `.safetensors` file: a dict of name to tensor (an
    /// `.npy` file's one array is named ""). `bf16` reads `.npy` data of descr '<V2' (how
    /// ml_dtypes saves bfloat16) as bfloat16.
    #[pyo3(signature = (path, bf16 = false))]
    fn load<'py>(
        &self,
        py: Python<'py>,
        path: std::path::PathBuf,
        bf16: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let gpu = &self.inner;
        let opts = LoadOptions {
            void2_as_bf16: bf16,
        };
        let arrays = py.detach(|| gpu.load_with(&path, &opts)).py_err()?;
        let d = PyDict::new(py);
        for (name, t) in arrays {
            d.set_item(name, Tensor::new(t))?;
        }
        Ok(d)
    }

    /// Saves `{name: tensor}` by the path's extension: `.npy` (one tensor), `.npz` (deflated
    /// when `compress`), `.safetensors`. NumPy and the safetensors package read the files.
    #[pyo3(signature = (path, tensors, compress = false))]
    fn save(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        tensors: &Bound<'_, PyDict>,
        compress: bool,
    ) -> PyResult<()> {
        let mut named = Vec::with_capacity(tensors.len());
        for (k, v) in tensors.iter() {
            let t = v.cast::<Tensor>()?.get().inner.clone();
            named.push((k.extract::<String>()?, t));
        }
        let refs: Vec<(&str, &tensorbridge::Tensor)> =
            named.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let gpu = &self.inner;
        let opts = SaveOptions { compress };
        py.detach(|| gpu.save_with(&path, &refs, &opts)).py_err()
    }

    fn __repr__(&self) -> String {
        let i = self.inner.info();
        format!("tensorbridge.Gpu({:?}, backend={:?})", i.name, i.backend)
    }
}

/// The iterator `Gpu.prefetch` returns.
#[pyclass(module = "tensorbridge", name = "Prefetch", frozen)]
pub struct Prefetch {
    gpu: tensorbridge::Gpu,
    source: Mutex<Option<Py<PyAny>>>,
    ready: Mutex<VecDeque<Tensor>>,
    depth: usize,
}

#[pymethods]
impl Prefetch {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Tensor>> {
        let gpu = Gpu {
            inner: self.gpu.clone(),
        };
        // Top up to `depth` tensors ahead (plus the one about to be returned).
        loop {
            let queued = self.ready.lock().map_or(0, |r| r.len());
            if queued > self.depth {
                break;
            }
            let source = self
                .source
                .lock()
                .ok()
                .and_then(|s| s.as_ref().map(|s| s.clone_ref(py)));
            let Some(source) = source else { break };
            match source.bind(py).call_method0("__next__") {
                Ok(a) => {
                    let t = gpu.upload(py, &a)?;
                    if let Ok(mut r) = self.ready.lock() {
                        r.push_back(t);
                    }
                }
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
                    if let Ok(mut s) = self.source.lock() {
                        *s = None;
                    }
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.ready.lock().ok().and_then(|mut r| r.pop_front()))
    }
}
