//! Statistics on the device: [`Tensor::min`], `max`, `sum`, `mean` and `histogram`, for every
//! dtype, reading back only a few words per workgroup (`shaders/reduce.wgsl`).
//!
//! The precision of each statistic is documented on [`Summary`].

use crate::dtype::Kind;
use crate::kernels::{Dispatches, Kernels};
use crate::sync::{block_on, validated};
use crate::{DType, Error, Gpu, Result, Tensor};

/// A value of a tensor's dtype, as [`Tensor::min`] and friends return it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// A bool value.
    Bool(bool),
    /// A signed integer (any signed dtype).
    Int(i64),
    /// An unsigned integer (any unsigned dtype).
    UInt(u64),
    /// A float (any float dtype, exactly widened to f64).
    Float(f64),
}

impl Scalar {
    /// The value as f64 (64-bit integers above 2^53 round).
    pub fn as_f64(&self) -> f64 {
        match *self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::UInt(u) => u as f64,
            Scalar::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::UInt(u) => write!(f, "{u}"),
            Scalar::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Min, max, sum, mean and NaN count of a tensor, from one pass (plus one for float sums).
///
/// Precision:
/// * **min / max** are exact for every dtype (f64 and 64-bit integers included, with no f64
///   hardware): elements are compared as order-preserving 64-bit keys. A NaN anywhere makes
///   both NaN, like `np.min`/`np.max`. -0.0 counts as smaller than +0.0.
/// * **sum** of bool and integer dtypes is exact, in 64-bit two's complement (wrapping on
///   overflow, like NumPy's int64/uint64 sums). Float sums accumulate in f32 with Kahan
///   compensation per invocation, a tree within each workgroup, and f64 across workgroups.
///   f16, bf16 and f32 elements enter exactly; f64 elements are first rounded to f32 on the
///   device, so an f64 sum carries about 7 significant digits of each element (relative error
///   around 1e-7 of the sum of magnitudes, plus compensation error), and f64 elements beyond
///   the f32 range count as infinite. Infinities sum as in NumPy (inf + finite = inf, inf - inf
///   = NaN); any NaN makes the sum NaN.
/// * **mean** is the sum above divided by the count in f64.
/// * **histogram** uses NumPy's equal-width bins over `range` (default: min to max), the last
///   bin closed; NaN and values outside the range are not counted. Elements are compared in
///   f32 (integers above 2^24 and f64 values are rounded first), so a value within f32
///   rounding of a bin edge can land in the neighbouring bin compared with NumPy's f64
///   arithmetic. At most 2^32 - 1 elements per bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Elements.
    pub count: usize,
    /// NaN elements (float dtypes).
    pub nan_count: usize,
    /// Smallest element (NaN when any element is NaN).
    pub min: Scalar,
    /// Largest element (NaN when any element is NaN).
    pub max: Scalar,
    /// Sum (see the module docs for its precision).
    pub sum: Scalar,
    /// Sum divided by count, in f64.
    pub mean: f64,
}

/// Counts per bin and the `bins + 1` edges, like `np.histogram`.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Elements per bin.
    pub counts: Vec<u64>,
    /// Bin edges, from the range's start to its end.
    pub edges: Vec<f64>,
}

/// Workgroups per dispatch at most; each invocation loops over its share.
const MAX_GROUPS: u64 = 1024;
/// [`MAX_GROUPS`] on CPU adapters, a few per core: there each workgroup's final tree of barriers
/// costs about as much as reading 60 000 units (lavapipe, 64M f32: `summary` took 112 ms with
/// 1024 workgroups, 47 ms with 64).
const MAX_GROUPS_CPU: u64 = 64;
/// Units (or elements) an invocation handles at least, before more workgroups are used.
const PER_INVOCATION: u64 = 8;

/// The combined partials of the `extremes` kernel: order-preserving keys of the smallest and
/// largest non-NaN elements (min above max when there are none), the wrapping integer sum, the
/// NaN count and the float sum of the non-NaN elements.
struct Extremes {
    min_key: u64,
    max_key: u64,
    sum: u64,
    nans: usize,
    fsum: f64,
}

/// Most bins `histogram_units_small` counts in registers (`SMALL_BINS` in `shaders/reduce.wgsl`).
const SMALL_BINS: u32 = 16;

