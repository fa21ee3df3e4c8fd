//! Upload and `read_into` at 4 KiB, 1 MiB, 64 MiB and 256 MiB, next to memcpy of the same bytes
//! into a pre-touched buffer (the baseline; compare throughputs within one run).
// Criterion is native-only: on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array1;
use tensorbridge::Gpu;

fn transfer(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let mut g = c.benchmark_group(format!("transfer/{:?}", gpu.info().path.unwrap()));
    g.sample_size(10);
    for bytes in [4usize << 10, 1 << 20, 64 << 20, 256 << 20] {
        let n = bytes / 4;
        let src = Array1::from_shape_fn(n, |i| i as f32);
        let mut dst = Array1::<f32>::zeros(n);
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(BenchmarkId::new("memcpy", bytes), |b| {
            b.iter(|| {
                dst.as_slice_mut()
                    .unwrap()
                    .copy_from_slice(src.as_slice().unwrap())
            })
        });
        g.bench_function(BenchmarkId::new("upload", bytes), |b| {
            b.iter(|| {
                let t = gpu.upload(&src).unwrap();
                gpu.synchronize().unwrap();
                t
            })
        });
        let t = gpu.upload(&src).unwrap();
        g.bench_function(BenchmarkId::new("read_into", bytes), |b| {
            b.iter(|| t.read_into(&mut dst.view_mut()).unwrap())
        });
        g.bench_function(BenchmarkId::new("round_trip", bytes), |b| {
            b.iter(|| {
                gpu.upload(&src)
                    .unwrap()
                    .read_into(&mut dst.view_mut())
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, transfer);
criterion_main!(benches);
