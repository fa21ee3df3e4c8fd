//! `tensorbridge bench`: the conversion-cost report. Upload, readback, round trip and cast at
//! sizes from 4 KiB to 1 GiB, each next to baselines measured in the same run (memcpy into a
//! pre-touched buffer, and a GPU `copy_buffer_to_buffer`); a fixed + per-byte fit per path; the
//! batching and async-overlap gains; and where the time went (`Gpu::stats`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ndarray::{ArcArray1, Array1, ArrayD};
use tensorbridge::{DType, Gpu, GpuOptions, Result, Tensor, TransferPath};

use crate::report::{CastRow, CastTimes, Files, Fit, Gains, Report, Row};

/// Options of `tensorbridge bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Sizes in bytes, with K/M/G suffixes (default 4K,64K,1M,16M,256M; with --full, every
    /// power of 4 from 4K to 1G).
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<String>,
    /// Dtypes (default f32,u8; with --full, f32,u8,f16,i64,f64).
    #[arg(long, value_delimiter = ',')]
    dtypes: Vec<String>,
    /// The long run: more sizes, more dtypes, more repetitions.
    #[arg(long)]
    full: bool,
    /// Skip the casts.
    #[arg(long)]
    no_casts: bool,
    /// Elements of each cast in the casts section, with K/M/G suffixes (0 skips it).
    #[arg(long, default_value = "64M")]
    cast_elems: String,
    /// Size of the .npy for the load + save against `cp` section (0 skips it).
    #[arg(long, default_value = "512M")]
    file_size: String,
    /// Also print the report as JSON to stdout (after the table) — or only JSON with --quiet.
    #[arg(long)]
    json: bool,
    /// Print nothing but the JSON.
    #[arg(long)]
    quiet: bool,
    /// Draw time against size, log-log, one line per path (.svg or .png).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Only compare the paths into and out of Burn with Burn's own (needs a build with
    /// `--features burn`): `cargo run --release --features burn -- bench --interop`.
    #[arg(long)]
    interop: bool,
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

/// How long one run of `f` takes.
fn elapsed(f: impl FnOnce() -> Result<()>) -> Result<Duration> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// Median of `reps` timings after one warm-up run.
fn time(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    f()?;
    let mut t = (0..reps)
        .map(|_| elapsed(&mut f))
        .collect::<Result<Vec<_>>>()?;
    t.sort();
    Ok(t[t.len() / 2])
}

fn reps_for(bytes: usize, full: bool) -> usize {
    let r = match bytes {
        0..=65_536 => 100,
        65_537..=1_048_576 => 30,
        1_048_577..=16_777_216 => 7,
        _ => 3,
    };
    if full { r * 2 } else { r }
}

/// A GPU buffer-to-buffer copy of every chunk of `a` into `b` (the device-side baseline).
fn gpu_copy(gpu: &Gpu, a: &Tensor, b: &Tensor) -> Result<()> {
    let mut enc = gpu.device().create_command_encoder(&Default::default());
    for (x, y) in a.buffers().iter().zip(b.buffers()) {
        enc.copy_buffer_to_buffer(x, 0, y, 0, x.size().min(y.size()));
    }
    gpu.queue().submit([enc.finish()]);
    gpu.synchronize()
}

/// The cast each dtype row times: to f16 from f32, to f32 from everything else.
fn cast_target(d: DType) -> DType {
    if d == DType::F32 {
        DType::F16
    } else {
        DType::F32
    }
}

/// Deterministic bytes valid for `dtype` (bool bytes are 0 or 1).
fn bytes_for(dtype: DType, n: usize) -> Vec<u8> {
    let size = dtype.size_in_bytes();
    (0..n * size)
        .map(|i| {
            if dtype == DType::Bool {
                (i % 3 == 0) as u8
            } else {
                (i.wrapping_mul(2654435761) >> 7) as u8
            }
        })
        .collect()
}

