//! The browser API: `Gpu` and `Tensor` for JavaScript, in the spirit of TF.js (wasm32 only).
//!
//! ```js
//! import init, { Gpu } from "./pkg/tensorbridge.js";
//! await init();
//! const gpu = await Gpu.create();
//! const t = gpu.tensor(new Int32Array([1, 2, 3]), [3]);
//! const f = t.cast("float32");
//! console.log(await f.data()); // Float32Array [1, 2, 3]
//! t.dispose(); f.dispose();
//! console.log(gpu.memory());   // { numTensors: 0, ... }
//! ```
//!
//! Data moves once each way: `tensor()` hands the typed array's own memory to
//! `GPUQueue.writeBuffer`, and `data()` copies the mapped readback range (a `Uint8Array` over
//! GPU-visible memory) straight into the returned typed array. Neither passes through wasm memory.

mod gpu;
mod interop;
mod ort;
mod source;
mod stats;
mod tensor;
mod transfer;
mod typed;

pub use gpu::JsGpu;
pub use stats::JsQTensor;
pub use tensor::JsTensor;

use wasm_bindgen::JsValue;

use crate::Error;

/// A library error as a JS `Error` (bad input from JS is a `TypeError`, see [`type_error`]).
pub(crate) fn js_error(e: Error) -> JsValue {
    match e {
        Error::DTypeMismatch { .. }
        | Error::ShapeMismatch { .. }
        | Error::UnknownDType { .. }
        | Error::InvalidBool { .. } => type_error(&e.to_string()),
        _ => js_sys::Error::new(&e.to_string()).into(),
    }
}

/// `options[key]` of an optional options object (`undefined` when there is none).
pub(crate) fn option(options: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    match options.is_object() {
        true => js_sys::Reflect::get(options, &key.into()),
        false => Ok(JsValue::UNDEFINED),
    }
}

/// A shape as a JS Array of numbers.
pub(crate) fn js_shape(shape: &[usize]) -> js_sys::Array {
    shape.iter().map(|&d| JsValue::from_f64(d as f64)).collect()
}

/// A JS `TypeError` with `message`.
pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