/// Most bins `histogram_units` counts in workgroup memory (the size of `s_hist`).
const SHARED_BINS: u32 = 4096;

/// Histogram parameters for [`Tensor::dispatch`].
struct Bins {
    count: u32,
    lo: f32,
    hi: f32,
}

impl Tensor {
    /// Runs `entry` over every chunk; returns the output tensor (`words` u32 per workgroup, or
    /// the bin counts for the histogram).
    fn dispatch(&self, entry: &'static str, words: usize, bins: Option<Bins>) -> Result<Tensor> {
        let gpu: &Gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let device = &gpu.shared.device;
        let kernels = gpu.shared.reduce.get_or_init(|| {
            Kernels::new(
                device,
                "tensorbridge reduce",
                include_str!("../shaders/reduce.wgsl"),
            )
        });
        let units_entry = match (entry, &bins) {
            ("extremes", _) => "extremes_units",
            ("sum_f32", _) => "sum_f32_units",
            (_, Some(b)) if b.count <= SMALL_BINS => "histogram_units_small",
            (_, Some(b)) if b.count <= SHARED_BINS => "histogram_units",
            _ => "histogram_units_global",
        };
        let pipeline = kernels.pipeline(device, entry, Some(self.dtype()));
        let units_pipeline = kernels.pipeline(device, units_entry, Some(self.dtype()));
        // Each chunk: its whole 16-byte units in one dispatch, then the elements after the last
        // whole unit (fewer than a unit's worth) in one workgroup.
        let per_unit = 16 / self.dtype().size_in_bytes();
        let max_groups = match gpu.shared.info.device_type {
            wgpu::DeviceType::Cpu => MAX_GROUPS_CPU,
            _ => MAX_GROUPS,
        };
        let groups = |units: usize| {
            (units as u64)
                .div_ceil(256 * PER_INVOCATION)
                .clamp(1, max_groups) as u32
        };
        let plan: Vec<_> = self
            .pieces(u64::MAX)
            .map(|p| {
                let units = p.len / per_unit;
                let tail = p.len - units * per_unit;
                (p, units, (units > 0).then(|| groups(units)), tail > 0)
            })
            .collect();
        let out = match &bins {
            Some(b) => gpu.upload_single(&vec![0u32; b.count as usize])?,
            None => {
                let total: usize = plan
                    .iter()
                    .map(|&(_, _, g, tail)| g.unwrap_or(0) as usize + tail as usize)
                    .sum();
                Tensor::alloc_single(gpu, DType::U32, &[total * words])?
            }
        };
        if out.inner.chunks.len() > 1 {
            return Err(Error::TooLarge {
                what: "reduction output",
                limit: "max_storage_buffer_binding_size",
                requested: out.size_in_bytes(),
                max: gpu.shared.info.limits.max_storage_buffer_binding_size,
            });
        }
        let (count, lo, hi) = bins
            .as_ref()
            .map_or((0, 0.0, 0.0), |b| (b.count, b.lo, b.hi));
        let out_binding = if bins.is_some() { 3 } else { 1 };
        let mut dispatches = Dispatches::new(gpu);
        let mut out_base = 0u32;
        for (p, units, unit_groups, tail) in plan {
            // (src binding, pipeline, count, first element, workgroups)
            let unit_part = unit_groups.map(|g| (4, &units_pipeline, units, 0, g));
            let tail_part =
                tail.then(|| (0, &pipeline, p.len - units * per_unit, units * per_unit, 1));
            for (src_binding, pipeline, n, base, g) in unit_part.into_iter().chain(tail_part) {
                let mut params = [0u32; 8];
                params[..4].copy_from_slice(&[n as u32, base as u32, count, out_base]);
                params[4] = lo.to_bits();
                params[5] = hi.to_bits();
                params[6] = (count as f32 / (hi - lo)).to_bits();
                let bindings = [
                    (src_binding, self.binding(p.chunk)),
                    (out_binding, out.inner.chunks[0].as_entire_binding()),
                ];
                dispatches.add(pipeline, (2, &params), &bindings, (g, 1))?;
                out_base += g;
            }
        }
        dispatches.submit();
        gpu.check()?;
        Ok(out)
    }

    /// The tensor as f32 words for the float sum and the histogram (itself when it is f32).
    fn as_f32(&self) -> Result<Tensor> {
        self.cast(DType::F32)
    }

