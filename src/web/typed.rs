//! JS typed arrays ↔ dtypes: which arrays a dtype accepts, and what `data()` returns.

use js_sys::{Reflect, Symbol, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use super::type_error;
use crate::DType;

/// For each dtype, the typed arrays that hold its bytes, preferred first. `data()` returns the
/// first one the browser has (Float16Array is new; float16 falls back to Uint16Array bits).
const ARRAYS: [(DType, &[&str]); 13] = [
    (DType::Bool, &["Uint8Array", "Uint8ClampedArray"]),
    (DType::U8, &["Uint8Array", "Uint8ClampedArray"]),
    (DType::I8, &["Int8Array"]),
    (DType::U16, &["Uint16Array"]),
    (DType::I16, &["Int16Array"]),
    (DType::U32, &["Uint32Array"]),
    (DType::I32, &["Int32Array"]),
    (DType::U64, &["BigUint64Array"]),
    (DType::I64, &["BigInt64Array"]),
    (DType::F16, &["Float16Array", "Uint16Array"]),
    (DType::BF16, &["Uint16Array"]),
    (DType::F32, &["Float32Array"]),
    (DType::F64, &["Float64Array"]),
];

fn arrays(dtype: DType) -> &'static [&'static str] {
    ARRAYS
        .iter()
        .find(|(d, _)| *d == dtype)
        .map_or(&[], |(_, a)| a)
}

#[wasm_bindgen]
extern "C" {
    /// Any TypedArray (`ArrayBufferView` with a length).
    pub(crate) type AnyTypedArray;
    #[wasm_bindgen(method, getter)]
    fn buffer(this: &AnyTypedArray) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = byteOffset)]
    fn byte_offset(this: &AnyTypedArray) -> f64;
    #[wasm_bindgen(method, getter, js_name = byteLength)]
    fn byte_length(this: &AnyTypedArray) -> f64;
    #[wasm_bindgen(method, getter)]
    fn length(this: &AnyTypedArray) -> f64;
}

/// A typed array passed in from JS: its constructor name, element count and its bytes (a
/// `Uint8Array` over the same memory; nothing is copied).
pub(crate) struct Input {
    pub name: String,
    pub len: usize,
    pub bytes: Uint8Array,
}

impl Input {
    /// Accepts any TypedArray; anything else is a `TypeError` naming what was passed.
    pub fn new(value: &JsValue) -> Result<Input, JsValue> {
        let tag = if value.is_object() {
            Reflect::get(value, &Symbol::to_string_tag())
                .ok()
                .and_then(|t| t.as_string())
        } else {
            None
        };
        let Some(name) = tag.filter(|t| t.ends_with("Array")) else {
            return Err(type_error(&format!(
                "tensor() needs a typed array (Float32Array, Int32Array, ...), got {}",
                describe(value)
            )));
        };
        let array: &AnyTypedArray = value.unchecked_ref();
        let bytes = Uint8Array::new_with_byte_offset_and_length(
            &array.buffer(),
            array.byte_offset() as u32,
            array.byte_length() as u32,
        );
        Ok(Input {
            name,
            len: array.length() as usize,
            bytes,
        })
    }

    /// The dtype: `requested` when the array can hold it, else the array's natural dtype.
    pub fn dtype(&self, requested: Option<DType>) -> Result<DType, JsValue> {
        match requested {
            Some(d) if arrays(d).contains(&self.name.as_str()) => Ok(d),
            Some(d) => Err(type_error(&format!(
                "dtype '{}' needs {} data, got a {}",
                d.name(),
                arrays(d).join(" or "),
                self.name
            ))),
            // A Uint8Array is uint8 unless "bool" is asked for; a Uint16Array is uint16.
            None => DType::ALL
                .into_iter()
                .filter(|&d| d != DType::Bool)
                .find(|&d| arrays(d).contains(&self.name.as_str()))
                .ok_or_else(|| type_error(&format!("{} has no matching dtype", self.name))),
        }
    }
}

/// A new, zeroed typed array of `len` elements for `dtype`, and a byte view over it.
pub(crate) fn output(dtype: DType, len: usize) -> Result<(JsValue, Uint8Array), JsValue> {
    let global = js_sys::global();
    for name in arrays(dtype) {
        let ctor = Reflect::get(&global, &JsValue::from_str(name))?;
        if let Some(ctor) = ctor.dyn_ref::<js_sys::Function>() {
            let args = js_sys::Array::of1(&JsValue::from_f64(len as f64));
            let array = Reflect::construct(ctor, &args)?;
            let bytes = Uint8Array::new(&array.unchecked_ref::<AnyTypedArray>().buffer());
            return Ok((array, bytes));
        }
    }
    Err(js_sys::Error::new(&format!(
        "this browser has no typed array for {}",
        dtype.name()
    ))
    .into())
}

/// A short description of a JS value for error messages.
fn describe(value: &JsValue) -> String {
    if value.is_undefined() {
        "undefined".into()
    } else if value.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(value) {
        "an Array (wrap it: new Float32Array(array))".into()
    } else if let Some(s) = value.as_string() {
        format!("the string {s:?}")
    } else {
        value
            .js_typeof()
            .as_string()
            .unwrap_or_else(|| "a value".into())
    }
}

/// Parses an optional JS shape (an Array of non-negative integers); `None` when absent.
pub(crate) fn shape(value: &JsValue) -> Result<Option<Vec<usize>>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let Some(array) = value.dyn_ref::<js_sys::Array>() else {
        return Err(type_error(&format!(
            "shape must be an Array of integers, got {}",
            describe(value)
        )));
    };
    array
        .iter()
        .enumerate()
        .map(|(i, d)| match d.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as usize),
            _ => Err(type_error(&format!(
                "shape[{i}] must be a non-negative integer, got {}",
                d.as_f64().map_or_else(|| describe(&d), |n| n.to_string())
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Parses a dtype name ("float32", "int32", ...); unknown names are a `TypeError`.
pub(crate) fn parse_dtype(name: &str) -> Result<DType, JsValue> {
    name.parse::<DType>().map_err(super::js_error)
}
