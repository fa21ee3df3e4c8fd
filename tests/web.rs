//! The browser build on WebGPU (SwiftShader in headless Chromium): the Rust async API unchanged,
//! the blocking calls' errors, every dtype's round trip, all 169 casts against the CPU reference,
//! chunking, statistics and quantization, and the JS API (`Gpu`, `Tensor`) with its TypeErrors.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test web` (tests/run.sh does).
#![cfg(target_arch = "wasm32")]

mod common;

use common::reference::cast_bits;
use common::{
    bits_from_bytes, bytes_of, cast_inputs, edge_and_random_bits, quantize_ref, reference_hist,
    valid_bits,
};
use js_sys::{Reflect, Uint8Array};
use ndarray::{Array2, ShapeBuilder, arr1};
use tensorbridge::web::{JsGpu, JsTensor};
use tensorbridge::{DType, Error, Gpu, GpuOptions, QType, QuantSpec, TransferPath, wgpu};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn gpu() -> Gpu {
    Gpu::new_async().await.expect("WebGPU adapter")
}

fn masked(d: DType, bits: &[u64]) -> Vec<u64> {
    bits.iter().map(|&b| valid_bits(d, b)).collect()
}

#[wasm_bindgen_test]
async fn adapter_is_webgpu_on_the_web_path() {
    let gpu = gpu().await;
    let info = gpu.info();
    assert_eq!(info.backend, wgpu::Backend::BrowserWebGpu);
    assert_eq!(info.path, Some(TransferPath::Web));
    assert!(info.max_chunk_bytes > 0);
}

#[wasm_bindgen_test]
async fn every_dtype_round_trips_bit_exact() {
    let gpu = gpu().await;
    for d in DType::ALL {
        // Odd lengths exercise the partial last word; NaN payloads must survive.
        for n in [0usize, 1, 3, 1001] {
            let bits = masked(d, &edge_and_random_bits(1000, 7)[..n]);
            let t = gpu.upload_bytes(&bytes_of(d, &bits), d, &[n]).unwrap();
            let back = bits_from_bytes(d.size_in_bytes(), &t.read_bytes().await.unwrap());
            assert_eq!(back, bits, "{d} x {n}");
        }
    }
}

#[wasm_bindgen_test]
async fn strided_views_upload_and_read_into() {
    let gpu = gpu().await;
    let a = Array2::from_shape_fn((5, 7).f(), |(i, j)| (i * 10 + j) as i64);
    let t = gpu.upload(&a.t()).unwrap();
    assert_eq!(t.shape(), &[7, 5]);
    assert_eq!(t.read::<i64>().await.unwrap(), a.t().into_dyn());
    let mut out = Array2::<i64>::zeros((5, 7).f());
    let mut view = out.view_mut().reversed_axes();
    t.read_into_async(&mut view).await.unwrap();
    assert_eq!(out, a);
}

#[wasm_bindgen_test]
async fn read_as_casts_on_the_device_then_reads() {
    let gpu = gpu().await;
    let t = gpu.upload(&arr1(&[1u8, 2, 255])).unwrap();
    let f = t.read_as::<f32>().await.unwrap();
    assert_eq!(f.as_slice().unwrap(), &[1.0, 2.0, 255.0]);
    let i = t.read_as::<i64>().await.unwrap();
    assert_eq!(i.as_slice().unwrap(), &[1, 2, 255]);
}

/// The cast floor's kernel compiles in Tint too, and moves same-size bytes unchanged.
#[cfg(feature = "profiling")]
#[wasm_bindgen_test]
async fn cast_floor_moves_the_bytes() {
    let gpu = gpu().await;
    let src: Vec<i32> = (0..4096).map(|i| i * 7919 - 1_000_000).collect();
    let t = gpu.upload(&arr1(&src)).unwrap();
    let f = t.cast_floor(DType::F32).unwrap();
    let bits: Vec<i32> = f
        .read::<f32>()
        .await
        .unwrap()
        .iter()
        .map(|x| x.to_bits() as i32)
        .collect();
    assert_eq!(bits, src);
}

/// The reduction kernels compile and count in the browser too: a summary, and histograms with
/// bins counted in registers (10), in workgroup memory (100, and 4096: 16 KiB of it) and globally
/// (5000).
#[wasm_bindgen_test]
async fn statistics_match_the_cpu() {
    let gpu = gpu().await;
    let xs: Vec<f32> = (0..100_003)
        .map(|i| match i % 97 {
            0 => f32::NAN,
            _ => ((i * 7919) % 2001) as f32 - 1000.0,
        })
        .collect();
    let t = gpu.upload(&arr1(&xs)).unwrap();
    let s = t.summary_async().await.unwrap();
    assert_eq!(s.count, xs.len());
    assert_eq!(s.nan_count, xs.iter().filter(|x| x.is_nan()).count());
    // NaN propagates, as in np.min; without it the extremes are exact.
    assert!(s.min.as_f64().is_nan() && s.max.as_f64().is_nan(), "{s:?}");
    let finite: Vec<f32> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let s = gpu
        .upload(&arr1(&finite))
        .unwrap()
        .summary_async()
        .await
        .unwrap();
    assert_eq!((s.min.as_f64(), s.max.as_f64()), (-1000.0, 1000.0));
    for bins in [10, 100, 4096, 5000] {
        let h = t
            .histogram_async(bins, Some((-1000.0, 1000.0)))
            .await
            .unwrap();
        assert_eq!(
            h.counts,
            reference_hist(&xs, bins, -1000.0, 1000.0),
            "{bins}"
        );
    }
}

