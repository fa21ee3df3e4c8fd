//! `tensorbridge bench`: upload, readback and cast timings against baselines measured in the same
//! run (memcpy into a pre-touched buffer, and a GPU `copy_buffer_to_buffer`).

use std::time::{Duration, Instant};

use ndarray::Array1;
use tensorbridge::{Gpu, Result, Tensor};

/// Options of `tensorbridge bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Sizes in bytes, with K/M/G suffixes.
    #[arg(long, value_delimiter = ',', default_values = ["4K", "1M", "64M", "256M"])]
    sizes: Vec<String>,
    /// Skip the casts section.
    #[arg(long)]
    no_casts: bool,
    /// Elements per cast benchmark (default 16M; issue goal uses 64M).
    #[arg(long, default_value_t = 16 << 20)]
    cast_elems: usize,
}

fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mul) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>().ok().map(|n| n * mul)
}

/// Median of `reps` timings after one warm-up run.
fn time(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    f()?;
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed());
    }
    t.sort();
    Ok(t[t.len() / 2])
}

fn reps_for(bytes: usize) -> usize {
    if bytes <= 1 << 20 {
        200
    } else if bytes <= 64 << 20 {
        10
    } else {
        5
    }
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:8.1} µs")
    } else {
        format!("{:8.2} ms", us / 1000.0)
    }
}

/// A GPU buffer-to-buffer copy of `bytes` (the device-side baseline).
fn gpu_copy(gpu: &Gpu, a: &Tensor, b: &Tensor) -> Result<()> {
    let mut enc = gpu.device().create_command_encoder(&Default::default());
    for (x, y) in a.buffers().iter().zip(b.buffers()) {
        enc.copy_buffer_to_buffer(x, 0, y, 0, x.size().min(y.size()));
    }
    gpu.queue().submit([enc.finish()]);
    gpu.synchronize()
}

pub fn run(args: &Args) -> Result<()> {
    let gpu = Gpu::new()?;
    let info = gpu.info();
    println!(
        "adapter: {} ({:?}, {:?}), path {:?}\n",
        info.name, info.backend, info.device_type, info.path
    );
    println!("transfers (f32; median; ratio = our GB/s ÷ memcpy GB/s at the same size)");
    println!(
        "{:>8}  {:>12} {:>9}  {:>12} {:>9} {:>6}  {:>12} {:>9} {:>6}  {:>12}",
        "size", "memcpy", "GB/s", "upload", "GB/s", "×mc", "read_into", "GB/s", "×mc", "round trip"
    );
    for s in &args.sizes {
        let Some(bytes) = parse_size(s) else {
            eprintln!("skipping bad size {s:?}");
            continue;
        };
        let n = bytes / 4;
        let reps = reps_for(bytes);
        let src = Array1::from_shape_fn(n, |i| i as f32);
        let mut dst = Array1::<f32>::zeros(n);
        let memcpy = time(reps, || {
            dst.as_slice_mut()
                .unwrap()
                .copy_from_slice(src.as_slice().unwrap());
            std::hint::black_box(&dst);
            Ok(())
        })?;
        let up = time(reps, || {
            let t = gpu.upload(&src)?;
            gpu.synchronize()?;
            drop(t);
            Ok(())
        })?;
        let t = gpu.upload(&src)?;
        let down = time(reps, || t.read_into(&mut dst.view_mut()))?;
        let rt = time(reps, || {
            let t = gpu.upload(&src)?;
            t.read_into(&mut dst.view_mut())
        })?;
        assert_eq!(dst, src, "benchmark data must round-trip");
        let mc = gbps(bytes, memcpy);
        println!(
            "{:>8}  {} {:>9.2}  {} {:>9.2} {:>6.2}  {} {:>9.2} {:>6.2}  {}",
            s,
            fmt_dur(memcpy),
            mc,
            fmt_dur(up),
            gbps(bytes, up),
            gbps(bytes, up) / mc,
            fmt_dur(down),
            gbps(bytes, down),
            gbps(bytes, down) / mc,
            fmt_dur(rt)
        );
    }
    if !args.no_casts {
        casts(&gpu, args.cast_elems)?;
    }
    Ok(())
}

/// The issue-3 cast set, each next to a GPU copy of the larger of input and output.
pub fn casts(gpu: &Gpu, n: usize) -> Result<()> {
    println!(
        "\ncasts ({n} elements; ratio = cast time ÷ copy_buffer_to_buffer of the larger side)"
    );
    println!(
        "{:>14}  {:>12}  {:>12}  {:>6}  {:>10}",
        "cast", "copy", "cast", "×copy", "G elem/s"
    );
    let pairs = tensorbridge::BENCHMARKED_CASTS;
    for (from, to) in pairs {
        let bytes = vec![0x3cu8; n * from.size_in_bytes()];
        let src = gpu.upload_bytes(&bytes, from, &[n])?;
        let big = if from.size_in_bytes() >= to.size_in_bytes() {
            from
        } else {
            to
        };
        let a = gpu.upload_bytes(&vec![0u8; n * big.size_in_bytes()], big, &[n])?;
        let b = gpu.upload_bytes(&vec![0u8; n * big.size_in_bytes()], big, &[n])?;
        let copy = time(5, || gpu_copy(gpu, &a, &b))?;
        let cast = time(5, || {
            let out = src.cast(to)?;
            gpu.synchronize()?;
            drop(out);
            Ok(())
        })?;
        println!(
            "{:>14}  {}  {}  {:>6.2}  {:>10.2}",
            format!("{}→{}", from.short_name(), to.short_name()),
            fmt_dur(copy),
            fmt_dur(cast),
            cast.as_secs_f64() / copy.as_secs_f64(),
            n as f64 / cast.as_secs_f64() / 1e9
        );
    }
    Ok(())
}
