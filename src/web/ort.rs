//! Tensors into ONNX Runtime Web and back without leaving the GPU: `t.toOrt(ort)` and
//! `gpu.fromOrt(ortTensor)`.
//!
//! ORT must run on tensorbridge's device: `ort.env.webgpu.adapter = gpu.sharedAdapter()` before
//! the first session (onnxruntime-web's default build, whose WebGPU backend makes its device from
//! that adapter). onnxruntime-web is never a dependency: the app passes its `ort` in.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::interop::call;
use super::transfer::web_buffer;
use super::{JsGpu, JsTensor, js_error, type_error};
use crate::{DType, Error, Tensor};

/// ORT's names for the dtypes it takes in a GPU buffer (`Tensor.fromGpuBuffer`), whose GPU layout
/// is tensorbridge's: elements in their host byte layout, uint8 and bool packed four to a word.
const ORT_GPU: [(DType, &str); 7] = [
    (DType::F32, "float32"),
    (DType::F16, "float16"),
    (DType::I32, "int32"),
    (DType::I64, "int64"),
    (DType::U32, "uint32"),
    (DType::U8, "uint8"),
    (DType::Bool, "bool"),
];

/// ORT's names for the other dtypes, which it holds on the CPU only.
const ORT_CPU: [(DType, &str); 5] = [
    (DType::I8, "int8"),
    (DType::U16, "uint16"),
    (DType::I16, "int16"),
    (DType::U64, "uint64"),
    (DType::F64, "float64"),
];

fn ort_name(d: DType) -> Option<&'static str> {
    ORT_GPU
        .iter()
        .chain(&ORT_CPU)
        .find(|(x, _)| *x == d)
        .map(|(_, n)| *n)
}

fn from_ort_name(name: &str) -> Option<DType> {
    ORT_GPU
        .iter()
        .chain(&ORT_CPU)
        .find(|(_, n)| *n == name)
        .map(|(d, _)| *d)
}

/// The ORT GPU dtype a tensor goes as by default: its own when ORT takes it in a GPU buffer,
/// else bfloat16 and float64 as float32, and 8- and 16-bit integers as int32.
fn default_ort_dtype(d: DType) -> Result<DType, Error> {
    Ok(match d {
        DType::F32
        | DType::F16
        | DType::I32
        | DType::I64
        | DType::U32
        | DType::U8
        | DType::Bool => d,
        DType::BF16 | DType::F64 => DType::F32,
        DType::I8 | DType::I16 | DType::U16 => DType::I32,
        DType::U64 => {
            return Err(Error::InvalidOption {
                name: "toOrt",
                value: d.name().into(),
                reason: "ORT has no uint64 GPU tensors and its values may not fit int64; pass \
                         { dtype: \"int64\" } (wraps) or { dtype: \"float32\" } (rounds)"
                    .into(),
            });
        }
    })
}

