//! `tensorbridge convert`, `stats` and `quantize`: files in, work on the device, files out.

use std::path::{Path, PathBuf};

use tensorbridge::{
    DType, Gpu, Kind, LoadOptions, QScheme, QType, QuantSpec, Result, SaveOptions, Tensor,
};

use indicatif::ProgressBar;

use crate::plot::{Chart, Series};

/// Options of `tensorbridge convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// Input: .npy, .npz or .safetensors.
    input: PathBuf,
    /// Output: .npy (one array), .npz or .safetensors.
    output: PathBuf,
    /// Target dtype (bool, u8, i8, u16, i16, u32, i32, u64, i64, f16, bf16, f32, f64).
    #[arg(long)]
    to: String,
    /// Read '<V2' .npy data (NumPy + ml_dtypes bfloat16) as bf16.
    #[arg(long)]
    bf16: bool,
    /// Deflate-compress .npz output.
    #[arg(long)]
    compress: bool,
}

/// Options of `tensorbridge stats`.
#[derive(clap::Args)]
pub struct StatsArgs {
    /// .npy, .npz or .safetensors.
    file: PathBuf,
    /// Histogram bins.
    #[arg(long, default_value_t = 20)]
    bins: usize,
    /// Draw the histogram to a file (.svg or .png; with several arrays, one file each, named
    /// FILE-<array>.ext) instead of the terminal.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Read '<V2' .npy data as bf16.
    #[arg(long)]
    bf16: bool,
}

/// Options of `tensorbridge quantize`.
#[derive(clap::Args)]
pub struct QuantizeArgs {
    /// Input: .npy, .npz or .safetensors.
    input: PathBuf,
    /// Output: .npz or .safetensors (codes plus <name>.scale and <name>.zero_point per array).
    output: PathBuf,
    /// int8 codes (the default).
    #[arg(long, conflicts_with = "uint8")]
    int8: bool,
    /// uint8 codes.
    #[arg(long)]
    uint8: bool,
    /// One scale per index along axis K instead of one per tensor.
    #[arg(long, value_name = "K")]
    per_axis: Option<usize>,
    /// Symmetric (zero point fixed) instead of affine.
    #[arg(long)]
    symmetric: bool,
    /// Read '<V2' .npy data as bf16.
    #[arg(long)]
    bf16: bool,
}

/// A progress bar on stderr over the bytes of `tensors`, drawn when the input is large (over
/// 64 MiB) and stderr is a terminal (indicatif hides it otherwise).
fn progress(tensors: &[(String, Tensor)]) -> ProgressBar {
    let total: u64 = tensors.iter().map(|(_, t)| t.size_in_bytes()).sum();
    if total <= 64 << 20 {
        return ProgressBar::hidden();
    }
    crate::progress::bar(total, "{bar:30} {binary_bytes}/{binary_total_bytes} {msg}")
}

fn load(gpu: &Gpu, path: &Path, bf16: bool) -> Result<Vec<(String, Tensor)>> {
    gpu.load_with(
        path,
        &LoadOptions {
            void2_as_bf16: bf16,
        },
    )
}

fn save(gpu: &Gpu, path: &Path, tensors: &[(String, Tensor)], compress: bool) -> Result<()> {
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    gpu.save_with(path, &refs, &SaveOptions { compress })
}

pub fn convert(args: &ConvertArgs) -> Result<()> {
    let gpu = Gpu::new()?;
    let to: DType = args.to.parse()?;
    let tensors = load(&gpu, &args.input, args.bf16)?;
    let bar = progress(&tensors);
    let mut out = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        bar.set_message(name.clone());
        bar.inc(t.size_in_bytes());
        out.push((name, t.cast(to)?));
    }
    save(&gpu, &args.output, &out, args.compress)?;
    bar.finish_and_clear();
    for (name, t) in &out {
        println!(
            "{:<24} {:?} -> {to}",
            if name.is_empty() { "(array)" } else { name },
            t.shape()
        );
    }
    Ok(())
}

/// A histogram drawn with block characters, one row per bin.
fn terminal_histogram(h: &tensorbridge::Histogram) {
    let most = h.counts.iter().copied().max().unwrap_or(0).max(1);
    for (i, &c) in h.counts.iter().enumerate() {
        let width = (c * 40).div_ceil(most) as usize;
        println!(
            "    [{:>11.4e}, {:>11.4e}{} {:<40} {c}",
            h.edges[i],
            h.edges[i + 1],
            if i + 1 == h.counts.len() { "]" } else { ")" },
            "█".repeat(if c == 0 { 0 } else { width.max(1) })
        );
    }
}

