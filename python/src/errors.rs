//! tensorbridge's errors as the Python exceptions a NumPy user expects: TypeError for a wrong
//! dtype, ValueError for a wrong shape, option or file, MemoryError for device memory,
//! `DeviceLostError` (a `GpuError`, itself a RuntimeError) for a lost device.

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::{PyErr, create_exception};
use tensorbridge::Error;

create_exception!(
    tensorbridge,
    GpuError,
    PyRuntimeError,
    "A GPU failure: no adapter, a failed device request, a validation or mapping error."
);
create_exception!(
    tensorbridge,
    DeviceLostError,
    GpuError,
    "The device was lost (driver reset, removal, or `Gpu.destroy()`); make a new `Gpu`."
);

/// The Python exception for a tensorbridge error, keeping its message.
pub fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::DTypeMismatch { .. } | Error::UnknownDType { .. } | Error::InvalidBool { .. } => {
            PyTypeError::new_err(msg)
        }
        Error::ShapeMismatch { .. }
        | Error::InvalidOption { .. }
        | Error::Empty { .. }
        | Error::File { .. }
        | Error::Buffer { .. }
        | Error::WrongDevice { .. } => PyValueError::new_err(msg),
        Error::OutOfMemory { .. } | Error::TooLarge { .. } => PyMemoryError::new_err(msg),
        Error::DeviceLost { .. } => DeviceLostError::new_err(msg),
        _ => GpuError::new_err(msg),
    }
}

/// `Result` with tensorbridge's error, as Python sees it.
pub trait IntoPy<T> {
    /// Converts the error.
    fn py_err(self) -> Result<T, PyErr>;
}

impl<T> IntoPy<T> for tensorbridge::Result<T> {
    fn py_err(self) -> Result<T, PyErr> {
        self.map_err(to_py)
    }
}
