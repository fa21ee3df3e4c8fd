//! `Gpu` for JavaScript.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{JsTensor, js_error, transfer, type_error, typed};
use crate::Gpu;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** The 13 dtype names. */
export type DType = "bool" | "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32"
  | "uint64" | "int64" | "float16" | "bfloat16" | "float32" | "float64";
/** What `Tensor.data()` resolves to (bool: Uint8Array of 0/1; float16: Float16Array where the
 * browser has one, else Uint16Array bits; bfloat16: Uint16Array bits). */
export type TypedArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array
  | Int32Array | BigUint64Array | BigInt64Array | Float32Array | Float64Array;
/** `Gpu.info()`. */
export interface GpuInfo {
  name: string; backend: string; deviceType: string; driver: string; path: string;
  maxChunkBytes: number;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number;
    maxComputeWorkgroupsPerDimension: number; maxComputeWorkgroupSizeX: number;
    minStorageBufferOffsetAlignment: number };
  features: string[];
  /** Conversions the casts do with the adapter's own instructions, where a probe at creation
   * found them exact: "int->f32", "f32->int", "f32->f16", "f16->f32" (natively also "f64->f32", "int<->f64"). */
  nativeCasts: string[];
}
/** `Gpu.memory()`, like `tf.memory()`. */
export interface MemoryInfo { numTensors: number; numBytes: number; numBytesPooled: number; numBuffersCreated: number }
"#;

/// A WebGPU device (JS class `Gpu`). Create one with `await Gpu.create()`.
#[wasm_bindgen(js_name = Gpu)]
pub struct JsGpu {
    gpu: Gpu,
}

#[wasm_bindgen(js_class = Gpu)]
impl JsGpu {
    /// Opens the browser's WebGPU adapter. Rejects with an `Error` that says why when WebGPU is
    /// unavailable.
    pub async fn create() -> Result<JsGpu, JsValue> {
        let gpu = Gpu::new_async().await.map_err(|e| match e {
            crate::Error::NoAdapter { reason, .. } => js_sys::Error::new(&format!(
                "WebGPU is unavailable ({reason}). It needs a secure context (https or \
                 localhost) and a browser with WebGPU enabled; Chromium on Linux needs \
                 --enable-unsafe-webgpu."
            ))
            .into(),
            e => js_error(e),
        })?;
        Ok(JsGpu { gpu })
    }

    /// `{ name, backend, deviceType, driver, path, maxChunkBytes, limits, features, nativeCasts }`.
    #[wasm_bindgen(unchecked_return_type = "GpuInfo")]
    pub fn info(&self) -> Result<Object, JsValue> {
        let info = self.gpu.info();
        let limits = &info.limits;
        let out = object(&[
            ("name", info.name.clone().into()),
            ("backend", format!("{:?}", info.backend).into()),
            ("deviceType", format!("{:?}", info.device_type).into()),
            ("driver", info.driver.clone().into()),
            (
                "path",
                info.path
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_default()
                    .into(),
            ),
            ("maxChunkBytes", (info.max_chunk_bytes as f64).into()),
        ])?;
        let limits = object(&[
            (
                "maxStorageBufferBindingSize",
                (limits.max_storage_buffer_binding_size as f64).into(),
            ),
            ("maxBufferSize", (limits.max_buffer_size as f64).into()),
            (
                "maxComputeWorkgroupsPerDimension",
                limits.max_compute_workgroups_per_dimension.into(),
            ),
            (
                "maxComputeWorkgroupSizeX",
                limits.max_compute_workgroup_size_x.into(),
            ),
            (
                "minStorageBufferOffsetAlignment",
                limits.min_storage_buffer_offset_alignment.into(),
            ),
        ])?;
        Reflect::set(&out, &"limits".into(), &limits)?;
        let features: Array = info
            .features
            .iter_names()
            .map(|(name, _)| JsValue::from_str(name))
            .collect();
        Reflect::set(&out, &"features".into(), &features)?;
        let native: Array = info
            .native_casts
            .iter()
            .map(|&name| JsValue::from_str(name))
            .collect();
        Reflect::set(&out, &"nativeCasts".into(), &native)?;
        Ok(out)
    }

