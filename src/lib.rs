#![doc = include_str!("../README.md")]
//!
//! # The layers
//!
//! The modules read as the data path; each uses only the ones above it in this list
//! (`docs/ARCHITECTURE.md` walks one array through them):
//!
//! 1. `core`: [`DType`], [`Error`], and the host-side row-major ordering of any array layout.
//! 2. `runtime`: the device ([`Gpu`]), the buffer pool, waiting and mapping, phase timings,
//!    the kernel registry, and [`Tensor`] storage.
//! 3. `transfer`: upload, readback, batches, streams and zero-copy views.
//! 4. `ops`: casts, statistics, quantization and byte swaps, as WGSL compute kernels.
//! 5. `io` (native): `.npy`, `.npz` and safetensors files.
//! 6. `web` (wasm32): the JavaScript API.

#![warn(missing_docs)]
// On the web, wgpu handles are not Send (JS objects); Gpu and Tensor are single-threaded there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod core;
mod io;
mod ops;
mod runtime;
mod transfer;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use core::dtype::{DType, Element, Kind};
pub use core::error::{BufferProblem, Cause, DeviceError, Error, Result};
pub use io::{
    LoadOptions, LoadStream, MAX_HEADER_LEN, NpyHeader, NpyParseOptions, SaveOptions,
    parse_npy_header, parse_npz_headers,
};
#[cfg(feature = "profiling")]
pub use ops::cast::BENCHMARKED_CASTS;
pub use ops::quant::{QScheme, QTensor, QType, QuantSpec, quant_params};
pub use ops::stats::{Histogram, Scalar, Summary};
pub use runtime::gpu::Gpu;
pub use runtime::info::GpuInfo;
pub use runtime::options::{GpuOptions, TransferPath, parse_backend};
pub use runtime::pool::MemoryInfo;
pub use runtime::tensor::Tensor;
pub use runtime::timing::{PhaseTimes, Stats};
#[cfg(not(target_arch = "wasm32"))]
pub use transfer::stream::{DEFAULT_DEPTH, Prefetcher, ReadbackQueue};
pub use transfer::view::MappedArray;

pub use half::{bf16, f16};
pub use ndarray;
pub use wgpu;
