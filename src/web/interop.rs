//! Sharing tensorbridge's device with other WebGPU libraries: `gpu.device` (so TF.js's WebGPU
//! backend runs on it), `gpu.sharedAdapter()` (for libraries that make their device from an
//! adapter, such as ONNX Runtime Web), and TF.js tensors: `t.toTfjs(tf)` and
//! `gpu.fromTfjs(tfTensor)`.
//!
//! TF.js is never a dependency: the app passes its `tf` in.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::transfer::web_buffer;
use super::{JsGpu, JsTensor, js_error, type_error};
use crate::{DType, Error, Tensor};

/// `o[name](...args)`.
pub(super) fn call(o: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(o, &name.into())?.dyn_into()?;
    f.apply(o, &args.iter().collect::<Array>())
}

/// The dtype TF.js holds a tensorbridge dtype as by default: float32 and int32 as they are,
/// bool as TF.js's bool, other floats as float32, integers that always fit as int32.
fn tfjs_dtype(d: DType) -> Result<&'static str, Error> {
    Ok(match d {
        DType::F32 | DType::F16 | DType::BF16 | DType::F64 => "float32",
        DType::Bool => "bool",
        DType::I32 | DType::U8 | DType::I8 | DType::U16 | DType::I16 => "int32",
        _ => {
            return Err(Error::InvalidOption {
                name: "toTfjs",
                value: d.name().into(),
                reason: "its values may not fit TF.js's int32; pass { dtype: \"int32\" } (wraps) \
                         or { dtype: \"float32\" } (rounds)"
                    .into(),
            });
        }
    })
}

#[wasm_bindgen(js_class = Gpu)]
impl JsGpu {
    /// The WebGPU `GPUDevice` this `Gpu` runs on. Run TF.js on it, and tensors pass between the
    /// two without leaving the GPU:
    ///
    /// ```js
    /// // TF.js's WebGPU kernels are registered for the backend named "webgpu".
    /// tf.removeBackend("webgpu");
    /// tf.registerBackend("webgpu", () => new tf.WebGPUBackend(gpu.device));
    /// await tf.setBackend("webgpu");
    /// ```
    #[wasm_bindgen(getter, unchecked_return_type = "GPUDevice")]
    pub fn device(&self) -> JsValue {
        self.gpu()
            .device()
            .as_webgpu()
            .map_or(JsValue::NULL, |d| d.clone().into())
    }

    /// A `GPUAdapter` stand-in whose `requestDevice()` resolves to this `Gpu`'s own device
    /// (`limits`, `features` and `info` are the device's), for a library that makes its device
    /// from an adapter. onnxruntime-web's WebGPU backend does, so this runs ORT on
    /// tensorbridge's device:
    ///
    /// ```js
    /// import * as ort from "onnxruntime-web";
    /// ort.env.webgpu.adapter = gpu.sharedAdapter(); // before the first session
    /// ```
    ///
    /// Such a library may install its own `onuncapturederror` handler on the device; before
    /// handing the device over, tensorbridge moves its handler to an event listener, so both
    /// keep seeing errors.
    #[wasm_bindgen(js_name = sharedAdapter, unchecked_return_type = "GPUAdapter")]
    pub fn shared_adapter(&self) -> Result<JsValue, JsValue> {
        let device = self.device();
        let adapter = Object::new();
        for (ours, theirs) in [
            ("limits", "limits"),
            ("features", "features"),
            ("info", "adapterInfo"),
        ] {
            Reflect::set(
                &adapter,
                &ours.into(),
                &Reflect::get(&device, &theirs.into())?,
            )?;
        }
        Reflect::set(&adapter, &"isFallbackAdapter".into(), &JsValue::FALSE)?;
        let shared = device.clone();
        let request = Closure::<dyn FnMut(JsValue) -> Result<js_sys::Promise, JsValue>>::new(
            move |_descriptor: JsValue| {
                let handler = Reflect::get(&shared, &"onuncapturederror".into())?;
                if handler.is_function() {
                    call(
                        &shared,
                        "addEventListener",
                        &["uncapturederror".into(), handler],
                    )?;
                    Reflect::set(&shared, &"onuncapturederror".into(), &JsValue::NULL)?;
                }
                Ok(js_sys::Promise::resolve(&shared))
            },
        );
        Reflect::set(&adapter, &"requestDevice".into(), &request.into_js_value())?;
        Ok(adapter.into())
    }

