//! What the statistics kernels (`shaders/reduce.wgsl`) take: their entry points, bindings and
//! uniform parameters.

use crate::runtime::kernels::{EntryPoint, KernelFamily, Module, WgslStruct, wgsl_struct};
use crate::{Gpu, Result};

wgsl_struct! {
    /// The uniform parameters of every reduction entry point (`p`).
    pub(crate) struct ReduceParams {
        /// Elements (or 16-byte units, for the `_units` entry points) in this dispatch.
        n: u32,
        /// First element, counted in the bound chunk.
        base: u32,
        /// Histogram bins.
        bins: u32,
        /// First partial (in `partials`) this dispatch writes.
        out_base: u32,
        /// The histogram range.
        lo: f32,
        hi: f32,
        /// `bins / (hi - lo)`, computed on the host (WGSL division may be inexact).
        scale: f32,
        /// The f64 sum's reference: the largest biased exponent among the elements.
        exp: u32,
    }
}

/// The bindings of `shaders/reduce.wgsl`.
pub(crate) mod binding {
    /// The tensor as words (`src`), for the element-wise entry points.
    pub const SRC: u32 = 0;
    /// Per-workgroup partials (`partials`) of `extremes` and `sum_f32`.
    pub const PARTIALS: u32 = 1;
    /// [`super::ReduceParams`] (`p`).
    pub const PARAMS: u32 = 2;
    /// The histogram's bin counts (`hist`).
    pub const HIST: u32 = 3;
    /// The tensor as 16-byte units (`units`), for the `_units` entry points.
    pub const UNITS: u32 = 4;
    /// The f64 histogram's edges as order-preserving keys (`edges`).
    pub const EDGES: u32 = 5;
}

/// Guard bits of the f64 sum's fixed point below the largest element's last bit (`GUARD` in
/// the shader).
pub(crate) const F64_GUARD: u32 = 40;

/// Most bins [`Entry::HistogramUnitsSmall`] counts in registers (`SMALL_BINS` in the shader).
pub(crate) const SMALL_BINS: u32 = 16;

/// Most bins [`Entry::HistogramUnits`] counts in workgroup memory (`SHARED_BINS`, the size of
/// `s_hist`: 16 KiB, WebGPU's default workgroup storage).
pub(crate) const SHARED_BINS: u32 = 4096;

/// The entry points of `shaders/reduce.wgsl`. Each pass has an element-wise entry point, for
/// the elements after a chunk's last whole 16-byte unit, and one or more over whole units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Entry {
    /// Min and max keys, integer sum, NaN count and f32 sum, element-wise.
    Extremes,
    /// [`Entry::Extremes`] over 16-byte units.
    ExtremesUnits,
    /// f64 sums in 128-bit fixed point, element-wise.
    SumF64,
    /// [`Entry::SumF64`] over 16-byte units.
    SumF64Units,
    /// Histogram, element-wise.
    Histogram,
    /// Histogram over units, counted in registers (at most [`SMALL_BINS`] bins).
    HistogramUnitsSmall,
    /// Histogram over units, counted in workgroup memory (at most [`SHARED_BINS`] bins).
    HistogramUnits,
    /// Histogram over units, counted in the global bins.
    HistogramUnitsGlobal,
    /// Exact histogram of f64 elements against f64 edges, element-wise.
    HistogramF64,
    /// [`Entry::HistogramF64`] over 16-byte units.
    HistogramF64Units,
}

impl EntryPoint for Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Extremes => "extremes",
            Entry::ExtremesUnits => "extremes_units",
            Entry::SumF64 => "sum_f64",
            Entry::SumF64Units => "sum_f64_units",
            Entry::Histogram => "histogram",
            Entry::HistogramUnitsSmall => "histogram_units_small",
            Entry::HistogramUnits => "histogram_units",
            Entry::HistogramUnitsGlobal => "histogram_units_global",
            Entry::HistogramF64 => "histogram_f64",
            Entry::HistogramF64Units => "histogram_f64_units",
        }
    }
}

/// One reduction pass over a tensor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pass {
    /// The `extremes` pass: 8 words of partials per workgroup.
    Extremes,
    /// The fixed-point sum of f64 elements whose largest biased exponent is `exp`: 4 words
    /// (a 128-bit integer) per workgroup.
    SumF64 {
        /// The largest biased exponent (at least 1).
        exp: u32,
    },
    /// `count` equal-width bins over `[lo, hi]` of f32 words.
    Histogram {
        /// Bins.
        count: u32,
        /// Range start.
        lo: f32,
        /// Range end.
        hi: f32,
    },
    /// `count` bins of f64 elements, against the edges bound at [`binding::EDGES`].
    HistogramF64 {
        /// Bins.
        count: u32,
    },
}

impl Pass {
    /// The element-wise entry point and the one over whole units.
    pub fn entries(self) -> (Entry, Entry) {
        match self {
            Pass::Extremes => (Entry::Extremes, Entry::ExtremesUnits),
            Pass::SumF64 { .. } => (Entry::SumF64, Entry::SumF64Units),
            Pass::Histogram { count, .. } => (
                Entry::Histogram,
                match count {
                    c if c <= SMALL_BINS => Entry::HistogramUnitsSmall,
                    c if c <= SHARED_BINS => Entry::HistogramUnits,
                    _ => Entry::HistogramUnitsGlobal,
                },
            ),
            Pass::HistogramF64 { .. } => (Entry::HistogramF64, Entry::HistogramF64Units),
        }
    }

    /// Words of partials each workgroup writes (0 for the histogram, which writes bins).
    pub fn words(self) -> usize {
        match self {
            Pass::Extremes => 8,
            Pass::SumF64 { .. } => 4,
            Pass::Histogram { .. } | Pass::HistogramF64 { .. } => 0,
        }
    }

    /// The parameters of one dispatch over `n` items from `base`, writing from `out_base`.
    pub fn params(self, n: u32, base: u32, out_base: u32) -> ReduceParams {
        let (bins, lo, hi) = match self {
            Pass::Histogram { count, lo, hi } => (count, lo, hi),
            Pass::HistogramF64 { count } => (count, 0.0, 1.0),
            _ => (0, 0.0, 0.0),
        };
        let exp = match self {
            Pass::SumF64 { exp } => exp,
            _ => 0,
        };
        ReduceParams {
            n,
            base,
            bins,
            out_base,
            lo,
            hi,
            scale: bins as f32 / (hi - lo),
            exp,
        }
    }
}

/// The statistics kernels of one device.
pub(crate) struct ReduceKernels(pub Module<Entry>);

impl KernelFamily for ReduceKernels {
    fn build(gpu: &Gpu) -> Result<Self> {
        let source = include_str!("../../../shaders/reduce.wgsl");
        let label = "tensorbridge reduce";
        Ok(ReduceKernels(Module::new(
            gpu,
            label,
            &[ReduceParams::WGSL],
            source,
        )))
    }
}