#[wasm_bindgen(js_class = Gpu)]
impl JsGpu {
    /// A tensorbridge tensor holding an ONNX Runtime Web tensor's values. A tensor whose
    /// `location` is "gpu-buffer" (an output of a session on this `Gpu`'s device, or one made
    /// by `toOrt`) is copied GPU to GPU with one `copyBufferToBuffer`; a "cpu" tensor is
    /// uploaded from its `data`. Every ORT dtype is taken. The ORT tensor stays the caller's
    /// (dispose it as usual); the result is independent of it.
    #[wasm_bindgen(js_name = fromOrt)]
    pub fn from_ort(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] tensor: JsValue,
    ) -> Result<JsTensor, JsValue> {
        let name = Reflect::get(&tensor, &"type".into())?.as_string();
        let Some(dtype) = name.as_deref().and_then(from_ort_name) else {
            return Err(type_error(&format!(
                "fromOrt takes an ort.Tensor of a numeric or bool type, not {name:?}"
            )));
        };
        let dims = Reflect::get(&tensor, &"dims".into())?;
        let location = Reflect::get(&tensor, &"location".into())?.as_string();
        match location.as_deref() {
            Some("gpu-buffer") => {
                let shape = super::typed::shape(&dims)?.unwrap_or_default();
                let buffer = Reflect::get(&tensor, &"gpuBuffer".into())?;
                Ok(JsTensor::new(
                    self.copy_from_buffer(&buffer, dtype, &shape)?,
                ))
            }
            Some("cpu") | Some("cpu-pinned") => {
                let data = Reflect::get(&tensor, &"data".into())?;
                self.tensor(data, dims, Some(dtype.name().into()))
            }
            other => Err(type_error(&format!(
                "fromOrt takes an ort.Tensor on \"gpu-buffer\" or \"cpu\", not {other:?}"
            ))),
        }
    }
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// An ONNX Runtime Web tensor over this tensor's GPU buffer
    /// (`ort.Tensor.fromGpuBuffer(buffer, { dataType, dims, download, dispose })`), for a
    /// session running on this `Gpu`'s device (see `Gpu.sharedAdapter`).
    ///
    /// float32, float16, int32, int64, uint32, uint8 and bool go with no copy: ORT reads
    /// tensorbridge's own buffer, whose layout is ORT's. bfloat16 and float64 are cast on the
    /// GPU to float32, 8- and 16-bit integers to int32; `options.dtype` (any of ORT's seven GPU
    /// dtypes) asks for a cast instead, and uint64 tensors need it.
    ///
    /// Lifetimes: the ORT tensor holds its own reference to the buffer, so this tensor may be
    /// disposed first. The buffer is freed when both are disposed: call `ortTensor.dispose()`.
    /// The two share memory: ORT sees what is later written into this tensor.
    /// `ortTensor.getData()` reads back through tensorbridge.
    #[wasm_bindgen(js_name = toOrt)]
    pub fn to_ort(
        &self,
        #[wasm_bindgen(unchecked_param_type = "any")] ort: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "{ dtype?: \"float32\" | \"float16\" | \"int32\" | \"int64\" | \"uint32\" | \"uint8\" | \"bool\" } | undefined"
        )]
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let t = self.tensor()?;
        let asked = super::option(&options, "dtype")?.as_string();
        let want = match asked.as_deref() {
            Some(name) => ORT_GPU
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(d, _)| *d)
                .ok_or_else(|| {
                    type_error(&format!(
                        "toOrt dtype {name:?}: one of {}",
                        ORT_GPU.map(|(_, n)| n).join(", ")
                    ))
                })?,
            None => default_ort_dtype(t.dtype()).map_err(js_error)?,
        };
        // ORT reads a GPU buffer from byte 0: a tensor that starts there in one buffer goes as
        // it is; anything else (a cast, a chunked or sub-allocated tensor) goes through one
        // new buffer.
        let held = if t.dtype() == want && t.inner.chunks.len() == 1 && t.inner.offset == 0 {
            t.clone()
        } else {
            let out = Tensor::alloc_single(t.gpu(), want, t.shape()).map_err(js_error)?;
            match t.dtype() == want {
                true => t.copy_to_buffer(&out.inner.chunks[0], 0),
                false => t.cast_into(&out),
            }
            .map_err(js_error)?;
            out
        };
        let buffer = web_buffer(&held.inner.chunks[0]).map_err(js_error)?.clone();
        let keep: JsValue = JsTensor::new(held).into();
        let method = |name: &str| -> Result<Function, JsValue> {
            let f: Function = Reflect::get(&keep, &name.into())?.dyn_into()?;
            Ok(f.bind0(&keep))
        };
        let dims = super::js_shape(t.shape());
        let params = Object::new();
        let name = ort_name(want).unwrap_or("float32");
        Reflect::set(&params, &"dataType".into(), &name.into())?;
        Reflect::set(&params, &"dims".into(), &dims)?;
        Reflect::set(&params, &"download".into(), &method("data")?.into())?;
        Reflect::set(&params, &"dispose".into(), &method("dispose")?.into())?;
        let class = Reflect::get(&ort, &"Tensor".into())?;
        call(&class, "fromGpuBuffer", &[buffer.into(), params.into()])
    }
}
