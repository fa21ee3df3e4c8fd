//! The bench report: rows of timings, least-squares fits, gains and phase stats, printed as a
//! table, serialised as JSON, or drawn as a chart.

use std::time::Duration;

use serde::Serialize;
use tensorbridge::{DType, PhaseTimes, Stats};

use crate::plot::{Chart, Series};

/// One (dtype, size) measurement; times in seconds (medians).
#[derive(Serialize)]
pub struct Row {
    pub dtype: String,
    pub bytes: u64,
    pub memcpy_s: f64,
    pub gpu_copy_s: f64,
    pub upload_s: f64,
    pub readback_s: f64,
    pub round_trip_s: f64,
    /// The cast timed (to f16 from f32, to f32 from other dtypes).
    pub cast: Option<String>,
    pub cast_s: Option<f64>,
    /// A GPU copy of the larger side of the cast, the cast's baseline.
    pub cast_copy_s: Option<f64>,
}

impl Row {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dtype: DType,
        bytes: usize,
        memcpy: Duration,
        copy: Duration,
        upload: Duration,
        readback: Duration,
        round_trip: Duration,
        cast: Option<Duration>,
        cast_copy: Option<Duration>,
    ) -> Row {
        let to = if dtype == DType::F32 { "f16" } else { "f32" };
        Row {
            dtype: dtype.short_name().into(),
            bytes: bytes as u64,
            memcpy_s: memcpy.as_secs_f64(),
            gpu_copy_s: copy.as_secs_f64(),
            upload_s: upload.as_secs_f64(),
            readback_s: readback.as_secs_f64(),
            round_trip_s: round_trip.as_secs_f64(),
            cast: cast.map(|_| format!("{}->{to}", dtype.short_name())),
            cast_s: cast.map(|d| d.as_secs_f64()),
            cast_copy_s: cast_copy.map(|d| d.as_secs_f64()),
        }
    }
}

/// One of the benchmarked casts, next to its baseline (medians, seconds).
#[derive(Serialize)]
pub struct CastRow {
    pub from: String,
    pub to: String,
    pub elems: u64,
    /// A GPU copy of the larger side.
    pub copy_s: f64,
    pub cast_s: f64,
    /// [`tensorbridge::Tensor::cast_floor`]: the cast's kernel making the same loads and stores
    /// without converting.
    pub floor_s: f64,
    /// cast ÷ copy; the goal is at most 2.
    pub ratio_to_copy: f64,
    /// floor ÷ copy: what the adapter's compute-shader path to memory costs.
    pub floor_to_copy: f64,
    /// cast ÷ floor: what the conversion arithmetic adds.
    pub ratio_to_floor: f64,
}

/// Median times of one benchmarked cast and its baselines.
pub struct CastTimes {
    pub copy: Duration,
    pub cast: Duration,
    pub floor: Duration,
}

impl CastRow {
    pub fn new(from: DType, to: DType, elems: usize, t: CastTimes) -> CastRow {
        let (copy, cast, floor) = (
            t.copy.as_secs_f64(),
            t.cast.as_secs_f64(),
            t.floor.as_secs_f64(),
        );
        CastRow {
            from: from.short_name().into(),
            to: to.short_name().into(),
            elems: elems as u64,
            copy_s: copy,
            cast_s: cast,
            floor_s: floor,
            ratio_to_copy: cast / copy,
            floor_to_copy: floor / copy,
            ratio_to_floor: cast / floor,
        }
    }
}

/// The paths a row holds, with a getter each: (name, seconds).
type Getter = fn(&Row) -> Option<f64>;

const PATHS: [(&str, Getter); 6] = [
    ("memcpy", |r| Some(r.memcpy_s)),
    ("gpu copy", |r| Some(r.gpu_copy_s)),
    ("upload", |r| Some(r.upload_s)),
    ("readback", |r| Some(r.readback_s)),
    ("round trip", |r| Some(r.round_trip_s)),
    ("cast", |r| r.cast_s),
];