/// One (dtype, size) row: baselines, then our paths.
fn measure(gpu: &Gpu, dtype: DType, bytes: usize, args: &Args) -> Result<Row> {
    let size = dtype.size_in_bytes();
    let n = bytes / size;
    let reps = reps_for(bytes, args.full);
    let src = bytes_for(dtype, n);
    let mut dst = vec![0u8; n * size];
    let memcpy = time(reps, || {
        dst.copy_from_slice(&src);
        std::hint::black_box(&dst);
        Ok(())
    })?;
    let a = gpu.upload_bytes(&src, dtype, &[n])?;
    let b = gpu.upload_bytes(&src, dtype, &[n])?;
    let copy = time(reps, || gpu_copy(gpu, &a, &b))?;
    drop(b);
    let upload = time(reps, || {
        let t = gpu.upload_bytes(&src, dtype, &[n])?;
        gpu.synchronize()?;
        drop(t);
        Ok(())
    })?;
    // read_into a reused, pre-touched destination (the bytes view of it).
    let mut out = vec![0u8; n * size];
    let readback = time(reps, || a.read_bytes_into(&mut out))?;
    let round_trip = time(reps, || {
        gpu.upload_bytes(&src, dtype, &[n])?
            .read_bytes_into(&mut out)
    })?;
    if out != src || a.to_bytes()? != src {
        return Err(tensorbridge::Error::gpu(format!(
            "benchmark data did not round-trip ({dtype}, {bytes} bytes)"
        )));
    }
    let (cast, cast_copy) = if args.no_casts {
        (None, None)
    } else {
        let to = cast_target(dtype);
        let big = if to.size_in_bytes() > size { to } else { dtype };
        let x = gpu.upload_bytes(&vec![0; n * big.size_in_bytes()], big, &[n])?;
        let y = gpu.upload_bytes(&vec![0; n * big.size_in_bytes()], big, &[n])?;
        let copy = time(reps, || gpu_copy(gpu, &x, &y))?;
        let cast = time(reps, || {
            let out = a.cast(to)?;
            gpu.synchronize()?;
            drop(out);
            Ok(())
        })?;
        (Some(cast), Some(copy))
    };
    Ok(Row::new(
        dtype, bytes, memcpy, copy, upload, readback, round_trip, cast, cast_copy,
    ))
}

/// Each of [`tensorbridge::BENCHMARKED_CASTS`] on `n` elements, next to a GPU copy of the larger
/// side and the cast's floor ([`tensorbridge::Tensor::cast_floor`]). The three alternate, so
/// drift in the machine's speed hits them alike.
fn casts(gpu: &Gpu, n: usize, reps: usize) -> Result<Vec<CastRow>> {
    let mut rows = Vec::new();
    for (from, to) in tensorbridge::BENCHMARKED_CASTS {
        let big = if to.size_in_bytes() > from.size_in_bytes() {
            to
        } else {
            from
        };
        let src = gpu.upload_bytes(&bytes_for(from, n), from, &[n])?;
        let x = gpu.upload_bytes(&vec![0; n * big.size_in_bytes()], big, &[n])?;
        let y = gpu.upload_bytes(&vec![0; n * big.size_in_bytes()], big, &[n])?;
        let cast = || -> Result<()> {
            let _out = src.cast(to)?;
            gpu.synchronize()
        };
        let floor = || -> Result<()> {
            let _out = src.cast_floor(to)?;
            gpu.synchronize()
        };
        let (mut copies, mut times, mut floors) = (Vec::new(), Vec::new(), Vec::new());
        cast()?;
        floor()?;
        gpu_copy(gpu, &x, &y)?;
        for _ in 0..reps {
            copies.push(elapsed(|| gpu_copy(gpu, &x, &y))?);
            floors.push(elapsed(floor)?);
            times.push(elapsed(cast)?);
        }
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[reps / 2]
        };
        let times = CastTimes {
            copy: median(copies),
            cast: median(times),
            floor: median(floors),
        };
        rows.push(CastRow::new(from, to, n, times));
    }
    Ok(rows)
}

/// 256 tensors of 1 KiB: one by one against `upload_many` + `read_many`.
fn batching_gain(gpu: &Gpu) -> Result<(Duration, Duration)> {
    let arrays: Vec<Array1<f32>> = (0..256).map(|i| Array1::from_elem(256, i as f32)).collect();
    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    let single = time(20, || {
        for a in &arrays {
            gpu.upload(a)?.to_array::<f32>()?;
        }
        Ok(())
    })?;
    let batched = time(20, || {
        let ts = gpu.upload_many(&views)?;
        let back = gpu.read_many::<f32>(&ts.iter().collect::<Vec<_>>())?;
        std::hint::black_box(back);
        Ok(())
    })?;
    Ok((single, batched))
}

