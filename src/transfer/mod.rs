//! Host ↔ device: [`upload`] (one host copy into GPU-visible memory, layout fixed up during it),
//! [`readback`] (mapped memory into arrays or the caller's memory), [`batch`] (many tensors per
//! map wait and submission), [`stream`] (transfers overlapping the caller's work, native),
//! [`view`] (zero-copy mapped views), [`handoff`] (into a caller's wgpu buffers), and the
//! [`staging`] plan the staged path shares.

pub(crate) mod batch;
pub(crate) mod fill;
pub(crate) mod handoff;
pub(crate) mod readback;
pub(crate) mod staging;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod stream;
pub(crate) mod upload;
pub(crate) mod view;
