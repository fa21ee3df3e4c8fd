//! tensorbridge's paths into and out of Burn against Burn's own, on the same device (lavapipe
//! where it is the default adapter): 128 MiB f32 ndarray → Burn tensor, Burn tensor → ndarray,
//! and a 256 MiB bf16 safetensors file of 8 tensors → f32 Burn tensors.
//!
//! `cargo bench -p tensorbridge-burn --features profiling`

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array1;
use tensorbridge::{DType, Gpu};
use tensorbridge_burn::{Bridge, compare};

fn interop(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let bridge = Bridge::new(&gpu).expect("Burn on tensorbridge's device");
    let n = 32 << 20; // 128 MiB of f32
    let a = Array1::from_shape_fn(n, |i| (i % 1000) as f32 * 0.5);
    let mut g = c.benchmark_group("burn_128MiB_f32");
    g.sample_size(10);
    g.bench_function("upload/burn_from_data", |b| {
        b.iter(|| compare::upload_burn(&bridge, &a).unwrap())
    });
    g.bench_function("upload/tensorbridge", |b| {
        b.iter(|| compare::upload_ours(&bridge, &a).unwrap())
    });
    let t = compare::upload_ours(&bridge, &a).unwrap();
    g.bench_function("read/burn_into_data", |b| {
        b.iter(|| compare::read_burn(t.clone()).unwrap())
    });
    g.bench_function("read/tensorbridge", |b| {
        b.iter(|| compare::read_ours(&bridge, t.clone()).unwrap())
    });
    g.finish();

    let dir = std::env::temp_dir().join(format!("tb-burn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    let parts: Vec<_> = (0..8)
        .map(|k| {
            gpu.upload(&Array1::from_shape_fn(16 << 20, |i| {
                ((i + k) % 777) as f32 - 300.0
            }))
            .unwrap()
        })
        .map(|t| t.cast(DType::BF16).unwrap())
        .collect();
    let names: Vec<String> = (0..8).map(|k| format!("w{k}")).collect();
    let named: Vec<(&str, &tensorbridge::Tensor)> =
        names.iter().map(|n| n.as_str()).zip(parts.iter()).collect();
    gpu.save(&path, &named).unwrap();
    drop(parts);
    let mut g = c.benchmark_group("burn_256MiB_bf16_safetensors");
    g.sample_size(10);
    g.bench_function("burn_read_convert_from_data", |b| {
        b.iter(|| compare::weights_burn(bridge.device(), &path).unwrap())
    });
    g.bench_function("tensorbridge_load_cast_to_burn", |b| {
        b.iter(|| compare::weights_ours(&bridge, &path).unwrap())
    });
    g.finish();
    std::fs::remove_dir_all(&dir).unwrap();
}

criterion_group!(benches, interop);
criterion_main!(benches);