/// The caller's own work on each array read back: a sum, as a stand-in for real processing.
fn work(a: &ArrayD<f32>) -> f32 {
    a.iter().fold(0.0, |s, x| s + x.sqrt())
}

/// 16 arrays of 4 MiB, each uploaded, cast to f16 and back to f32 on the device, read back and
/// processed on the CPU: one after another, against `prefetch` + `readback_queue` overlapping
/// the transfers with the processing.
fn overlap_gain(gpu: &Gpu) -> Result<(Duration, Duration)> {
    // Shared arrays: handing them to the prefetch thread clones a pointer, not 4 MiB.
    let arrays: Vec<ArcArray1<f32>> = (0..16)
        .map(|i| ArcArray1::from_shape_fn(1 << 20, |j| (i * j) as f32))
        .collect();
    let step = |t: Tensor| t.cast(DType::F16)?.cast(DType::F32);
    let sequential = time(3, || {
        for a in &arrays {
            let r = step(gpu.upload(a)?)?.to_array::<f32>()?;
            std::hint::black_box(work(&r));
        }
        Ok(())
    })?;
    let overlapped = time(3, || {
        let q = gpu.readback_queue::<f32>();
        for t in gpu.prefetch(arrays.clone()) {
            q.push(step(t?)?)?;
            if q.pending() > 2 {
                std::hint::black_box(work(&q.pop().expect("pending")?));
            }
        }
        for r in q {
            std::hint::black_box(work(&r?));
        }
        Ok(())
    })?;
    Ok((sequential, overlapped))
}

