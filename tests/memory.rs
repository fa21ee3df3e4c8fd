//! Steady state allocates nothing: after 10 000 upload/readback cycles of mixed sizes, resident
//! memory is where it started (the goal is within 5%; this checks a generous 25%).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::Rng;
use ndarray::Array1;
use tensorbridge::{Gpu, GpuOptions};

/// Resident set size of this process, from /proc/self/statm.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn cycles(gpu: &Gpu, sources: &[Array1<f32>], dests: &mut [Array1<f32>], n: usize, seed: u64) {
    let mut rng = Rng(seed);
    for _ in 0..n {
        let k = (rng.next() % sources.len() as u64) as usize;
        let t = gpu.upload(&sources[k]).unwrap();
        t.read_into(&mut dests[k].view_mut()).unwrap();
        if k.is_multiple_of(3) {
            // Mix in the batched path and a cast now and then.
            let u = gpu.upload_many(&[sources[k].view()]).unwrap();
            let _ = t.cast(tensorbridge::DType::F16).unwrap();
            drop(u);
        }
    }
}

#[test]
fn resident_memory_is_flat_over_10000_cycles() {
    for (name, gpu) in common::gpus()
        .into_iter()
        .filter(|(n, _)| n.contains("default"))
    {
        // Sizes from 1 KiB to 4 MiB, with odd lengths.
        let sources: Vec<Array1<f32>> = (0..12)
            .map(|i| Array1::from_shape_fn((256usize << i) + i, |j| j as f32))
            .collect();
        let mut dests: Vec<Array1<f32>> = sources.iter().map(|s| Array1::zeros(s.len())).collect();
        cycles(&gpu, &sources, &mut dests, 500, 1);
        let before = rss_bytes();
        cycles(&gpu, &sources, &mut dests, 10_000, 2);
        let after = rss_bytes();
        assert_eq!(dests, sources, "{name}");
        let growth = after as f64 / before as f64 - 1.0;
        println!(
            "{name}: RSS {:.1} MiB -> {:.1} MiB ({:+.2}%), pool {:?}",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
            growth * 100.0,
            gpu.memory()
        );
        assert!(growth < 0.25, "{name}: RSS grew {:.1}%", growth * 100.0);
        assert_eq!(gpu.memory().num_tensors, 0, "{name}");
    }
}

// Idle buffers are reused oldest first, so in a loop of upload, cast, read and drop each
// buffer keeps its role (upload target, kernel output); see the pool's notes on Chromium.
#[test]
fn the_pool_reuses_the_oldest_idle_buffer_first() {
    for (name, gpu) in common::gpus() {
        let a = Array1::from_elem(1000, 1.5f32);
        let first = gpu.upload(&a).unwrap();
        let second = gpu.upload(&a).unwrap();
        let (b1, b2) = (first.buffers()[0].clone(), second.buffers()[0].clone());
        assert_ne!(b1, b2, "{name}");
        drop(first);
        drop(second);
        let next = gpu.upload(&a).unwrap();
        assert_eq!(next.buffers()[0], b1, "{name}");
        let after = gpu.upload(&a).unwrap();
        assert_eq!(after.buffers()[0], b2, "{name}");
        assert_eq!(
            after.to_array::<f32>().unwrap(),
            a.clone().into_dyn(),
            "{name}"
        );
    }
}

// A full pool frees the buffers that came back longest ago, not the one coming back: the latest
// sizes are the likeliest to be wanted again (a loop whose large output did not fit beside older
// idle buffers page-faulted it in afresh every time).
#[test]
fn a_full_pool_frees_its_oldest_idle_buffers() {
    for (name, default) in common::gpus()
        .into_iter()
        .filter(|(n, _)| n.contains("default"))
    {
        let cap = 5 << 19; // 2.5 MiB: room for the 1 MiB buffer or the 2 MiB one, not both
        let gpu = Gpu::with_options(GpuOptions {
            backend: Some(default.info().backend),
            adapter_name: Some(default.info().name.clone()),
            pool_bytes: Some(cap),
            ..Default::default()
        })
        .unwrap();
        let (big, small) = (
            Array1::from_elem(1 << 19, 2.0f32),
            Array1::from_elem(1 << 18, 1.0f32),
        );
        let old = gpu.upload(&big).unwrap();
        let old_buffer = old.buffers()[0].clone();
        drop(old);
        let recent = gpu.upload(&small).unwrap();
        let recent_buffer = recent.buffers()[0].clone();
        drop(recent);
        assert!(
            gpu.memory().pooled_bytes <= cap,
            "{name}: {:?}",
            gpu.memory()
        );
        let again = gpu.upload(&small).unwrap();
        assert_eq!(
            again.buffers()[0],
            recent_buffer,
            "{name}: the recent buffer was freed"
        );
        let next = gpu.upload(&big).unwrap();
        assert_ne!(
            next.buffers()[0],
            old_buffer,
            "{name}: the old buffer was kept"
        );
        assert_eq!(next.to_array::<f32>().unwrap(), big.into_dyn(), "{name}");
    }
}

// Principle 2 counted rather than inferred from RSS: once a loop has run, running it again
// creates no device buffers. The loop covers upload, cast, readback and per-channel
// quantization, whose parameter table comes from the pool too.
#[test]
fn a_steady_loop_creates_no_buffers() {
    use tensorbridge::{DType, QuantSpec};
    for (name, gpu) in common::gpus() {
        let x =
            ndarray::Array2::from_shape_fn((48, 100), |(i, j)| (i * 100 + j) as f32 * 0.37 - 900.0);
        let spec = QuantSpec {
            axis: Some(0),
            ..QuantSpec::int8()
        };
        let step = || {
            let t = gpu.upload(&x).unwrap();
            let half = t.cast(DType::F16).unwrap();
            let q = t.quantize(&spec).unwrap();
            let back = q.dequantize().unwrap().to_array::<f32>().unwrap();
            assert_eq!(back.shape(), x.shape(), "{name}");
            half.to_array_as::<f32>().unwrap()
        };
        let first = step();
        let created = gpu.memory().num_created;
        assert!(created > 0, "{name}: {:?}", gpu.memory());
        for _ in 0..5 {
            assert_eq!(step(), first, "{name}");
        }
        assert_eq!(
            gpu.memory().num_created,
            created,
            "{name}: a repeated step allocated"
        );
    }
}
