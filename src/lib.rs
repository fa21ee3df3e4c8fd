//! # tensorbridge
//!
//! Moves numeric arrays onto a GPU and back, as fast and as correctly as the hardware allows.
//!
//! * A host array ([`ndarray`] array or view, any layout) is uploaded into a **wgpu storage
//!   buffer as its raw bytes** ([`Gpu::upload`]); the host never converts element types.
//! * **WGSL compute shaders** cast between all 13 dtypes on the device, bit-exact, following NumPy
//!   `astype` ([`Tensor::cast`]). Narrow and 64-bit types are packed into `u32` words, so no
//!   optional GPU feature is needed.
//! * **Mapped readback** returns tensors to arrays: blocking ([`Tensor::to_array`]), async
//!   ([`Tensor::read`]) or straight into your memory ([`Tensor::read_into`]).
//!
//! The data path, one file per stage: [`dtype`](DType) → `device` ([`Gpu`]) → `tensor`
//! ([`Tensor`]) → `upload` → `cast` → `readback`, with `layout` (strides, done during the copy)
//! and `pool` (buffer reuse) beside them.
//!
//! ```
//! use ndarray::array;
//! use tensorbridge::{DType, Gpu};
//!
//! let gpu = Gpu::new()?;
//! let x = array![[1.0f64, 2.5], [-3.25, 1e-310]];
//! let t = gpu.upload(&x)?;                 // raw f64 bytes, one copy
//! let h = t.cast(DType::F16)?;             // on the device, one rounding
//! let back = h.to_array_as::<f64>()?;      // widen on the device, then read
//! assert_eq!(back[[0, 1]], 2.5);
//! # Ok::<(), tensorbridge::Error>(())
//! ```

#![warn(missing_docs)]
// On the web, wgpu handles are not Send (JS objects); Gpu and Tensor are single-threaded there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod batch;
#[cfg(not(target_arch = "wasm32"))]
mod byteswap;
mod cast;
mod device;
mod dtype;
mod error;
#[cfg(not(target_arch = "wasm32"))]
mod file;
mod kernels;
mod layout;
mod pool;
mod quant;
mod readback;
mod reduce;
mod staging;
mod stats;
#[cfg(not(target_arch = "wasm32"))]
mod stream;
mod sync;
mod tensor;
mod upload;
mod view;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use cast::BENCHMARKED_CASTS;
pub use device::{Gpu, GpuInfo, GpuOptions, TransferPath, parse_backend};
pub use dtype::{DType, Element, Kind};
pub use error::{Error, Result};
#[cfg(not(target_arch = "wasm32"))]
pub use file::{
    LoadOptions, MAX_HEADER_LEN, NpyHeader, NpyParseOptions, SaveOptions, parse_npy_header,
    parse_npz_headers,
};
pub use pool::MemoryInfo;
pub use quant::{QScheme, QTensor, QType, QuantSpec, quant_params};
pub use reduce::{Histogram, Scalar, Summary};
pub use stats::{PhaseTimes, Stats};
#[cfg(not(target_arch = "wasm32"))]
pub use stream::{DEFAULT_DEPTH, Prefetcher, ReadbackQueue};
pub use tensor::Tensor;
pub use view::MappedArray;

pub use half::{bf16, f16};
pub use ndarray;
pub use wgpu;