/// Load plus save of an .npy of `bytes` against `cp` of the same file, all with a warm page
/// cache, in the system temp directory. Returns the medians of (cp, load, save) over 6 rounds.
fn files_vs_cp(gpu: &Gpu, bytes: usize) -> Result<(Duration, Duration, Duration)> {
    let dir = std::env::temp_dir().join(format!("tensorbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| tensorbridge::Error::file_cause(&dir, e))?;
    let (src, copy, saved) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("c.npy"));
    let result = (|| {
        let n = bytes / 4;
        gpu.upload_bytes(&bytes_for(DType::F32, n), DType::F32, &[n])?
            .save_npy(&src)?;
        // Rounds alternate cp, load and save, so all three see the same page-cache and
        // writeback state. Both write to a fresh path: saving renames a temporary file into
        // place, and renaming over an existing file makes ext4 flush the new file first
        // (auto_da_alloc), a cost cp, which truncates in place, does not pay.
        let (mut cp, mut load, mut save) = (Vec::new(), Vec::new(), Vec::new());
        let run_cp = |cp: &mut Vec<Duration>| -> Result<()> {
            let start = Instant::now();
            let status = std::process::Command::new("cp")
                .arg(&src)
                .arg(&copy)
                .status()
                .map_err(|e| tensorbridge::Error::file_cause(&copy, e))?;
            if !status.success() {
                return Err(tensorbridge::Error::file(
                    &copy,
                    format!("cp failed: {status}"),
                ));
            }
            cp.push(start.elapsed());
            Ok(())
        };
        for round in 0..6 {
            let _ = std::fs::remove_file(&copy);
            let _ = std::fs::remove_file(&saved);
            // Whoever writes second meets the first one's dirty pages: take turns.
            if round % 2 == 0 {
                run_cp(&mut cp)?;
            }
            let start = Instant::now();
            let t = gpu.load_npy(&src)?;
            gpu.synchronize()?;
            load.push(start.elapsed());
            let start = Instant::now();
            t.save_npy(&saved)?;
            save.push(start.elapsed());
            if round % 2 == 1 {
                run_cp(&mut cp)?;
            }
        }
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (cp, load, save) = (median(cp), median(load), median(save));
        if std::fs::read(&saved).ok() != std::fs::read(&src).ok() {
            return Err(tensorbridge::Error::file(
                &saved,
                "the saved file differs from the loaded one",
            ));
        }
        Ok((cp, load, save))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

pub fn run(args: &Args) -> Result<()> {
    let gpu = Gpu::new()?;
    if args.interop {
        #[cfg(feature = "burn")]
        return crate::interop::run(&gpu);
        #[cfg(not(feature = "burn"))]
        return Err(tensorbridge::Error::InvalidOption {
            name: "--interop",
            value: "true".into(),
            reason: "this build has no Burn; rebuild with `--features burn`".into(),
        });
    }
    let sizes: Vec<usize> = if !args.sizes.is_empty() {
        args.sizes.iter().filter_map(|s| parse_size(s)).collect()
    } else if args.full {
        (0..10).map(|i| 4096usize << (2 * i)).collect()
    } else {
        vec![4 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20]
    };
    let dtype_names: Vec<String> = if !args.dtypes.is_empty() {
        args.dtypes.clone()
    } else if args.full {
        ["f32", "u8", "f16", "i64", "f64"]
            .map(String::from)
            .to_vec()
    } else {
        vec!["f32".into(), "u8".into()]
    };
    let dtypes = dtype_names
        .iter()
        .map(|d| d.parse::<DType>())
        .collect::<Result<Vec<_>>>()?;
    let file_bytes = parse_size(&args.file_size).unwrap_or(0);
    let steps = sizes.len() * dtypes.len() + 3 + (file_bytes > 0) as usize;
    let progress = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        crate::progress::bar(steps as u64, "{bar:30} {pos}/{len} {msg}")
    };
    let mut rows = Vec::new();
    gpu.reset_stats();
    for &dtype in &dtypes {
        for &bytes in &sizes {
            progress.inc(1);
            progress.set_message(format!(
                "{dtype} {}",
                crate::report::size_label(bytes as u64)
            ));
            rows.push(measure(&gpu, dtype, bytes, args)?);
        }
    }
    let stats = gpu.stats();
    let cast_elems = parse_size(&args.cast_elems).unwrap_or(0);
    let cast_rows = if cast_elems > 0 && !args.no_casts {
        progress.inc(1);
        progress.set_message("casts");
        casts(&gpu, cast_elems, if args.full { 11 } else { 5 })?
    } else {
        Vec::new()
    };
    progress.inc(1);
    progress.set_message("batching 256 x 1 KiB");
    let batching = batching_gain(&gpu)?;
    // On unified memory a single round trip is already cheap; show the staged path too.
    let staged = if gpu.info().path == Some(TransferPath::Mapped) {
        let o = GpuOptions {
            backend: Some(gpu.info().backend),
            adapter_name: Some(gpu.info().name.clone()),
            path: Some(TransferPath::Staged),
            ..GpuOptions::default()
        };
        Some(batching_gain(&Gpu::with_options(o)?)?)
    } else {
        None
    };
    progress.inc(1);
    progress.set_message("async overlap 16 x 4 MiB");
    let overlap = overlap_gain(&gpu)?;
    let files = if file_bytes > 0 {
        progress.inc(1);
        progress.set_message("npy load + save vs cp");
        Some(files_vs_cp(&gpu, file_bytes)?)
    } else {
        None
    };
    progress.finish_and_clear();
    let info = gpu.info();
    let report = Report {
        adapter: info.name.clone(),
        backend: format!("{:?}", info.backend),
        path: format!("{:?}", info.path.expect("opened")),
        native_casts: info.native_casts.clone(),
        fits: Fit::all(&rows),
        rows,
        casts: cast_rows,
        gains: Gains::new(batching, staged, overlap),
        stats: stats.into(),
        files: files.map(|(cp, load, save)| Files::new(file_bytes, cp, load, save)),
    };
    if !args.quiet {
        report.print();
    }
    if args.json || args.quiet {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("plain data serialises")
        );
    }
    if let Some(path) = &args.plot {
        report
            .chart()
            .save(path)
            .map_err(|e| tensorbridge::Error::InvalidOption {
                name: "--plot",
                value: path.display().to_string(),
                reason: e,
            })?;
        if !args.quiet {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
}
