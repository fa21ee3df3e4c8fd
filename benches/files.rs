//! A 512 MiB .npy loaded onto the device and saved back, next to `std::fs::copy` of the same
//! file (the baseline; the goal is load + save ≤ 1.5× a copy). Also statistics and int8
//! quantization of 64M f32 (8192 × 8192) on the device, per tensor and per channel along either
//! axis, next to a GPU buffer copy of the same bytes.
// Criterion is native-only: on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::BatchSize::PerIteration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use tensorbridge::{Gpu, QuantSpec};

const FILE_BYTES: usize = 512 << 20;

fn files(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let dir = std::env::temp_dir().join(format!("tensorbridge-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, copy, saved) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("c.npy"));
    let n = FILE_BYTES / 4;
    gpu.upload(&Array1::from_shape_fn(n, |i| i as f32))
        .unwrap()
        .save_npy(&src)
        .unwrap();
    let mut g = c.benchmark_group("npy_512M");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(FILE_BYTES as u64));
    // Both write to a fresh path (see `tensorbridge bench`: renaming over an existing file
    // makes ext4 flush it first).
    let fresh = |p: &std::path::Path| {
        let _ = std::fs::remove_file(p);
    };
    g.bench_function("fs_copy", |b| {
        b.iter_batched(
            || fresh(&copy),
            |_| std::fs::copy(&src, &copy).unwrap(),
            PerIteration,
        )
    });
    g.bench_function("load_and_save", |b| {
        b.iter_batched(
            || fresh(&saved),
            |_| gpu.load_npy(&src).unwrap().save_npy(&saved).unwrap(),
            PerIteration,
        )
    });
    g.finish();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn stats_and_quantize(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let side = 8192;
    let n = side * side;
    let t = gpu
        .upload(&Array2::from_shape_fn((side, side), |(i, j)| {
            ((i * side + j) % 1000) as f32 - 500.0
        }))
        .unwrap();
    let other = gpu.upload(&Array1::<f32>::zeros(n)).unwrap();
    let mut g = c.benchmark_group("stats_64M_f32");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(4 * n as u64));
    g.bench_function("gpu_copy", |b| {
        b.iter(|| {
            let mut enc = gpu.device().create_command_encoder(&Default::default());
            for (x, y) in t.buffers().iter().zip(other.buffers()) {
                enc.copy_buffer_to_buffer(x, 0, y, 0, x.size());
            }
            gpu.queue().submit([enc.finish()]);
            gpu.synchronize().unwrap();
        })
    });
    g.bench_function("summary", |b| b.iter(|| t.summary().unwrap()));
    // 10 bins (NumPy's default) are counted in registers, 100 with atomics.
    for bins in [10, 100] {
        g.bench_function(format!("histogram_{bins}"), |b| {
            b.iter(|| t.histogram(bins, Some((-500.0, 500.0))).unwrap())
        });
    }
    // Per tensor and per channel along either axis: min and max computed, or given, and back.
    for (label, axis) in [("tensor", None), ("axis0", Some(0)), ("axis1", Some(1))] {
        let spec = QuantSpec {
            axis,
            ..QuantSpec::int8()
        };
        let q = t.quantize(&spec).unwrap();
        let given = QuantSpec {
            params: Some((q.scale.clone(), q.zero_point.clone())),
            ..spec.clone()
        };
        for (how, spec) in [("computed", &spec), ("given", &given)] {
            g.bench_function(format!("quantize_int8_{label}_{how}"), |b| {
                b.iter(|| {
                    let q = t.quantize(spec).unwrap();
                    gpu.synchronize().unwrap();
                    q
                })
            });
        }
        g.bench_function(format!("dequantize_int8_{label}"), |b| {
            b.iter(|| {
                let x = q.dequantize().unwrap();
                gpu.synchronize().unwrap();
                x
            })
        });
    }
    g.finish();
}

criterion_group!(benches, files, stats_and_quantize);
criterion_main!(benches);
