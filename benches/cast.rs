//! 64M elements of each benchmarked cast, next to a `copy_buffer_to_buffer` of the larger of input
//! and output measured in the same run (the baseline; the goal is cast ≤ 2× copy), and the
//! cast's floor: the same kernel's loads and stores without the conversion
//! (`Tensor::cast_floor`).
// Criterion is native-only: on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tensorbridge::Gpu;

const N: usize = 64 << 20;

fn casts(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let mut g = c.benchmark_group("cast_64M");
    g.sample_size(10);
    let pairs = tensorbridge::BENCHMARKED_CASTS;
    for (from, to) in pairs {
        let big = if from.size_in_bytes() >= to.size_in_bytes() {
            from
        } else {
            to
        };
        let a = gpu
            .upload_bytes(&vec![0x3c; N * big.size_in_bytes()], big, &[N])
            .unwrap();
        let b = gpu
            .upload_bytes(&vec![0; N * big.size_in_bytes()], big, &[N])
            .unwrap();
        let src = gpu
            .upload_bytes(&vec![0x3c; N * from.size_in_bytes()], from, &[N])
            .unwrap();
        let name = format!("{}_to_{}", from.short_name(), to.short_name());
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function(BenchmarkId::new("copy_larger_side", &name), |bench| {
            bench.iter(|| {
                let mut enc = gpu.device().create_command_encoder(&Default::default());
                for (x, y) in a.buffers().iter().zip(b.buffers()) {
                    enc.copy_buffer_to_buffer(x, 0, y, 0, x.size());
                }
                gpu.queue().submit([enc.finish()]);
                gpu.synchronize().unwrap();
            })
        });
        g.bench_function(BenchmarkId::new("floor", &name), |bench| {
            bench.iter(|| {
                let out = src.cast_floor(to).unwrap();
                gpu.synchronize().unwrap();
                out
            })
        });
        g.bench_function(BenchmarkId::new("cast", &name), |bench| {
            bench.iter(|| {
                let out = src.cast(to).unwrap();
                gpu.synchronize().unwrap();
                out
            })
        });
    }
    g.finish();
}

criterion_group!(benches, casts);
criterion_main!(benches);