    /// Uploads a typed array as a tensor: `gpu.tensor(data, shape?, dtype?)`.
    ///
    /// `shape` defaults to `[data.length]`; `dtype` defaults to the array's type. bool takes a
    /// Uint8Array of 0/1, float16 a Float16Array or a Uint16Array of bits, bfloat16 a Uint16Array
    /// of bits. A mismatch throws a `TypeError` that says what is wrong.
    pub fn tensor(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayBufferView")] data: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number[] | null | undefined")] shape: JsValue,
        #[wasm_bindgen(unchecked_param_type = "DType | null | undefined")] dtype: Option<String>,
    ) -> Result<JsTensor, JsValue> {
        let input = typed::Input::new(&data)?;
        let dtype = input.dtype(dtype.as_deref().map(typed::parse_dtype).transpose()?)?;
        let shape = typed::shape(&shape)?.unwrap_or_else(|| vec![input.len]);
        let elems: Option<usize> = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if elems != Some(input.len) {
            return Err(type_error(&format!(
                "shape {shape:?} has {} elements but the {} has {}",
                elems.map_or_else(|| "too many".into(), |n| n.to_string()),
                input.name,
                input.len
            )));
        }
        let tensor = transfer::upload(&self.gpu, &input.bytes, dtype, &shape).map_err(js_error)?;
        Ok(JsTensor::new(tensor))
    }

    /// `{ numTensors, numBytes, numBytesPooled, numBuffersCreated }`, like `tf.memory()`: tensors
    /// alive (not yet disposed), the device bytes they hold, idle device bytes kept for reuse, and
    /// the device buffers created so far (flat in a steady loop).
    #[wasm_bindgen(unchecked_return_type = "MemoryInfo")]
    pub fn memory(&self) -> Result<Object, JsValue> {
        let m = self.gpu.memory();
        object(&[
            ("numTensors", (m.num_tensors as f64).into()),
            ("numBytes", (m.num_bytes as f64).into()),
            ("numBytesPooled", (m.pooled_bytes as f64).into()),
            ("numBuffersCreated", (m.num_created as f64).into()),
        ])
    }

    /// Resolves when all work submitted so far (uploads, casts) has finished on the GPU. Only
    /// needed for timing: `data()` already waits for the work it depends on.
    pub async fn synchronize(&self) -> Result<(), JsValue> {
        self.gpu.synchronize_async().await.map_err(js_error)
    }

    /// Loads every array of an `.npy`, `.npz` or `.safetensors` file. `source` is an
    /// ArrayBuffer, a typed array, a Blob or File, a `Response`, or a URL string (fetched);
    /// `name` (optional) gives the format by its extension, else the file's or URL's name, else
    /// the bytes' magic. Resolves to `{ name: Tensor, ... }` (an `.npy` file's one array is named
    /// `""`). The same Rust parsers and checks as natively: a bad file rejects with an `Error`
    /// that says what is wrong.
    ///
    /// A `Response`, URL, Blob or File is streamed: each chunk goes to the GPU as it arrives,
    /// and the whole file is never held in JS or wasm memory (a Fortran-order array is gathered
    /// whole, as it is transposed in its one copy). A header that disagrees with the
    /// `Content-Length` or the Blob's size fails before anything is allocated. A failed load
    /// cancels the download.
    ///
    /// `options.bf16` reads `.npy` data of descr `'<V2'` (how NumPy with ml_dtypes saves
    /// bfloat16) as bfloat16; without it such a file is an error.
    ///
    /// `options.onArray(name, tensor)` is called with each array as soon as its data has
    /// arrived, while the rest of the file still streams, so that work on it (a cast,
    /// `toTfjs`) overlaps the download; the tensor is the callback's to dispose, and the promise
    /// then resolves to an empty object. If the callback throws, the load stops and rejects.
    ///
    /// ```js
    /// const weights = {};
    /// await gpu.load(url, undefined, { onArray: (name, t) => {
    ///   weights[name] = t.toTfjs(tf);   // cast on the GPU while the next array downloads
    ///   t.dispose();
    /// } });
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, Tensor>>")]
    pub fn load(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "ArrayBuffer | ArrayBufferView | Blob | Response | string"
        )]
        source: JsValue,
        name: Option<String>,
        #[wasm_bindgen(
            unchecked_param_type = "{ bf16?: boolean, onArray?: (name: string, tensor: Tensor) => void } | undefined"
        )]
        options: JsValue,
    ) -> js_sys::Promise {
        let gpu = self.gpu.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let get = |key: &str| super::option(&options, key);
            let opts = crate::LoadOptions {
                void2_as_bf16: get("bf16")?.is_truthy(),
            };
            let on_array = get("onArray")?;
            let on_array = match on_array.is_undefined() || on_array.is_null() {
                true => None,
                false => Some(on_array.dyn_into::<js_sys::Function>().map_err(|_| {
                    super::type_error("load(): options.onArray must be a function")
                })?),
            };
            let arrays = super::source::load(&gpu, source, name, &opts, on_array.as_ref()).await?;
            let out = Object::new();
            for (key, t) in arrays {
                Reflect::set(&out, &JsValue::from_str(&key), &JsTensor::new(t).into())?;
            }
            Ok(out.into())
        })
    }

    /// Saves tensors as a file: resolves to a Blob of `format` (`"npy"`, `"npz"` or
    /// `"safetensors"`) holding `tensors` (`{ name: Tensor, ... }`, in the object's key order),
    /// byte for byte what the native `Gpu::save` writes, which NumPy and the safetensors package
    /// read. `options.compress` deflates the `.npz` entries (`np.savez_compressed`). An `.npy`
    /// holds exactly one tensor.
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn save(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"npy\" | \"npz\" | \"safetensors\"")]
        format: String,
        #[wasm_bindgen(unchecked_param_type = "Record<string, Tensor>")] tensors: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ compress?: boolean } | undefined")]
        options: JsValue,
    ) -> js_sys::Promise {
        let gpu = self.gpu.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let Some(object) = tensors.dyn_ref::<Object>().filter(|_| tensors.is_object()) else {
                return Err(type_error("save() takes an object of name: Tensor"));
            };
            let mut named = Vec::new();
            for entry in Object::entries(object) {
                let entry: Array = entry.dyn_into()?;
                let name = entry.get(0).as_string().unwrap_or_default();
                let t = JsTensor::from_js(&entry.get(1), &format!("tensors[{name:?}]"))?;
                named.push((name, t));
            }
            let compress = super::option(&options, "compress")?.is_truthy();
            let refs: Vec<(&str, &crate::Tensor)> =
                named.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let opts = crate::SaveOptions { compress };
            let bytes = gpu
                .save_bytes_async(&format, &refs, &opts)
                .await
                .map_err(js_error)?;
            let parts = Array::of1(&js_sys::Uint8Array::from(&bytes[..]));
            let kind = Object::new();
            Reflect::set(&kind, &"type".into(), &"application/octet-stream".into())?;
            let ctor: js_sys::Function =
                Reflect::get(&js_sys::global(), &"Blob".into())?.dyn_into()?;
            Reflect::construct(&ctor, &Array::of2(&parts, &kind))
        })
    }

    /// Frees the idle buffers kept for reuse.
    pub fn trim(&self) {
        self.gpu.trim();
    }

    /// Destroys the device; later calls on it or its tensors throw.
    pub fn destroy(&self) {
        self.gpu.destroy();
    }
}

impl JsGpu {
    /// The Rust [`Gpu`] behind this object.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }
}

/// A plain JS object from key/value pairs.
fn object(entries: &[(&str, JsValue)]) -> Result<Object, JsValue> {
    let out = Object::new();
    for (k, v) in entries {
        Reflect::set(&out, &JsValue::from_str(k), v)?;
    }
    Ok(out)
}
