//! Statistics and quantization for JavaScript: `t.summary()`, `t.histogram(bins, range?)`,
//! `t.quantize({...})` and `q.dequantize()`, with the semantics of the Rust API.

use js_sys::{Array, Float32Array, Float64Array, Int32Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{JsTensor, js_error, type_error};
use crate::{QScheme, QTensor, QType, QuantSpec, Scalar, Tensor};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** `Tensor.summary()`: computed on the GPU. 64-bit integers beyond 2^53 round to the nearest
 * number. */
export interface Summary { count: number; nanCount: number; min: number; max: number;
  sum: number; mean: number }
/** `Tensor.histogram()`, like `np.histogram`: `bins` counts and `bins + 1` edges. */
export interface Histogram { counts: Float64Array; edges: Float64Array }
/** `Tensor.quantize()` options. `scale` and `zeroPoint` give the parameters instead of
 * computing them from the tensor's min and max (one per channel along `axis`). */
export interface QuantizeOptions { dtype?: "int8" | "uint8"; scheme?: "affine" | "symmetric";
  axis?: number; scale?: number[] | Float32Array; zeroPoint?: number[] | Int32Array }
"#;

fn number(s: Scalar) -> JsValue {
    JsValue::from_f64(s.as_f64())
}

fn set(o: &Object, key: &str, value: JsValue) -> Result<(), JsValue> {
    Reflect::set(o, &JsValue::from_str(key), &value).map(|_| ())
}

fn get(o: &JsValue, key: &str) -> Result<Option<JsValue>, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(None);
    }
    let v = Reflect::get(o, &JsValue::from_str(key))?;
    Ok((!v.is_undefined() && !v.is_null()).then_some(v))
}

/// Numbers from a JS Array or typed array.
fn numbers(v: &JsValue, what: &str) -> Result<Vec<f64>, JsValue> {
    let array = Array::from(v);
    if array.length() == 0 && !Array::is_array(v) && !v.is_object() {
        return Err(type_error(&format!("{what} must be an array of numbers")));
    }
    array
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_f64()
                .ok_or_else(|| type_error(&format!("{what}[{i}] must be a number")))
        })
        .collect()
}