    /// Runs `entry` (see [`Tensor::dispatch`]) and reads its output, in a validation error
    /// scope (see [`validated`]).
    async fn dispatch_and_read(
        &self,
        entry: &'static str,
        words: usize,
        bins: Option<Bins>,
    ) -> Result<Vec<u32>> {
        validated(self.gpu(), &format!("the {entry} kernel"), || async {
            let out = self.dispatch(entry, words, bins)?;
            Ok(out.read::<u32>().await?.iter().copied().collect())
        })
        .await
    }

    /// The `extremes` pass, its per-workgroup partials combined.
    async fn extremes(&self) -> Result<Extremes> {
        let parts = self.dispatch_and_read("extremes", 8, None).await?;
        let mut e = Extremes {
            min_key: u64::MAX,
            max_key: 0,
            sum: 0,
            nans: 0,
            fsum: 0.0,
        };
        for p in parts.chunks(8) {
            let w = |i: usize| p[i] as u64 | (p[i + 1] as u64) << 32;
            e.min_key = e.min_key.min(w(0));
            e.max_key = e.max_key.max(w(2));
            e.sum = e.sum.wrapping_add(w(4));
            e.nans += p[6] as usize;
            e.fsum += f32::from_bits(p[7]) as f64;
        }
        Ok(e)
    }

    /// The smallest and largest elements that are not NaN (`None` when there are none), in one
    /// pass of the `extremes` kernel.
    pub(crate) async fn min_max_skipping_nan(&self) -> Result<Option<(Scalar, Scalar)>> {
        if self.is_empty() {
            return Ok(None);
        }
        let e = self.extremes().await?;
        let d = self.dtype();
        Ok((e.min_key <= e.max_key).then(|| {
            (
                scalar(d, from_key(d, e.min_key)),
                scalar(d, from_key(d, e.max_key)),
            )
        }))
    }

    /// Min, max, sum, mean and NaN count, computed on the device (without blocking).
    pub async fn summary_async(&self) -> Result<Summary> {
        if self.is_empty() {
            return Err(Error::Empty {
                what: "min/max/summary",
            });
        }
        let Extremes {
            min_key: mn,
            max_key: mx,
            sum,
            nans,
            fsum,
        } = self.extremes().await?;
        let d = self.dtype();
        let count = self.len();
        let (min, max, sum) = if d.kind() == Kind::Float {
            // f16, bf16 and f32 were summed in the same pass; f64 is rounded to f32 first.
            let s = match d {
                _ if nans > 0 => f64::NAN,
                DType::F64 => self.float_sum().await?,
                _ => fsum,
            };
            if nans > 0 {
                (
                    Scalar::Float(f64::NAN),
                    Scalar::Float(f64::NAN),
                    Scalar::Float(s),
                )
            } else {
                (
                    scalar(d, from_key(d, mn)),
                    scalar(d, from_key(d, mx)),
                    Scalar::Float(s),
                )
            }
        } else {
            let sum = match d.kind() {
                Kind::SInt => Scalar::Int(sum as i64),
                _ => Scalar::UInt(sum),
            };
            (scalar(d, from_key(d, mn)), scalar(d, from_key(d, mx)), sum)
        };
        Ok(Summary {
            count,
            nan_count: nans,
            min,
            max,
            sum,
            mean: sum.as_f64() / count as f64,
        })
    }

    async fn float_sum(&self) -> Result<f64> {
        let parts = self.as_f32()?.dispatch_and_read("sum_f32", 1, None).await?;
        Ok(parts.iter().map(|&b| f32::from_bits(b) as f64).sum())
    }

