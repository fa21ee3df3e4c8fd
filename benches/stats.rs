//! `summary` and `histogram` of 64M f32 (256 MiB), next to a `copy_buffer_to_buffer` of the
//! same tensor measured in the same run (the baseline: a reduction reads what a copy reads and
//! writes almost nothing).
// Criterion is native-only: on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tensorbridge::{DType, Gpu};

const N: usize = 64 << 20;

fn stats(c: &mut Criterion) {
    let gpu = Gpu::new().expect("a GPU adapter");
    let mut g = c.benchmark_group("stats_64M_f32");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    let bytes: Vec<u8> = (0..N * 4)
        .map(|i: usize| {
            (i.wrapping_mul(2654435761) >> 7) as u8 & if i % 4 == 3 { 0x3f } else { 0xff }
        })
        .collect();
    let t = gpu.upload_bytes(&bytes, DType::F32, &[N]).unwrap();
    let copy = gpu.upload_bytes(&bytes, DType::F32, &[N]).unwrap();
    g.bench_function("copy", |bench| {
        bench.iter(|| {
            let mut enc = gpu.device().create_command_encoder(&Default::default());
            for (x, y) in t.buffers().iter().zip(copy.buffers()) {
                enc.copy_buffer_to_buffer(x, 0, y, 0, x.size());
            }
            gpu.queue().submit([enc.finish()]);
            gpu.synchronize().unwrap();
        })
    });
    g.bench_function("summary", |bench| bench.iter(|| t.summary().unwrap()));
    let s = t.summary().unwrap();
    let range = Some((s.min.as_f64(), s.max.as_f64()));
    g.bench_function("histogram_64_bins", |bench| {
        bench.iter(|| t.histogram(64, range).unwrap())
    });
    g.finish();
}

criterion_group!(benches, stats);
criterion_main!(benches);
