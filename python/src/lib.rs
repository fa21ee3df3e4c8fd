//! `tensorbridge._tensorbridge`: the Python module behind the `tensorbridge` package.
//!
//! Layers: [`errors`] (our errors as Python exceptions), [`arrays`] (NumPy arrays as raw element
//! views, and NumPy dtypes), [`tensor`] (`Tensor`, `QTensor`), [`gpu`] (`Gpu`). Every transfer
//! and kernel runs with the GIL released.

mod arrays;
mod errors;
mod gpu;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
fn _tensorbridge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<gpu::Gpu>()?;
    m.add_class::<gpu::Prefetch>()?;
    m.add_class::<tensor::Tensor>()?;
    m.add_class::<tensor::QTensor>()?;
    m.add("GpuError", py.get_type::<errors::GpuError>())?;
    m.add("DeviceLostError", py.get_type::<errors::DeviceLostError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