/// `time = fixed + bytes / bandwidth`, fitted by least squares on relative error (so small
/// sizes, where the fixed cost shows, weigh as much as large ones).
#[derive(Serialize)]
pub struct Fit {
    pub dtype: String,
    pub path: String,
    pub fixed_us: f64,
    pub gb_per_s: f64,
    /// Largest relative deviation of a measurement from the fit.
    pub max_rel_err: f64,
}

impl Fit {
    pub fn all(rows: &[Row]) -> Vec<Fit> {
        let mut dtypes: Vec<&str> = rows.iter().map(|r| r.dtype.as_str()).collect();
        dtypes.dedup();
        let mut out = Vec::new();
        for d in dtypes {
            for (path, get) in PATHS {
                let pts: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.dtype == d)
                    .filter_map(|r| get(r).map(|t| (r.bytes as f64, t)))
                    .collect();
                if let Some(f) = Fit::of(d, path, &pts) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Weighted least squares for t = a + b·x with weights 1/t².
    fn of(dtype: &str, path: &str, pts: &[(f64, f64)]) -> Option<Fit> {
        if pts.len() < 2 {
            return None;
        }
        let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(x, y) in pts {
            let w = 1.0 / (y * y);
            sw += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            sxy += w * x * y;
        }
        let det = sw * sxx - sx * sx;
        if det.abs() < f64::MIN_POSITIVE {
            return None;
        }
        let b = (sw * sxy - sx * sy) / det;
        let a = (sy - b * sx) / sw;
        let max_rel_err = pts
            .iter()
            .map(|&(x, y)| ((a + b * x - y) / y).abs())
            .fold(0.0, f64::max);
        Some(Fit {
            dtype: dtype.into(),
            path: path.into(),
            fixed_us: a * 1e6,
            gb_per_s: if b > 0.0 { 1e-9 / b } else { f64::INFINITY },
            max_rel_err,
        })
    }
}

/// Batching and overlap gains.
#[derive(Serialize)]
pub struct Gains {
    pub one_by_one_256x1k_s: f64,
    pub batched_256x1k_s: f64,
    pub batching_gain: f64,
    /// The same on the staged path, when the default path is the mapped one.
    pub staged_one_by_one_256x1k_s: Option<f64>,
    pub staged_batched_256x1k_s: Option<f64>,
    pub staged_batching_gain: Option<f64>,
    pub sequential_16x4m_s: f64,
    pub overlapped_16x4m_s: f64,
    pub overlap_gain: f64,
}

impl Gains {
    pub fn new(
        batching: (Duration, Duration),
        staged: Option<(Duration, Duration)>,
        overlap: (Duration, Duration),
    ) -> Gains {
        let s = |d: Duration| d.as_secs_f64();
        Gains {
            one_by_one_256x1k_s: s(batching.0),
            batched_256x1k_s: s(batching.1),
            batching_gain: s(batching.0) / s(batching.1),
            staged_one_by_one_256x1k_s: staged.map(|b| s(b.0)),
            staged_batched_256x1k_s: staged.map(|b| s(b.1)),
            staged_batching_gain: staged.map(|b| s(b.0) / s(b.1)),
            sequential_16x4m_s: s(overlap.0),
            overlapped_16x4m_s: s(overlap.1),
            overlap_gain: s(overlap.0) / s(overlap.1),
        }
    }
}

/// Load + save of an .npy against `cp` of the same file.
#[derive(Serialize)]
pub struct Files {
    pub bytes: u64,
    pub cp_s: f64,
    pub load_s: f64,
    pub save_s: f64,
    /// (load + save) ÷ cp; the goal is at most 1.5.
    pub ratio_to_cp: f64,
}

impl Files {
    pub fn new(bytes: usize, cp: Duration, load: Duration, save: Duration) -> Files {
        let s = |d: Duration| d.as_secs_f64();
        Files {
            bytes: bytes as u64,
            cp_s: s(cp),
            load_s: s(load),
            save_s: s(save),
            ratio_to_cp: (s(load) + s(save)) / s(cp),
        }
    }
}

/// [`PhaseTimes`] in seconds, for JSON.
#[derive(Serialize)]
pub struct Phases {
    pub calls: u64,
    pub bytes: u64,
    pub host_copy_s: f64,
    pub submit_s: f64,
    pub device_s: f64,
    pub map_wait_s: f64,
}

impl From<PhaseTimes> for Phases {
    fn from(p: PhaseTimes) -> Phases {
        Phases {
            calls: p.calls,
            bytes: p.bytes,
            host_copy_s: p.host_copy.as_secs_f64(),
            submit_s: p.submit.as_secs_f64(),
            device_s: p.device.as_secs_f64(),
            map_wait_s: p.map_wait.as_secs_f64(),
        }
    }
}

/// `Gpu::stats` over the size sweep.
#[derive(Serialize)]
pub struct StatsJson {
    pub upload: Phases,
    pub readback: Phases,
    pub cast: Phases,
}

impl From<Stats> for StatsJson {
    fn from(s: Stats) -> StatsJson {
        StatsJson {
            upload: s.upload.into(),
            readback: s.readback.into(),
            cast: s.cast.into(),
        }
    }
}

/// Everything `tensorbridge bench` measured.
#[derive(Serialize)]
pub struct Report {
    pub adapter: String,
    pub backend: String,
    pub path: String,
    /// The conversions the casts do with the adapter's own instructions.
    pub native_casts: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub fits: Vec<Fit>,
    pub casts: Vec<CastRow>,
    pub gains: Gains,
    pub stats: StatsJson,
    pub files: Option<Files>,
}

/// 4K, 256M, 1G and so on.
pub fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{}G", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{}M", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{}K", b >> 10),
        b => format!("{b}B"),
    }
}