    /// A tensorbridge tensor holding a TF.js tensor's values, copied GPU to GPU
    /// (`tfTensor.dataToGPU()`, then one `copyBufferToBuffer`): float32 and int32 as they are,
    /// bool as bool. TF.js must run on this `Gpu`'s device (see `device`). A tensor whose
    /// values TF.js still keeps on the CPU (made from a JS array, used by no kernel yet) is
    /// uploaded from there instead. The TF.js tensor stays the caller's; the result is
    /// independent of it.
    #[wasm_bindgen(js_name = fromTfjs)]
    pub fn from_tfjs(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] tensor: JsValue,
    ) -> Result<JsTensor, JsValue> {
        let dtype = Reflect::get(&tensor, &"dtype".into())?.as_string();
        let (tf_dtype, ours) = match dtype.as_deref() {
            Some("float32") => ("float32", DType::F32),
            Some("int32") => ("int32", DType::I32),
            Some("bool") => ("bool", DType::I32),
            other => {
                return Err(type_error(&format!(
                    "fromTfjs takes a float32, int32 or bool tf.Tensor, not {other:?}"
                )));
            }
        };
        let shape =
            super::typed::shape(&Reflect::get(&tensor, &"shape".into())?)?.unwrap_or_default();
        let data = match call(&tensor, "dataToGPU", &[]) {
            Ok(d) => d,
            // TF.js still holds the values on the CPU (a tensor no kernel has touched yet):
            // upload them from there, once.
            Err(e) if format!("{e:?}").contains("on CPU") => {
                let values = call(&tensor, "dataSync", &[])?;
                let shape = Reflect::get(&tensor, &"shape".into())?;
                return self.tensor(values, shape, Some(tf_dtype.into()));
            }
            Err(e) => return Err(e),
        };
        let buffer = Reflect::get(&data, &"buffer".into())?;
        let tensor_ref = Reflect::get(&data, &"tensorRef".into())?;
        let result = (|| {
            if buffer.is_undefined() || buffer.is_null() {
                return Err(type_error(
                    "the tf.Tensor is not on TF.js's WebGPU backend (dataToGPU gave no buffer)",
                ));
            }
            let t = self.copy_from_buffer(&buffer, ours, &shape)?;
            let t = match tf_dtype {
                "bool" => t.cast(DType::Bool).map_err(js_error)?,
                _ => t,
            };
            Ok(JsTensor::new(t))
        })();
        call(&tensor_ref, "dispose", &[])?;
        result
    }
}

