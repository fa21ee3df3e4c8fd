//! Tensors larger than `max_storage_buffer_binding_size` (128 MiB on lavapipe and llvmpipe GL)
//! are chunked invisibly: 300 MiB on every adapter, 1.5 GiB on Vulkan, and casts across chunks.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use ndarray::Array1;
use tensorbridge::{DType, Gpu, GpuOptions};

fn pattern(n: usize) -> Array1<f32> {
    Array1::from_shape_fn(n, |i| (i as u32).wrapping_mul(2_654_435_761) as f32)
}

fn default_gpus() -> Vec<Gpu> {
    Gpu::adapters()
        .into_iter()
        .map(|a| {
            Gpu::with_options(GpuOptions {
                backend: Some(a.backend),
                adapter_name: Some(a.name),
                ..Default::default()
            })
            .unwrap()
        })
        .collect()
}

#[test]
fn tensor_of_300_mib_round_trips_and_casts() {
    let n = (300 << 20) / 4;
    let a = pattern(n);
    for gpu in default_gpus() {
        let name = format!("{:?}", gpu.info().backend);
        let binding = gpu.info().limits.max_storage_buffer_binding_size;
        let t = gpu.upload(&a).unwrap();
        assert!(
            t.size_in_bytes() > binding,
            "{name}: test must exceed the binding limit"
        );
        assert!(t.buffers().len() > 1, "{name}: chunked");
        let mut back = Array1::<f32>::zeros(n);
        t.read_into(&mut back.view_mut()).unwrap();
        assert!(back == a, "{name}: 300 MiB round trip");
        // 300 MiB f32 -> 600 MiB f64, across chunk boundaries of both.
        let wide = t.cast(DType::F64).unwrap();
        drop(t);
        let mut w = Array1::<f64>::zeros(n);
        wide.read_into(&mut w.view_mut()).unwrap();
        let bad = w.iter().zip(&a).position(|(x, y)| *x != *y as f64);
        assert_eq!(bad, None, "{name}: f32 -> f64 over 600 MiB");
    }
}

#[test]
fn tensor_of_1_5_gib_on_vulkan() {
    let Some(info) = Gpu::adapters()
        .into_iter()
        .find(|a| a.backend == tensorbridge::wgpu::Backend::Vulkan)
    else {
        assert!(std::env::var_os("CI").is_none(), "CI must have lavapipe");
        return;
    };
    let gpu = Gpu::with_options(GpuOptions {
        backend: Some(info.backend),
        ..Default::default()
    })
    .unwrap();
    let n = 3usize << 29; // 1.5 GiB of u8
    let a = Array1::from_shape_fn(n, |i| (i ^ (i >> 13)) as u8);
    let t = gpu.upload(&a).unwrap();
    assert_eq!(t.size_in_bytes(), 3 << 29);
    let mut back = Array1::<u8>::zeros(n);
    t.read_into(&mut back.view_mut()).unwrap();
    assert!(back == a, "1.5 GiB round trip");
}

/// A device whose buffers are capped far below the data (as if max_buffer_size were tiny):
/// upload, read and cast still see one tensor.
#[test]
fn small_max_buffer_size_chunks_invisibly() {
    for a in Gpu::adapters() {
        let gpu = Gpu::with_options(GpuOptions {
            backend: Some(a.backend),
            adapter_name: Some(a.name.clone()),
            max_chunk_bytes: Some(64 << 10),
            ..Default::default()
        })
        .unwrap();
        let n = 1_000_003;
        let x = Array1::from_shape_fn(n, |i| i as i32 - 500_000);
        let t = gpu.upload(&x).unwrap();
        assert!(t.buffers().len() > 60);
        assert_eq!(t.to_array::<i32>().unwrap(), x.clone().into_dyn());
        let h = t.cast(DType::I16).unwrap();
        assert_eq!(
            h.to_array::<i16>().unwrap(),
            x.mapv(|v| v as i16).into_dyn(),
            "{}",
            a.name
        );
        let f = h.cast(DType::F64).unwrap();
        assert_eq!(
            f.to_array::<f64>().unwrap(),
            x.mapv(|v| v as i16 as f64).into_dyn()
        );
    }
}
