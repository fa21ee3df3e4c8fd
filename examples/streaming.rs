//! Streaming: overlap transfers with your own work, and see how much it gains on this machine.
//!
//! Run: `cargo run --release --example streaming`
//!
//! Sixteen 4 MiB arrays each go up, through a small device computation (f32 → f16 → f32) and
//! back, and then the CPU processes the result. The example times the device side alone, the
//! CPU work alone, both one after the other, and both overlapped with `Gpu::prefetch` and
//! `Gpu::readback_queue`. Perfect overlap would take max(device, cpu) instead of their sum.
//!
//! On a real GPU, the device side runs beside the CPU. On a CPU adapter (lavapipe, llvmpipe)
//! the "device" is the same cores, so expect little or no gain there: the numbers say which.
//! Lavapipe (Mesa 22.3) also blocks every queue submission until the previous one has run (a
//! 256-byte copy submitted behind a 16 MiB cast waited 4.6-5.2 ms here), so the second cast of
//! each step waits for the first on the caller's thread.
// Threads and blocking calls: native only (on wasm32 this example is empty).
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, Instant};

use ndarray::{ArcArray1, ArrayD};
use tensorbridge::{DType, Gpu, Result, Tensor};

/// The CPU work done on each result.
fn work(a: &ArrayD<f32>) -> f32 {
    a.iter().fold(0.0, |s, x| s + (x.abs() + 1.0).ln())
}

fn device_step(t: Tensor) -> Result<Tensor> {
    t.cast(DType::F16)?.cast(DType::F32)
}

fn timed(f: impl FnOnce() -> Result<f32>) -> Result<(Duration, f32)> {
    let start = Instant::now();
    let r = f()?;
    Ok((start.elapsed(), r))
}

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    println!("{} ({:?})", gpu.info().name, gpu.info().path.unwrap());
    // Shared arrays: handing them to the prefetch thread clones a pointer, not 4 MiB.
    let arrays: Vec<ArcArray1<f32>> = (0..16)
        .map(|i| ArcArray1::from_shape_fn(1 << 20, |j| ((i * 7919 + j) % 1000) as f32 / 8.0))
        .collect();
    // Warm up: compile the kernels and fill the pool.
    device_step(gpu.upload(&arrays[0])?)?.to_array::<f32>()?;

    let results: Vec<ArrayD<f32>> = arrays
        .iter()
        .map(|a| device_step(gpu.upload(a)?)?.to_array::<f32>())
        .collect::<Result<_>>()?;
    let (device, _) = timed(|| {
        for a in &arrays {
            device_step(gpu.upload(a)?)?.to_array::<f32>()?;
        }
        Ok(0.0)
    })?;
    let (cpu, expected) = timed(|| Ok(results.iter().map(work).sum()))?;
    let (sequential, s1) = timed(|| {
        let mut total = 0.0;
        for a in &arrays {
            total += work(&device_step(gpu.upload(a)?)?.to_array::<f32>()?);
        }
        Ok(total)
    })?;
    let (overlapped, s2) = timed(|| {
        let mut total = 0.0;
        let queue = gpu.readback_queue::<f32>();
        for t in gpu.prefetch(arrays.clone()) {
            queue.push(device_step(t?)?)?;
            // Work on the oldest result while the newer ones are still moving.
            if queue.pending() > 1 {
                total += work(&queue.pop().expect("pending")?);
            }
        }
        for r in queue {
            total += work(&r?);
        }
        Ok(total)
    })?;
    assert_eq!((s1, s2), (expected, expected), "same results either way");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "device side alone (upload, cast, read): {:8.1} ms",
        ms(device)
    );
    println!("CPU work alone:                         {:8.1} ms", ms(cpu));
    println!(
        "one after the other:                    {:8.1} ms",
        ms(sequential)
    );
    println!(
        "overlapped (prefetch + readback_queue): {:8.1} ms",
        ms(overlapped)
    );
    println!(
        "gain {:.2}×; perfect overlap would be {:.1} ms ({:.2}×)",
        sequential.as_secs_f64() / overlapped.as_secs_f64(),
        ms(device.max(cpu)),
        sequential.as_secs_f64() / device.max(cpu).as_secs_f64()
    );
    Ok(())
}