/// `FILE.ext` for one array, `FILE-<name>.ext` for each of several.
fn plot_path(base: &Path, name: &str, several: bool) -> PathBuf {
    if !several {
        return base.to_path_buf();
    }
    let stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("hist");
    let ext = base.extension().and_then(|s| s.to_str()).unwrap_or("svg");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    base.with_file_name(format!("{stem}-{safe}.{ext}"))
}

pub fn stats(args: &StatsArgs) -> Result<()> {
    let gpu = Gpu::new()?;
    let tensors = load(&gpu, &args.file, args.bf16)?;
    for (name, t) in &tensors {
        let label = if name.is_empty() {
            "(array)"
        } else {
            name.as_str()
        };
        println!("{label}: {} {:?}", t.dtype(), t.shape());
        if t.is_empty() {
            println!("    empty");
            continue;
        }
        let s = t.summary()?;
        println!(
            "    min {}  max {}  mean {:.6}  sum {}{}",
            s.min,
            s.max,
            s.mean,
            s.sum,
            if s.nan_count > 0 {
                format!("  NaN {}", s.nan_count)
            } else {
                String::new()
            }
        );
        let mut range = (s.min.as_f64(), s.max.as_f64());
        if s.nan_count > 0 {
            // Histogram the values that are not NaN (min and max over them, on the device).
            let (lo, hi) = t.channel_min_max(None)?[0];
            range = (lo as f64, hi as f64);
            println!(
                "    histogram of the {} values that are not NaN",
                s.count - s.nan_count
            );
        }
        if !(range.0.is_finite() && range.1.is_finite()) {
            println!(
                "    no histogram: the range [{}, {}] is not finite",
                range.0, range.1
            );
            continue;
        }
        let h = t.histogram(args.bins, Some(range))?;
        match &args.plot {
            None => terminal_histogram(&h),
            Some(base) => {
                let path = plot_path(base, name, tensors.len() > 1);
                let points = h
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| ((h.edges[i] + h.edges[i + 1]) / 2.0, c as f64))
                    .collect();
                let chart = Chart {
                    title: format!("{label}: {} {:?}", t.dtype(), t.shape()),
                    x_label: "value".into(),
                    y_label: "count".into(),
                    log_x: false,
                    log_y: false,
                    bars: true,
                    series: vec![Series {
                        label: format!("{} bins", args.bins),
                        points,
                    }],
                };
                chart
                    .save(&path)
                    .map_err(|reason| tensorbridge::Error::file(&path, reason))?;
                println!("    histogram written to {}", path.display());
            }
        }
    }
    Ok(())
}

pub fn quantize(args: &QuantizeArgs) -> Result<()> {
    let gpu = Gpu::new()?;
    let tensors = load(&gpu, &args.input, args.bf16)?;
    let spec = QuantSpec {
        qtype: if args.uint8 { QType::U8 } else { QType::I8 },
        scheme: if args.symmetric {
            QScheme::Symmetric
        } else {
            QScheme::Affine
        },
        axis: args.per_axis,
        params: None,
    };
    let bar = progress(&tensors);
    let mut out = Vec::new();
    for (name, t) in tensors {
        bar.set_message(name.clone());
        bar.inc(t.size_in_bytes());
        let base = if name.is_empty() {
            "array".to_string()
        } else {
            name
        };
        if t.dtype().kind() != Kind::Float
            || t.ndim() <= args.per_axis.unwrap_or(0) && args.per_axis.is_some()
        {
            println!("{base:<24} {} {:?}: kept as is", t.dtype(), t.shape());
            out.push((base, t));
            continue;
        }
        let q = t.quantize(&spec)?;
        println!(
            "{base:<24} {} {:?} -> {:?} codes, {} scale(s), first scale {:.6e}, zero point {}",
            t.dtype(),
            t.shape(),
            spec.qtype,
            q.scale.len(),
            q.scale[0],
            q.zero_point[0]
        );
        out.push((
            format!("{base}.scale"),
            gpu.upload(&ndarray::Array1::from_vec(q.scale))?,
        ));
        out.push((
            format!("{base}.zero_point"),
            gpu.upload(&ndarray::Array1::from_vec(q.zero_point))?,
        ));
        out.push((base, q.codes));
    }
    save(&gpu, &args.output, &out, false)?;
    bar.finish_and_clear();
    Ok(())
}