/// The `QuantSpec` a JS options object describes.
fn spec(options: &JsValue) -> Result<QuantSpec, JsValue> {
    let mut spec = QuantSpec::int8();
    if let Some(d) = get(options, "dtype")? {
        spec.qtype = match d.as_string().as_deref() {
            Some("int8") => QType::I8,
            Some("uint8") => QType::U8,
            _ => return Err(type_error("quantize: dtype must be \"int8\" or \"uint8\"")),
        };
    }
    if let Some(s) = get(options, "scheme")? {
        spec.scheme = match s.as_string().as_deref() {
            Some("affine") => QScheme::Affine,
            Some("symmetric") => QScheme::Symmetric,
            _ => {
                return Err(type_error(
                    "quantize: scheme must be \"affine\" or \"symmetric\"",
                ));
            }
        };
    }
    if let Some(a) = get(options, "axis")? {
        match a.as_f64() {
            Some(k) if k >= 0.0 && k.fract() == 0.0 => spec.axis = Some(k as usize),
            _ => return Err(type_error("quantize: axis must be a non-negative integer")),
        }
    }
    match (get(options, "scale")?, get(options, "zeroPoint")?) {
        (None, None) => {}
        (Some(s), Some(z)) => {
            let scale = numbers(&s, "scale")?
                .into_iter()
                .map(|x| x as f32)
                .collect();
            let zp = numbers(&z, "zeroPoint")?;
            if zp.iter().any(|z| z.fract() != 0.0) {
                return Err(type_error("quantize: zeroPoint must hold integers"));
            }
            spec.params = Some((scale, zp.into_iter().map(|z| z as i32).collect()));
        }
        _ => {
            return Err(type_error(
                "quantize: give both scale and zeroPoint, or neither",
            ));
        }
    }
    Ok(spec)
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// Resolves to `{ count, nanCount, min, max, sum, mean }`, computed on the GPU (see the
    /// Rust `Summary` for the precision of each).
    #[wasm_bindgen(unchecked_return_type = "Promise<Summary>")]
    pub fn summary(&self) -> Promise {
        let t = match self.tensor() {
            Ok(t) => t.clone(),
            Err(e) => return Promise::reject(&e),
        };
        future_to_promise(async move {
            let s = t.summary_async().await.map_err(js_error)?;
            let o = Object::new();
            set(&o, "count", JsValue::from_f64(s.count as f64))?;
            set(&o, "nanCount", JsValue::from_f64(s.nan_count as f64))?;
            set(&o, "min", number(s.min))?;
            set(&o, "max", number(s.max))?;
            set(&o, "sum", number(s.sum))?;
            set(&o, "mean", JsValue::from_f64(s.mean))?;
            Ok(o.into())
        })
    }

    /// Resolves to `{ counts, edges }` of `bins` equal-width bins over `range` (`[lo, hi]`,
    /// default the tensor's min to max), like `np.histogram`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Histogram>")]
    pub fn histogram(
        &self,
        bins: u32,
        #[wasm_bindgen(unchecked_param_type = "[number, number] | null | undefined")]
        range: JsValue,
    ) -> Promise {
        let t = match self.tensor() {
            Ok(t) => t.clone(),
            Err(e) => return Promise::reject(&e),
        };
        let range = if range.is_undefined() || range.is_null() {
            None
        } else {
            match numbers(&range, "range") {
                Ok(r) if r.len() == 2 => Some((r[0], r[1])),
                Ok(_) => return Promise::reject(&type_error("range must be [lo, hi]")),
                Err(e) => return Promise::reject(&e),
            }
        };
        future_to_promise(async move {
            let h = t
                .histogram_async(bins as usize, range)
                .await
                .map_err(js_error)?;
            let counts: Vec<f64> = h.counts.iter().map(|&c| c as f64).collect();
            let o = Object::new();
            set(&o, "counts", Float64Array::from(&counts[..]).into())?;
            set(&o, "edges", Float64Array::from(&h.edges[..]).into())?;
            Ok(o.into())
        })
    }

    /// Resolves to a `QTensor`: 8-bit codes on the GPU plus per-channel scale and zero point
    /// (`{ dtype, scheme, axis, scale, zeroPoint }`, all optional; int8 affine per tensor by
    /// default). Same formulas as the Rust `QuantSpec`.
    #[wasm_bindgen(unchecked_return_type = "Promise<QTensor>")]
    pub fn quantize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QuantizeOptions | null | undefined")]
        options: JsValue,
    ) -> Promise {
        let t = match self.tensor() {
            Ok(t) => t.clone(),
            Err(e) => return Promise::reject(&e),
        };
        let spec = match spec(&options) {
            Ok(s) => s,
            Err(e) => return Promise::reject(&e),
        };
        future_to_promise(async move {
            let q = t.quantize_async(&spec).await.map_err(js_error)?;
            Ok(JsQTensor { q: Some(q) }.into())
        })
    }
}

/// A quantized tensor (JS class `QTensor`): 8-bit codes on the GPU and per-channel parameters.
#[wasm_bindgen(js_name = QTensor)]
pub struct JsQTensor {
    q: Option<QTensor>,
}

impl JsQTensor {
    fn get(&self) -> Result<&QTensor, JsValue> {
        self.q.as_ref().ok_or_else(|| {
            js_sys::Error::new("this QTensor was disposed; it can no longer be used").into()
        })
    }
}

#[wasm_bindgen(js_class = QTensor)]
impl JsQTensor {
    /// The codes, an int8 or uint8 `Tensor` (a new handle; dispose it separately).
    #[wasm_bindgen(getter)]
    pub fn codes(&self) -> Result<JsTensor, JsValue> {
        Ok(JsTensor::new(self.get()?.codes.clone()))
    }

    /// One scale per channel (one for per-tensor).
    #[wasm_bindgen(getter)]
    pub fn scale(&self) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.get()?.scale[..]))
    }

    /// One zero point per channel.
    #[wasm_bindgen(getter, js_name = zeroPoint)]
    pub fn zero_point(&self) -> Result<Int32Array, JsValue> {
        Ok(Int32Array::from(&self.get()?.zero_point[..]))
    }

    /// The quantization axis, or `null` for per-tensor.
    #[wasm_bindgen(getter)]
    pub fn axis(&self) -> Result<Option<u32>, JsValue> {
        Ok(self.get()?.axis.map(|a| a as u32))
    }

    /// A float32 `Tensor` of the dequantized values, `(q - zeroPoint) * scale`, on the GPU.
    pub fn dequantize(&self) -> Result<JsTensor, JsValue> {
        let t: Tensor = self.get()?.dequantize().map_err(js_error)?;
        Ok(JsTensor::new(t))
    }

    /// Releases the codes' GPU memory now.
    pub fn dispose(&mut self) {
        self.q = None;
    }
}
