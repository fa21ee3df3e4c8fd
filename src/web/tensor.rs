//! `Tensor` for JavaScript.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{js_error, transfer, typed};
use crate::{Error, Tensor};

/// A tensor on the device (JS class `Tensor`), made by `gpu.tensor()` or `t.cast()`.
///
/// Call `dispose()` when done, as in TF.js: the device memory goes back to the pool at once
/// instead of whenever the garbage collector runs.
#[wasm_bindgen(js_name = Tensor)]
pub struct JsTensor {
    tensor: Option<Tensor>,
}

impl JsTensor {
    pub(crate) fn new(tensor: Tensor) -> JsTensor {
        JsTensor {
            tensor: Some(tensor),
        }
    }

    /// The Rust tensor behind `v`, a JS `Tensor` that stays usable in JS. (Unwrapping a
    /// wasm-bindgen object detaches it from JS, so this unwraps a fresh handle from `__share`.)
    pub(crate) fn from_js(v: &JsValue, what: &str) -> Result<Tensor, JsValue> {
        use wasm_bindgen::convert::TryFromJsValue;
        let not = || super::type_error(&format!("{what} is not a tensorbridge Tensor"));
        let share = js_sys::Reflect::get(v, &"__share".into()).map_err(|_| not())?;
        let share: js_sys::Function = share.dyn_into().map_err(|_| not())?;
        let handle = share.call0(v)?;
        let t = JsTensor::try_from_js_value(handle).map_err(|_| not())?;
        Ok(t.tensor()?.clone())
    }

    /// The Rust [`Tensor`], or an error once disposed.
    pub fn tensor(&self) -> Result<&Tensor, JsValue> {
        self.tensor.as_ref().ok_or_else(|| {
            js_sys::Error::new("this tensor was disposed; it can no longer be used").into()
        })
    }
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// The dtype name: "float32", "int32", ... ("" once disposed).
    #[wasm_bindgen(getter)]
    #[wasm_bindgen(unchecked_return_type = "DType")]
    pub fn dtype(&self) -> String {
        self.tensor
            .as_ref()
            .map(|t| t.dtype().name().to_string())
            .unwrap_or_default()
    }

    /// The shape, an Array of numbers.
    #[wasm_bindgen(getter)]
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn shape(&self) -> js_sys::Array {
        let dims = self.tensor.as_ref().map_or(&[][..], |t| t.shape());
        super::js_shape(dims)
    }

    /// The number of elements.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        self.tensor.as_ref().map_or(0.0, |t| t.len() as f64)
    }

    /// The number of dimensions.
    #[wasm_bindgen(getter)]
    pub fn rank(&self) -> u32 {
        self.tensor.as_ref().map_or(0, |t| t.ndim() as u32)
    }

    /// True once `dispose()` was called.
    #[wasm_bindgen(getter, js_name = isDisposed)]
    pub fn is_disposed(&self) -> bool {
        self.tensor.is_none()
    }

    /// A new tensor holding this one's values as `dtype`, converted on the GPU with NumPy
    /// `astype` semantics.
    pub fn cast(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DType")] dtype: String,
    ) -> Result<JsTensor, JsValue> {
        let to = typed::parse_dtype(&dtype)?;
        let out = self.tensor()?.cast(to).map_err(js_error)?;
        Ok(JsTensor::new(out))
    }

    /// Resolves to a typed array holding the values (see the dtype table in the README).
    #[wasm_bindgen(unchecked_return_type = "Promise<TypedArray>")]
    pub fn data(&self) -> Promise {
        let tensor = match self.tensor() {
            Ok(t) => t.clone(),
            Err(e) => return Promise::reject(&e),
        };
        future_to_promise(async move {
            let (array, bytes) = typed::output(tensor.dtype(), tensor.len())?;
            transfer::read_into(&tensor, &bytes)
                .await
                .map_err(js_error)?;
            Ok(array)
        })
    }

    /// Blocking reads are impossible in a browser: always throws, naming `data()`.
    #[wasm_bindgen(js_name = dataSync)]
    pub fn data_sync(&self) -> Result<JsValue, JsValue> {
        Err(js_error(Error::BlockingUnsupported {
            call: "Tensor.dataSync()",
            alternative: "await tensor.data()",
        }))
    }

    /// A second handle on the same tensor, for functions that take a `Tensor` from JS.
    #[wasm_bindgen(js_name = __share, skip_typescript)]
    pub fn share(&self) -> Result<JsTensor, JsValue> {
        Ok(JsTensor::new(self.tensor()?.clone()))
    }

    /// Releases the device memory now. Later use throws; a second call does nothing.
    pub fn dispose(&mut self) {
        self.tensor = None;
    }
}
