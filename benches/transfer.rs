//! Upload and `read_into` at 4 KiB, 1 MiB, 64 MiB and 256 MiB, next to memcpy of the same bytes
//! into a pre-touched buffer (the baseline; compare throughputs within one run); and the batching
//! gain for 256 tensors of 1 KiB.
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

/// 256 tensors of 1 KiB: one round trip each, against `upload_many` + `read_many`.
fn batching(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let arrays: Vec<Array1<f32>> = (0..256).map(|i| Array1::from_elem(256, i as f32)).collect();
    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    let mut g = c.benchmark_group(format!("batch_256x1K/{:?}", gpu.info().path.unwrap()));
    g.bench_function("one_by_one", |b| {
        b.iter(|| {
            for a in &arrays {
                gpu.upload(a).unwrap().to_array::<f32>().unwrap();
            }
        })
    });
    g.bench_function("upload_many_read_many", |b| {
        b.iter(|| {
            let ts = gpu.upload_many(&views).unwrap();
            gpu.read_many::<f32>(&ts.iter().collect::<Vec<_>>())
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, transfer, batching);
criterion_main!(benches);