/// Quantization in the browser: with given parameters (no readback), per channel along either
/// axis, and back; with min and max computed, through `quantize_async`.
#[wasm_bindgen_test]
async fn quantization_runs_in_the_browser() {
    let gpu = gpu().await;
    let x = Array2::from_shape_fn((3, 40), |(c, i)| (i as f32 - 20.0) * 0.5 * (c + 1) as f32);
    let t = gpu.upload(&x).unwrap();
    for (axis, scale, zp) in [
        (0, vec![0.5, 1.0, 1.5], vec![0, 3, -2]),
        (1, vec![0.5; 40], (0..40).map(|i| i % 7 - 3).collect()),
    ] {
        let spec = QuantSpec {
            axis: Some(axis),
            params: Some((scale.clone(), zp.clone())),
            ..QuantSpec::int8()
        };
        let q = t.quantize(&spec).unwrap();
        let codes = q.codes.read::<i8>().await.unwrap();
        for ((c, i), &v) in x.indexed_iter() {
            let k = if axis == 0 { c } else { i };
            let want = quantize_ref(v, scale[k], zp[k], QType::I8);
            assert_eq!(codes[[c, i]] as i32, want, "axis {axis} at {c},{i}");
        }
        let back = q.dequantize().unwrap().read::<f32>().await.unwrap();
        assert_eq!(back, x.clone().into_dyn(), "axis {axis}");
    }
    // With min and max computed, the blocking call refuses and the async one works.
    let computed = t.quantize(&QuantSpec::int8());
    assert!(
        matches!(computed, Err(Error::BlockingUnsupported { .. })),
        "{computed:?}"
    );
    let spec = QuantSpec {
        axis: Some(1),
        ..QuantSpec::int8()
    };
    let q = t.quantize_async(&spec).await.unwrap();
    let mm = t.channel_min_max_async(Some(1)).await.unwrap();
    for (i, &(lo, hi)) in mm.iter().enumerate() {
        let col = x.column(i);
        let want = (
            col.iter().copied().fold(f32::INFINITY, f32::min),
            col.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        );
        assert_eq!((lo, hi), want, "column {i}");
    }
    let back = q.dequantize().unwrap().read::<f32>().await.unwrap();
    for ((c, i), &v) in x.indexed_iter() {
        let err = (v - back[[c, i]]).abs();
        assert!(
            err <= q.scale[i] / 2.0 * 1.001,
            "{v} -> {} at {c},{i}",
            back[[c, i]]
        );
    }
}