impl JsGpu {
    /// A new tensor holding a JS `GPUBuffer`'s first bytes (another framework's tensor),
    /// copied on the GPU chunk by chunk.
    pub(super) fn copy_from_buffer(
        &self,
        src: &JsValue,
        dtype: DType,
        shape: &[usize],
    ) -> Result<Tensor, JsValue> {
        let t = Tensor::alloc(self.gpu(), dtype, shape).map_err(js_error)?;
        let device = self.device();
        let encoder = call(&device, "createCommandEncoder", &[])?;
        let size = t.dtype().size_in_bytes() as u64;
        for p in t.pieces(u64::MAX) {
            let dst = web_buffer(&t.inner.chunks[p.chunk]).map_err(js_error)?;
            let bytes = p.padded_bytes(&t.inner);
            call(
                &encoder,
                "copyBufferToBuffer",
                &[
                    src.clone(),
                    JsValue::from_f64((p.start as u64 * size) as f64),
                    dst.clone().into(),
                    JsValue::from_f64(p.offset(&t.inner) as f64),
                    JsValue::from_f64(bytes as f64),
                ],
            )?;
        }
        let commands = call(&encoder, "finish", &[])?;
        let queue = Reflect::get(&device, &"queue".into())?;
        call(&queue, "submit", &[Array::of1(&commands).into()])?;
        self.gpu().check().map_err(js_error)?;
        Ok(t)
    }
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// A `tf.Tensor` with this tensor's values, made on the GPU
    /// (`tf.tensor({ buffer, zeroCopy: true }, shape, dtype)` over a buffer of exactly its size:
    /// TF.js's `data()` reads such a buffer whole). TF.js must run on the same device (see
    /// `Gpu.device`). bool becomes TF.js's bool (made as int32, then cast by TF.js), float16,
    /// bfloat16 and float64 float32,
    /// and 8- and 16-bit integers int32, each cast on the GPU straight into that buffer;
    /// float32 and int32 are copied into it on the device. `options.dtype` ("float32" or
    /// "int32") asks for a cast instead; uint32, int64 and uint64 tensors need it.
    ///
    /// Lifetimes: the `tf.Tensor` holds its buffer; the two tensors are independent, so either
    /// may be disposed first. Dispose the `tf.Tensor` as usual. TF.js never destroys a
    /// zero-copy buffer, and wgpu cannot wrap one TF.js allocated, so the buffer's GPU memory is
    /// freed when the browser garbage-collects the `GPUBuffer`.
    #[wasm_bindgen(js_name = toTfjs)]
    pub fn to_tfjs(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] tf: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ dtype?: \"float32\" | \"int32\" } | undefined")]
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let t = self.tensor()?;
        let asked = super::option(&options, "dtype")?.as_string();
        let tf_dtype = match asked.as_deref() {
            Some("float32") => "float32",
            Some("int32") => "int32",
            Some(other) => {
                return Err(type_error(&format!(
                    "toTfjs dtype {other:?}: \"float32\" or \"int32\""
                )));
            }
            None => tfjs_dtype(t.dtype()).map_err(js_error)?,
        };
        let want = match tf_dtype {
            "float32" => DType::F32,
            _ => DType::I32,
        };
        // TF.js's data() reads a zero-copy buffer whole, so TF.js gets a buffer of exactly the
        // tensor's size: the cast writes straight into it, float32 and int32 are copied there
        // on the device.
        let gpu = t.gpu();
        let size = (t.len() as u64 * 4).max(4);
        let exact = gpu.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensorbridge toTfjs"),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let held =
            Tensor::from_wgpu_buffer(gpu, exact.clone(), 0, want, t.shape()).map_err(js_error)?;
        match t.dtype() == want {
            true => t.copy_to_buffer(&exact, 0),
            false => t.cast_into(&held),
        }
        .map_err(js_error)?;
        let buffer = web_buffer(&exact).map_err(js_error)?.clone();
        let source = Object::new();
        Reflect::set(&source, &"buffer".into(), &buffer)?;
        Reflect::set(&source, &"zeroCopy".into(), &JsValue::TRUE)?;
        let shape = super::js_shape(t.shape());
        // TF.js takes GPU data as float32 or int32 only: a bool goes in as int32 and TF.js
        // casts it (a TF.js kernel on the device).
        let gpu_dtype = if tf_dtype == "bool" {
            "int32"
        } else {
            tf_dtype
        };
        let mut out = call(
            &tf,
            "tensor",
            &[source.into(), shape.into(), gpu_dtype.into()],
        )?;
        if tf_dtype == "bool" {
            let as_bool = call(&tf, "cast", &[out.clone(), "bool".into()])?;
            call(&out, "dispose", &[])?;
            out = as_bool;
        }
        // The tf.Tensor holds the GPUBuffer; dropping the Rust handles frees nothing on the web
        // (wgpu's WebGPU buffers are freed by JS garbage collection, never destroyed here).
        drop(held);
        Ok(out)
    }
}