    /// Min, max, sum, mean and NaN count (blocking, native only). See the module docs for the
    /// precision of each.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[3i16, -7, 12]))?;
    /// let s = t.summary()?;
    /// assert_eq!(s.min, tensorbridge::Scalar::Int(-7));
    /// assert_eq!(t.max()?.as_f64(), 12.0);
    /// assert_eq!(t.sum()?, tensorbridge::Scalar::Int(8));
    /// assert!((t.mean()? - 8.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn summary(&self) -> Result<Summary> {
        block_on("Tensor::summary", "Tensor::summary_async().await", || {
            self.summary_async()
        })?
    }

    /// The smallest element, like `np.min` (NaN if any element is NaN; error if empty).
    pub fn min(&self) -> Result<Scalar> {
        Ok(self.summary()?.min)
    }

    /// The largest element, like `np.max`.
    pub fn max(&self) -> Result<Scalar> {
        Ok(self.summary()?.max)
    }

    /// The sum of all elements (0 for an empty tensor).
    pub fn sum(&self) -> Result<Scalar> {
        if self.is_empty() {
            return Ok(match self.dtype().kind() {
                Kind::Float => Scalar::Float(0.0),
                Kind::SInt => Scalar::Int(0),
                _ => Scalar::UInt(0),
            });
        }
        Ok(self.summary()?.sum)
    }

    /// The mean of all elements (NaN for an empty tensor, as NumPy gives).
    pub fn mean(&self) -> Result<f64> {
        if self.is_empty() {
            return Ok(f64::NAN);
        }
        Ok(self.summary()?.mean)
    }

    /// `bins` equal-width bins over `range` (default: the tensor's min to max), like
    /// `np.histogram` (blocking, native only).
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[0.0f32, 0.5, 1.0, 2.0, 4.0, f32::NAN]))?;
    /// let h = t.histogram(4, Some((0.0, 4.0)))?;
    /// assert_eq!(h.counts, [2, 1, 1, 1]); // [0, 1) [1, 2) [2, 3) [3, 4]; NaN not counted
    /// assert_eq!(h.edges, [0.0, 1.0, 2.0, 3.0, 4.0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn histogram(&self, bins: usize, range: Option<(f64, f64)>) -> Result<Histogram> {
        block_on(
            "Tensor::histogram",
            "Tensor::histogram_async().await",
            || self.histogram_async(bins, range),
        )?
    }

    /// [`Tensor::histogram`] without blocking.
    pub async fn histogram_async(
        &self,
        bins: usize,
        range: Option<(f64, f64)>,
    ) -> Result<Histogram> {
        let bad = |reason: String| Error::InvalidOption {
            name: "histogram",
            value: format!("bins={bins}, range={range:?}"),
            reason,
        };
        if bins == 0 || bins > u32::MAX as usize {
            return Err(bad("bins must be between 1 and 2^32 - 1".into()));
        }
        let (mut lo, mut hi) = match range {
            Some(r) => r,
            None if self.is_empty() => (0.0, 1.0),
            None => {
                let s = self.summary_async().await?;
                (s.min.as_f64(), s.max.as_f64())
            }
        };
        if !(lo.is_finite() && hi.is_finite()) || lo > hi {
            return Err(bad(format!(
                "the range [{lo}, {hi}] is not finite and ordered"
            )));
        }
        if lo == hi {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        let edges: Vec<f64> = (0..=bins)
            .map(|i| lo + (hi - lo) * i as f64 / bins as f64)
            .collect();
        if self.is_empty() {
            return Ok(Histogram {
                counts: vec![0; bins],
                edges,
            });
        }
        let spec = Bins {
            count: bins as u32,
            lo: lo as f32,
            hi: hi as f32,
        };
        let words = self.as_f32()?;
        let counts = words.dispatch_and_read("histogram", 0, Some(spec)).await?;
        let counts = counts.iter().map(|&c| c as u64).collect();
        Ok(Histogram { counts, edges })
    }
}

/// Undoes the kernel's order-preserving key: the element's raw bits.
fn from_key(d: DType, key: u64) -> u64 {
    let bits = d.bits();
    let top = 1u64 << (bits - 1);
    let all = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match d.kind() {
        Kind::SInt => key ^ top,
        Kind::Float if key & top != 0 => key & !top,
        Kind::Float => !key & all,
        _ => key,
    }
}

/// Raw element bits as a [`Scalar`].
fn scalar(d: DType, bits: u64) -> Scalar {
    let shift = 64 - d.bits();
    match d {
        DType::Bool => Scalar::Bool(bits != 0),
        DType::F16 => Scalar::Float(half::f16::from_bits(bits as u16).to_f64()),
        DType::BF16 => Scalar::Float(half::bf16::from_bits(bits as u16).to_f64()),
        DType::F32 => Scalar::Float(f32::from_bits(bits as u32) as f64),
        DType::F64 => Scalar::Float(f64::from_bits(bits)),
        _ if d.kind() == Kind::SInt => Scalar::Int(((bits << shift) as i64) >> shift),
        _ => Scalar::UInt(bits),
    }
}