/// Casts every source dtype to the targets `to(from)` gives and compares with the reference.
async fn check_casts(gpu: &Gpu, to: impl Fn(DType) -> Vec<DType>) {
    let mut failures = Vec::new();
    for (i, from) in DType::ALL.into_iter().enumerate() {
        let src = cast_inputs(from, 42 + i as u64);
        let t = gpu
            .upload_bytes(&bytes_of(from, &src), from, &[src.len()])
            .unwrap();
        for to in to(from) {
            let out = t.cast(to).unwrap();
            let got = bits_from_bytes(to.size_in_bytes(), &out.read_bytes().await.unwrap());
            for (k, (&s, &g)) in src.iter().zip(&got).enumerate() {
                let want = cast_bits(from, to, s);
                if g != want {
                    failures.push(format!(
                        "{from} -> {to} [{k}]: {s:#x} gave {g:#x}, reference {want:#x}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(30)].join("\n")
    );
}

/// With the native conversions where SwiftShader passed their probe.
#[wasm_bindgen_test]
async fn all_169_casts_match_the_cpu_reference() {
    let gpu = gpu().await;
    wasm_bindgen_test::console_log!("native casts: {:?}", gpu.info().native_casts);
    check_casts(&gpu, |_| DType::ALL.to_vec()).await;
}

/// The pairs that have native conversions, in integer arithmetic only.
#[wasm_bindgen_test]
async fn integer_only_casts_match_the_cpu_reference_too() {
    let gpu = Gpu::with_options_async(GpuOptions {
        integer_casts: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(gpu.info().native_casts.is_empty());
    let float = |d: DType| matches!(d, DType::F16 | DType::BF16 | DType::F32 | DType::F64);
    let narrow_int = |d: DType| !float(d) && d.bits() <= 32;
    check_casts(&gpu, |from| {
        DType::ALL
            .into_iter()
            .filter(|&to| {
                (narrow_int(from) && float(to))
                    || (float(from) && narrow_int(to))
                    || (float(from) && to == DType::F16)
            })
            .collect()
    })
    .await;
}

#[wasm_bindgen_test]
async fn tensors_larger_than_a_chunk_are_split_invisibly() {
    let gpu = Gpu::with_options_async(GpuOptions {
        max_chunk_bytes: Some(512),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(gpu.info().max_chunk_bytes <= 512);
    let a = ndarray::Array1::from_shape_fn(10_000, |i| i as f32 * 0.75 - 3000.0);
    let t = gpu.upload(&a).unwrap();
    assert!(t.buffers().len() > 1);
    assert_eq!(t.read::<f32>().await.unwrap(), a.clone().into_dyn());
    let h = t.cast(DType::I64).unwrap();
    assert_eq!(
        h.read::<i64>().await.unwrap(),
        a.mapv(|x| x as i64).into_dyn()
    );
}

#[wasm_bindgen_test]
async fn blocking_calls_are_errors_not_hangs() {
    let blocking = |r: Result<(), Error>| {
        assert!(
            matches!(r, Err(Error::BlockingUnsupported { .. })),
            "expected BlockingUnsupported, got {r:?}"
        )
    };
    blocking(Gpu::new().map(drop));
    blocking(Gpu::with_options(GpuOptions::default()).map(drop));
    let gpu = gpu().await;
    blocking(gpu.synchronize());
    let t = gpu.upload(&arr1(&[1u8, 2, 3])).unwrap();
    blocking(t.to_array::<u8>().map(drop));
    blocking(t.to_bytes().map(drop));
    let mut out = arr1(&[0u8; 3]);
    blocking(t.read_into(&mut out.view_mut()));
    let msg = t.to_array::<u8>().unwrap_err().to_string();
    assert!(msg.contains("read().await"), "{msg}");
}

#[wasm_bindgen_test]
async fn bad_inputs_get_typed_errors() {
    let gpu = gpu().await;
    let t = gpu.upload(&arr1(&[1.0f32, 2.0])).unwrap();
    assert!(matches!(
        t.read::<i32>().await,
        Err(Error::DTypeMismatch { .. })
    ));
    assert!(matches!(
        gpu.upload_bytes(&[0u8; 7], DType::F32, &[2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        gpu.upload_bytes(&[0, 1, 2], DType::Bool, &[3]),
        Err(Error::InvalidBool { index: 2, value: 2 })
    ));
    let mut wrong = arr1(&[0.0f32; 3]);
    assert!(matches!(
        t.read_into_async(&mut wrong.view_mut()).await,
        Err(Error::ShapeMismatch { .. })
    ));
}

// ---- The JS API, called as JS would call it. ----

/// A typed array of `ctor` over `bytes` (copied into a fresh JS buffer).
fn typed(ctor: &str, bytes: &[u8]) -> JsValue {
    let buf = Uint8Array::from(bytes).buffer();
    let ctor: js_sys::Function = Reflect::get(&js_sys::global(), &ctor.into())
        .unwrap()
        .unchecked_into();
    Reflect::construct(&ctor, &js_sys::Array::of1(&buf)).unwrap()
}

fn ctor_name(v: &JsValue) -> String {
    Reflect::get(v, &js_sys::Symbol::to_string_tag())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

fn bytes_of_typed(v: &JsValue) -> Vec<u8> {
    let buf = Reflect::get(v, &"buffer".into()).unwrap();
    Uint8Array::new(&buf).to_vec()
}

async fn data(t: &JsTensor) -> Result<JsValue, JsValue> {
    JsFuture::from(t.data()).await
}

fn num(o: &JsValue, key: &str) -> f64 {
    Reflect::get(o, &key.into()).unwrap().as_f64().unwrap()
}

fn has_float16_array() -> bool {
    Reflect::has(&js_sys::global(), &"Float16Array".into()).unwrap()
}

/// (dtype, the typed array it is given as, the typed array `data()` returns)
fn js_arrays(d: DType) -> (&'static str, &'static str) {
    match d {
        DType::Bool | DType::U8 => ("Uint8Array", "Uint8Array"),
        DType::I8 => ("Int8Array", "Int8Array"),
        DType::U16 => ("Uint16Array", "Uint16Array"),
        DType::I16 => ("Int16Array", "Int16Array"),
        DType::U32 => ("Uint32Array", "Uint32Array"),
        DType::I32 => ("Int32Array", "Int32Array"),
        DType::U64 => ("BigUint64Array", "BigUint64Array"),
        DType::I64 => ("BigInt64Array", "BigInt64Array"),
        DType::F16 if has_float16_array() => ("Uint16Array", "Float16Array"),
        DType::F16 | DType::BF16 => ("Uint16Array", "Uint16Array"),
        DType::F32 => ("Float32Array", "Float32Array"),
        DType::F64 => ("Float64Array", "Float64Array"),
    }
}

#[wasm_bindgen_test]
async fn js_api_round_trips_every_dtype() {
    let g = JsGpu::create().await.unwrap();
    assert_eq!(num(&g.memory().unwrap().into(), "numTensors"), 0.0);
    for d in DType::ALL {
        let bits = masked(d, &edge_and_random_bits(500, 11));
        let bytes = bytes_of(d, &bits);
        let (input, output) = js_arrays(d);
        let n = bits.len() & !1;
        let shape: JsValue = js_sys::Array::of2(&((n / 2) as u32).into(), &2.into()).into();
        let arr = typed(input, &bytes[..n * d.size_in_bytes()]);
        let mut t = g.tensor(arr, shape, Some(d.name().into())).unwrap();
        assert_eq!(t.dtype(), d.name());
        assert_eq!(t.size(), n as f64);
        assert_eq!(t.rank(), 2);
        let back = data(&t).await.unwrap();
        assert_eq!(ctor_name(&back), output, "{d}");
        assert_eq!(
            bytes_of_typed(&back),
            &bytes[..n * d.size_in_bytes()],
            "{d}"
        );
        assert_eq!(num(&g.memory().unwrap().into(), "numTensors"), 1.0);
        t.dispose();
        assert!(t.is_disposed());
        assert_eq!(num(&g.memory().unwrap().into(), "numTensors"), 0.0);
    }
}

#[wasm_bindgen_test]
async fn js_api_infers_dtype_and_shape_and_casts() {
    let g = JsGpu::create().await.unwrap();
    let ints: Vec<i32> = vec![-3, 0, 7, 1 << 30, i32::MIN];
    let arr = typed("Int32Array", bytemuck::cast_slice(&ints));
    let t = g.tensor(arr, JsValue::UNDEFINED, None).unwrap();
    assert_eq!(t.dtype(), "int32");
    assert_eq!(t.shape().length(), 1);
    assert_eq!(t.shape().get(0).as_f64(), Some(5.0));
    let f = t.cast("float32".into()).unwrap();
    let back = data(&f).await.unwrap();
    assert_eq!(ctor_name(&back), "Float32Array");
    let want: Vec<f32> = ints.iter().map(|&i| i as f32).collect();
    assert_eq!(
        bytes_of_typed(&back),
        bytemuck::cast_slice::<f32, u8>(&want)
    );
    let h = t.cast("float16".into()).unwrap();
    let bits = bits_from_bytes(2, &bytes_of_typed(&data(&h).await.unwrap()));
    let want: Vec<u64> = ints
        .iter()
        .map(|&i| cast_bits(DType::I32, DType::F16, i as u32 as u64))
        .collect();
    assert_eq!(bits, want);
}

/// An `Error`'s message.
fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap()
}

fn expect_type_error(r: Result<JsTensor, JsValue>, words: &str) {
    let e = r.err().expect("a TypeError");
    let msg = message(&e);
    assert!(
        e.is_instance_of::<js_sys::TypeError>(),
        "not a TypeError: {msg}"
    );
    assert!(msg.contains(words), "{msg:?} lacks {words:?}");
}

#[wasm_bindgen_test]
async fn js_api_type_errors_say_what_is_wrong() {
    let g = JsGpu::create().await.unwrap();
    let f32s = || typed("Float32Array", &[0u8; 24]);
    let shape = |dims: &[u32]| -> JsValue {
        dims.iter()
            .map(|&d| JsValue::from(d))
            .collect::<js_sys::Array>()
            .into()
    };
    expect_type_error(g.tensor(f32s(), shape(&[2, 2]), None), "has 4 elements");
    expect_type_error(
        g.tensor(f32s(), shape(&[2, 3]), Some("int32".into())),
        "needs Int32Array data",
    );
    expect_type_error(
        g.tensor(f32s(), JsValue::from("3"), None),
        "shape must be an Array",
    );
    expect_type_error(
        g.tensor(f32s(), shape(&[]), Some("float33".into())),
        "float33",
    );
    let neg: JsValue = js_sys::Array::of1(&(-6).into()).into();
    expect_type_error(g.tensor(f32s(), neg, None), "non-negative");
    let plain: JsValue = js_sys::Array::of1(&1.into()).into();
    expect_type_error(g.tensor(plain, JsValue::UNDEFINED, None), "typed array");
    let bools = typed("Uint8Array", &[0, 1, 2]);
    expect_type_error(
        g.tensor(bools, JsValue::UNDEFINED, Some("bool".into())),
        "0 or 1",
    );
    let mut t = g.tensor(f32s(), JsValue::UNDEFINED, None).unwrap();
    assert!(t.cast("int4".into()).is_err());
    assert!(t.data_sync().is_err());
    t.dispose();
    t.dispose();
    let e = data(&t).await.unwrap_err();
    assert!(e.is_instance_of::<js_sys::Error>());
    assert!(t.cast("int8".into()).is_err());
}

#[wasm_bindgen_test]
async fn js_api_steady_loop_creates_no_buffers() {
    let g = JsGpu::create().await.unwrap();
    let created = |g: &JsGpu| num(&g.memory().unwrap().into(), "numBuffersCreated");
    let values: Vec<f32> = (0..1000).map(|i| i as f32 * 0.25).collect();
    let bytes: Vec<u8> = bytemuck::cast_slice(&values).to_vec();
    let mut counts = Vec::new();
    for _ in 0..3 {
        let shape: JsValue = js_sys::Array::of1(&1000.into()).into();
        let mut t = g
            .tensor(typed("Float32Array", &bytes), shape, None)
            .unwrap();
        let back = data(&t).await.unwrap();
        assert_eq!(bytes_of_typed(&back), bytes);
        t.dispose();
        counts.push(created(&g));
    }
    assert!(counts[0] > 0.0, "{counts:?}");
    assert_eq!(counts[1], counts[0], "{counts:?}");
    assert_eq!(counts[2], counts[0], "{counts:?}");
}

/// Calls method `name` of the JS object `o` with `args`, awaiting it when it returns a Promise.
async fn call(o: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = Reflect::get(o, &name.into())?.dyn_into()?;
    let args: js_sys::Array = args.iter().collect();
    let r = f.apply(o, &args)?;
    match r.dyn_ref::<js_sys::Promise>() {
        Some(p) => JsFuture::from(p.clone()).await,
        None => Ok(r),
    }
}

/// `t.summary()`, `t.histogram()`, `t.quantize()` and `q.dequantize()` from JS agree with the
/// CPU reference (the same rules the native tests check).
#[wasm_bindgen_test]
async fn js_statistics_and_quantization_match_the_cpu() {
    let g = JsGpu::create().await.unwrap();
    let (rows, cols) = (37usize, 50usize);
    let xs: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7919) % 2001) as f32 / 8.0 - 125.0)
        .collect();
    let data = js_sys::Float32Array::from(&xs[..]);
    let shape: js_sys::Array = [rows, cols]
        .iter()
        .map(|&d| JsValue::from(d as f64))
        .collect();
    let t: JsValue = g.tensor(data.into(), shape.into(), None).unwrap().into();
    let s = call(&t, "summary", &[]).await.unwrap();
    assert_eq!(num(&s, "count"), (rows * cols) as f64);
    assert_eq!(num(&s, "nanCount"), 0.0);
    let (lo, hi) = xs
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert_eq!((num(&s, "min"), num(&s, "max")), (lo as f64, hi as f64));
    // The same numbers as the Rust API gives for the same data.
    let rust = g
        .gpu()
        .upload_bytes(bytemuck::cast_slice(&xs), DType::F32, &[rows, cols])
        .unwrap();
    let want = rust.summary_async().await.unwrap();
    assert_eq!(num(&s, "sum"), want.sum.as_f64());
    assert_eq!(num(&s, "mean"), want.mean);
    let want_hist = rust
        .histogram_async(17, Some((-100.0, 100.0)))
        .await
        .unwrap();
    let range: js_sys::Array = [-100.0, 100.0].iter().map(|&x| JsValue::from(x)).collect();
    let h = call(&t, "histogram", &[JsValue::from(17), range.into()])
        .await
        .unwrap();
    let counts: Vec<u64> = js_sys::Float64Array::new(&Reflect::get(&h, &"counts".into()).unwrap())
        .to_vec()
        .into_iter()
        .map(|c| c as u64)
        .collect();
    assert_eq!(counts, reference_hist(&xs, 17, -100.0, 100.0));
    assert_eq!(counts, want_hist.counts);
    let edges = js_sys::Float64Array::new(&Reflect::get(&h, &"edges".into()).unwrap()).to_vec();
    assert_eq!((edges.len(), edges[0], edges[17]), (18, -100.0, 100.0));
    // Per-channel along axis 1, parameters from the device's min and max.
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"axis".into(), &JsValue::from(1)).unwrap();
    Reflect::set(&opts, &"dtype".into(), &"uint8".into()).unwrap();
    let q = call(&t, "quantize", &[opts.into()]).await.unwrap();
    let scale = js_sys::Float32Array::new(&Reflect::get(&q, &"scale".into()).unwrap()).to_vec();
    let zp = js_sys::Int32Array::new(&Reflect::get(&q, &"zeroPoint".into()).unwrap()).to_vec();
    assert_eq!((scale.len(), zp.len()), (cols, cols));
    let codes = Reflect::get(&q, &"codes".into()).unwrap();
    let got = Uint8Array::new(&call(&codes, "data", &[]).await.unwrap()).to_vec();
    for (i, &x) in xs.iter().enumerate() {
        let c = i % cols;
        let (mn, mx) = (0..rows)
            .map(|r| xs[r * cols + c])
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let (s_ref, z_ref) =
            tensorbridge::quant_params(QType::U8, tensorbridge::QScheme::Affine, mn, mx);
        assert_eq!((scale[c], zp[c]), (s_ref, z_ref), "channel {c}");
        assert_eq!(
            got[i] as i32,
            quantize_ref(x, s_ref, z_ref, QType::U8),
            "element {i}"
        );
    }
    let back = call(&q, "dequantize", &[]).await.unwrap();
    let deq = js_sys::Float32Array::new(&call(&back, "data", &[]).await.unwrap()).to_vec();
    for (i, (&x, &y)) in xs.iter().zip(&deq).enumerate() {
        let c = i % cols;
        assert_eq!(y, (got[i] as i32 - zp[c]) as f32 * scale[c], "element {i}");
        assert!(
            (x - y).abs() <= scale[c] / 2.0 * 1.001,
            "element {i}: {x} vs {y}"
        );
    }
    // Given parameters, and bad options as TypeErrors.
    let opts = js_sys::Object::new();
    let one = |v: f64| -> JsValue { [JsValue::from(v)].iter().collect::<js_sys::Array>().into() };
    Reflect::set(&opts, &"scale".into(), &one(0.5)).unwrap();
    Reflect::set(&opts, &"zeroPoint".into(), &one(3.0)).unwrap();
    let q = call(&t, "quantize", &[opts.into()]).await.unwrap();
    assert_eq!(
        js_sys::Float32Array::new(&Reflect::get(&q, &"scale".into()).unwrap()).to_vec(),
        [0.5]
    );
    let bad = js_sys::Object::new();
    Reflect::set(&bad, &"dtype".into(), &"int4".into()).unwrap();
    let e = call(&t, "quantize", &[bad.into()]).await.unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>(), "{e:?}");
}

/// An entry's name and its expected bytes.
type Entry<'a> = (&'a str, &'a [u8]);

/// A fixture's bytes, embedded.
macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
        .as_slice()
    };
}

/// `gpu.load()` from JS: NumPy's and safetensors' files from an ArrayBuffer, a Uint8Array, a
/// Blob and a Response load bit-exact (big-endian Fortran order and deflated entries
/// included), and bad files reject with an Error naming the problem.
#[wasm_bindgen_test]
async fn js_load_reads_every_format_bit_exact() {
    let g = JsGpu::create().await.unwrap();
    let gpu: JsValue = g.into();
    let cases: [(&str, &[u8], &[Entry]); 4] = [
        (
            "big_fortran_f8.npy",
            fixture!("npy/big_fortran_f8.npy"),
            &[("", fixture!("npy/big_fortran_f8.npy.x.bin"))],
        ),
        (
            "compressed.npz",
            fixture!("npy/compressed.npz"),
            &[
                ("w", fixture!("npy/compressed.npz.w.bin")),
                ("b", fixture!("npy/compressed.npz.b.bin")),
                ("mask", fixture!("npy/compressed.npz.mask.bin")),
                ("h", fixture!("npy/compressed.npz.h.bin")),
            ],
        ),
        (
            "stored.npz",
            fixture!("npy/stored.npz"),
            &[("b", fixture!("npy/stored.npz.b.bin"))],
        ),
        (
            "model.safetensors",
            fixture!("npy/model.safetensors"),
            &[
                ("weight", fixture!("npy/model.safetensors.weight.bin")),
                ("ids", fixture!("npy/model.safetensors.ids.bin")),
                ("bf", fixture!("npy/model.safetensors.bf.bin")),
                ("flags", fixture!("npy/model.safetensors.flags.bin")),
                ("scalar", fixture!("npy/model.safetensors.scalar.bin")),
            ],
        ),
    ];
    for (name, bytes, entries) in cases {
        let array = Uint8Array::from(bytes);
        let blob = web_sys_blob(&array);
        let response = js_response(&array);
        // With a name, and without one (the bytes' magic decides).
        let sources: [(JsValue, JsValue); 6] = [
            (array.buffer().into(), JsValue::from_str(name)),
            (array.clone().into(), JsValue::UNDEFINED),
            (blob, JsValue::from_str(name)),
            (response, JsValue::UNDEFINED),
            (chunked_response(&array, 7), JsValue::from_str(name)),
            (chunked_response(&array, 4093), JsValue::UNDEFINED),
        ];
        for (source, label) in sources {
            let loaded = call(&gpu, "load", &[source, label]).await.unwrap();
            for (entry, want) in entries {
                let t = Reflect::get(&loaded, &JsValue::from_str(entry)).unwrap();
                assert!(!t.is_undefined(), "{name}: no entry {entry:?}");
                let data = call(&t, "data", &[]).await.unwrap();
                assert_eq!(&bytes_of_typed_view(&data)[..], *want, "{name} {entry}");
            }
        }
    }
    let bad: [(&str, &[u8], &str); 4] = [
        ("truncated.npy", fixture!("bad/truncated.npy"), "truncated"),
        ("huge_header.npy", fixture!("bad/huge_header.npy"), "limit"),
        (
            "truncated.npz",
            fixture!("bad/truncated.npz"),
            "truncated.npz",
        ),
        (
            "offsets_out_of_range.safetensors",
            fixture!("bad/offsets_out_of_range.safetensors"),
            "offsets_out_of_range",
        ),
    ];
    for (name, bytes, needle) in bad {
        let array = Uint8Array::from(bytes);
        for source in [array.clone().into(), chunked_response(&array, 5)] {
            let e = call(&gpu, "load", &[source, JsValue::from_str(name)])
                .await
                .unwrap_err();
            let msg = message(&e);
            assert!(msg.to_lowercase().contains(needle), "{name}: {msg}");
        }
    }
    let e = call(&gpu, "load", &[JsValue::from(42)]).await.unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>());
}

/// `gpu.load(source, name, { onArray })`: each array goes to the callback as soon as its data
/// has arrived (the first before the body has all been read), in file order and bit-exact,
/// and the promise resolves to an empty object; a callback that throws rejects the load.
#[wasm_bindgen_test]
async fn js_load_hands_out_arrays_as_they_arrive() {
    let g = JsGpu::create().await.unwrap();
    let gpu: JsValue = g.into();
    let bytes = fixture!("npy/model.safetensors");
    let entries: [Entry; 7] = [
        ("weight", fixture!("npy/model.safetensors.weight.bin")),
        ("ids", fixture!("npy/model.safetensors.ids.bin")),
        ("bf", fixture!("npy/model.safetensors.bf.bin")),
        ("bias", fixture!("npy/model.safetensors.bias.bin")),
        ("bytes", fixture!("npy/model.safetensors.bytes.bin")),
        ("flags", fixture!("npy/model.safetensors.flags.bin")),
        ("scalar", fixture!("npy/model.safetensors.scalar.bin")),
    ];
    // A body read in 16-byte pieces that counts its reads, and a callback that records each
    // array with the count at the time.
    let setup = js_sys::Function::new_with_args(
        "bytes",
        "const seen = { reads: 0, got: [] }; let at = 0; \
         seen.response = new Response(new ReadableStream({ pull(c) { \
           if (at >= bytes.length) { c.close(); return; } \
           seen.reads++; c.enqueue(bytes.slice(at, at + 16)); at += 16; } })); \
         seen.onArray = (name, t) => seen.got.push([name, seen.reads, t]); \
         return seen;",
    );
    let seen = setup
        .call1(&JsValue::NULL, &Uint8Array::from(bytes).into())
        .unwrap();
    let options = js_sys::Object::new();
    Reflect::set(
        &options,
        &"onArray".into(),
        &Reflect::get(&seen, &"onArray".into()).unwrap(),
    )
    .unwrap();
    let response = Reflect::get(&seen, &"response".into()).unwrap();
    let loaded = call(
        &gpu,
        "load",
        &[response, "model.safetensors".into(), options.into()],
    )
    .await
    .unwrap();
    assert_eq!(
        js_sys::Object::keys(loaded.unchecked_ref::<js_sys::Object>()).length(),
        0
    );
    let reads = num(&seen, "reads");
    let got: js_sys::Array = Reflect::get(&seen, &"got".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(got.length() as usize, entries.len());
    let mut order = Vec::new();
    for (i, item) in got.iter().enumerate() {
        let item: js_sys::Array = item.dyn_into().unwrap();
        let name = item.get(0).as_string().unwrap();
        let at = item.get(1).as_f64().unwrap();
        if i == 0 {
            assert!(
                at < reads,
                "the first array came only after all {reads} reads"
            );
        }
        let (_, want) = entries.iter().find(|(n, _)| *n == name).unwrap();
        let data = call(&item.get(2), "data", &[]).await.unwrap();
        assert_eq!(&bytes_of_typed_view(&data)[..], *want, "{name}");
        order.push(name);
    }
    // In file order: the order of a plain load's keys.
    let plain = call(
        &gpu,
        "load",
        &[Uint8Array::from(bytes).into(), "model.safetensors".into()],
    )
    .await
    .unwrap();
    let keys: Vec<String> = js_sys::Object::keys(plain.unchecked_ref::<js_sys::Object>())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(order, keys);
    // A callback that throws stops the load, which rejects with its error.
    let throwing =
        js_sys::Function::new_with_args("name, t", "t.dispose(); throw new Error('no thanks');");
    let options = js_sys::Object::new();
    Reflect::set(&options, &"onArray".into(), &throwing).unwrap();
    let array = Uint8Array::from(bytes);
    let e = call(
        &gpu,
        "load",
        &[
            chunked_response(&array, 64),
            "model.safetensors".into(),
            options.into(),
        ],
    )
    .await
    .unwrap_err();
    let msg = message(&e);
    assert_eq!(msg, "no thanks");
    // onArray must be a function.
    let options = js_sys::Object::new();
    Reflect::set(&options, &"onArray".into(), &JsValue::from(3)).unwrap();
    let e = call(
        &gpu,
        "load",
        &[array.into(), "model.safetensors".into(), options.into()],
    )
    .await
    .unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>());
}

/// The bytes a typed array views (not the whole buffer behind it).
fn bytes_of_typed_view(v: &JsValue) -> Vec<u8> {
    let buffer = Reflect::get(v, &"buffer".into()).unwrap();
    let offset = Reflect::get(v, &"byteOffset".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    let len = Reflect::get(v, &"byteLength".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    Uint8Array::new_with_byte_offset_and_length(&buffer, offset, len).to_vec()
}

/// `new Blob([bytes])`.
fn web_sys_blob(bytes: &Uint8Array) -> JsValue {
    let ctor: js_sys::Function = Reflect::get(&js_sys::global(), &"Blob".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let parts: js_sys::Array = [JsValue::from(bytes.clone())].iter().collect();
    Reflect::construct(&ctor, &[JsValue::from(parts)].iter().collect()).unwrap()
}

/// A `Response` whose body stream delivers `bytes` in pieces of `chunk` bytes, as a network
/// response arrives.
fn chunked_response(bytes: &Uint8Array, chunk: u32) -> JsValue {
    let make = js_sys::Function::new_with_args(
        "bytes, chunk",
        "let at = 0; return new Response(new ReadableStream({ pull(c) { \
           if (at >= bytes.length) { c.close(); return; } \
           c.enqueue(bytes.slice(at, at + chunk)); at += chunk; } }));",
    );
    make.call2(&JsValue::NULL, bytes, &chunk.into()).unwrap()
}

/// `new Response(bytes)`.
fn js_response(bytes: &Uint8Array) -> JsValue {
    let ctor: js_sys::Function = Reflect::get(&js_sys::global(), &"Response".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    Reflect::construct(&ctor, &[JsValue::from(bytes.clone())].iter().collect()).unwrap()
}

/// `gpu.save()` from JS: Blobs of every format, byte for byte the files the native save writes
/// (`tests/fixtures/saved/`, checked natively by `files::saved_bytes_match_the_committed_files`),
/// and an `.npy` of each dtype byte for byte NumPy's own file.
#[wasm_bindgen_test]
async fn js_save_writes_the_native_bytes() {
    let g = JsGpu::create().await.unwrap();
    let gpu: JsValue = g.into();
    // gpu.save(format, tensors, options), as the Blob's bytes or the rejection.
    let save = |format: &str, tensors: &JsValue, options: JsValue| {
        let (gpu, format, tensors) = (gpu.clone(), JsValue::from(format), tensors.clone());
        async move {
            let blob = call(&gpu, "save", &[format, tensors, options]).await?;
            let bytes = call(&blob, "arrayBuffer", &[]).await?;
            Ok::<_, JsValue>(Uint8Array::new(&bytes).to_vec())
        }
    };
    let model = Uint8Array::from(fixture!("npy/model.safetensors"));
    let loaded = call(&gpu, "load", &[model.into(), "model.safetensors".into()])
        .await
        .unwrap();
    let cases: [(&str, bool, &[u8]); 3] = [
        ("npz", false, fixture!("saved/model.npz")),
        ("npz", true, fixture!("saved/model_z.npz")),
        ("safetensors", false, fixture!("saved/model.safetensors")),
    ];
    for (format, compress, want) in cases {
        let opts = js_sys::Object::new();
        Reflect::set(&opts, &"compress".into(), &compress.into()).unwrap();
        let bytes = save(format, &loaded, opts.into()).await.unwrap();
        assert!(bytes == want, "{format} compress={compress}: bytes differ");
    }
    let one = js_sys::Object::new();
    let npy = Uint8Array::from(fixture!("npy/float16.npy"));
    let t = call(&gpu, "load", &[npy.into(), "float16.npy".into()])
        .await
        .unwrap();
    Reflect::set(&one, &"x".into(), &Reflect::get(&t, &"".into()).unwrap()).unwrap();
    let bytes = save("npy", &one.into(), JsValue::UNDEFINED).await.unwrap();
    assert!(
        bytes == fixture!("npy/float16.npy"),
        "npy bytes differ from NumPy's"
    );
    // The tensors saved stay usable; bad input rejects with what was wrong.
    let w = Reflect::get(&loaded, &"weight".into()).unwrap();
    call(&w, "data", &[]).await.unwrap();
    let e = save("npy", &loaded, JsValue::UNDEFINED).await.unwrap_err();
    let msg = Reflect::get(&e, &"message".into()).unwrap().as_string();
    assert!(
        msg.as_deref().unwrap_or("").contains("exactly one"),
        "{msg:?}"
    );
    let bad = js_sys::Object::new();
    Reflect::set(&bad, &"x".into(), &JsValue::from(3)).unwrap();
    let e = save("npz", &bad.into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>(), "{e:?}");
}