fn dur(s: f64) -> String {
    match s {
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.2} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

impl Report {
    pub fn print(&self) {
        println!(
            "adapter: {} ({}), transfer path {}, native casts: {}\n",
            self.adapter,
            self.backend,
            self.path,
            match self.native_casts.join(" ") {
                n if n.is_empty() => "none".to_string(),
                n => n,
            }
        );
        println!(
            "times are medians; ×memcpy = our bandwidth ÷ memcpy's (1.00 = as fast as memcpy);"
        );
        println!(
            "cast ×copy = cast time ÷ a GPU copy of the larger side (1.00 = as fast as a copy)\n"
        );
        println!(
            "{:>5} {:>6} | {:>10} {:>10} | {:>10} {:>6} | {:>10} {:>6} | {:>10} | {:>8} {:>10} {:>6}",
            "dtype",
            "size",
            "memcpy",
            "gpu copy",
            "upload",
            "×mc",
            "readback",
            "×mc",
            "round trip",
            "cast",
            "time",
            "×copy"
        );
        for r in &self.rows {
            let cast = match (&r.cast, r.cast_s, r.cast_copy_s) {
                (Some(c), Some(t), Some(b)) => format!("{c:>8} {:>10} {:>6.2}", dur(t), t / b),
                _ => String::new(),
            };
            println!(
                "{:>5} {:>6} | {:>10} {:>10} | {:>10} {:>6.2} | {:>10} {:>6.2} | {:>10} | {cast}",
                r.dtype,
                size_label(r.bytes),
                dur(r.memcpy_s),
                dur(r.gpu_copy_s),
                dur(r.upload_s),
                r.memcpy_s / r.upload_s,
                dur(r.readback_s),
                r.memcpy_s / r.readback_s,
                dur(r.round_trip_s)
            );
        }
        println!("\nfit: time = fixed + bytes ÷ bandwidth (weighted least squares)");
        println!(
            "{:>5} {:>11} {:>12} {:>10} {:>12}",
            "dtype", "path", "fixed", "GB/s", "max rel err"
        );
        for f in &self.fits {
            println!(
                "{:>5} {:>11} {:>9.1} µs {:>10.2} {:>11.0}%",
                f.dtype,
                f.path,
                f.fixed_us,
                f.gb_per_s,
                f.max_rel_err * 100.0
            );
        }
        if let Some(c) = self.casts.first() {
            println!(
                "\ncasts, {} elements each, against a GPU copy of the larger side (goal ≤ 2× copy)",
                size_label(c.elems).trim_end_matches('B')
            );
            println!(
                "  floor = the same kernel's loads and stores with the conversion left out \
                 (Tensor::cast_floor)"
            );
            println!(
                "{:>10} {:>10} {:>10} {:>10} {:>7} {:>11} {:>7}",
                "cast", "copy", "floor", "time", "×copy", "floor×copy", "×floor"
            );
            for c in &self.casts {
                println!(
                    "{:>10} {:>10} {:>10} {:>10} {:>7.2} {:>11.2} {:>7.2}",
                    format!("{}->{}", c.from, c.to),
                    dur(c.copy_s),
                    dur(c.floor_s),
                    dur(c.cast_s),
                    c.ratio_to_copy,
                    c.floor_to_copy,
                    c.ratio_to_floor
                );
            }
        }
        let g = &self.gains;
        println!("\ngains");
        println!(
            "  batching, 256 × 1 KiB round trips: one by one {}, upload_many + read_many {}: {:.1}×",
            dur(g.one_by_one_256x1k_s),
            dur(g.batched_256x1k_s),
            g.batching_gain
        );
        if let (Some(a), Some(b), Some(g)) = (
            g.staged_one_by_one_256x1k_s,
            g.staged_batched_256x1k_s,
            g.staged_batching_gain,
        ) {
            println!(
                "  the same on the staged path: one by one {}, batched {}: {g:.1}×",
                dur(a),
                dur(b)
            );
        }
        println!(
            "  async overlap, 16 × 4 MiB upload + cast + read + CPU work: sequential {}, \
             prefetch + readback_queue {}: {:.2}×",
            dur(g.sequential_16x4m_s),
            dur(g.overlapped_16x4m_s),
            g.overlap_gain
        );
        if let Some(f) = &self.files {
            println!(
                "\nfiles, {} .npy (warm page cache): cp {}, load {} + save {} = {:.2}× cp",
                size_label(f.bytes),
                dur(f.cp_s),
                dur(f.load_s),
                dur(f.save_s),
                f.ratio_to_cp
            );
        }
        println!("\nwhere the time went (Gpu::stats over the size sweep; phases may overlap)");
        println!(
            "{:>9} {:>7} {:>10} {:>11} {:>11} {:>11} {:>11}",
            "op", "calls", "MiB", "host copy", "submit", "device", "map wait"
        );
        for (name, p) in [
            ("upload", &self.stats.upload),
            ("readback", &self.stats.readback),
            ("cast", &self.stats.cast),
        ] {
            println!(
                "{name:>9} {:>7} {:>10.1} {:>11} {:>11} {:>11} {:>11}",
                p.calls,
                p.bytes as f64 / 1048576.0,
                dur(p.host_copy_s),
                dur(p.submit_s),
                dur(p.device_s),
                dur(p.map_wait_s)
            );
        }
    }

    /// Time against size, log-log, one line per path of the first dtype.
    pub fn chart(&self) -> Chart {
        let first = self
            .rows
            .first()
            .map(|r| r.dtype.clone())
            .unwrap_or_default();
        let series = PATHS
            .iter()
            .map(|(name, get)| Series {
                label: name.to_string(),
                points: self
                    .rows
                    .iter()
                    .filter(|r| r.dtype == first)
                    .filter_map(|r| get(r).map(|t| (r.bytes as f64, t)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        Chart {
            title: format!("tensorbridge {first} on {} ({})", self.adapter, self.path),
            x_label: "bytes".into(),
            y_label: "seconds".into(),
            log_x: true,
            log_y: true,
            bars: false,
            series,
        }
    }
}
