//! Statistics on the device: [`Tensor::min`], `max`, `sum`, `mean` and `histogram`, for every
//! dtype, reading back only a few words per workgroup (`shaders/reduce.wgsl`).
//!
//! The precision of each statistic is documented on [`Summary`]. The code is split by concept:
//! [`spec`] (what is returned), [`params`] (what the kernels take) and [`launch`] (how a pass
//! is dispatched); this file holds the `Tensor` methods.

mod launch;
mod params;
mod spec;

use crate::core::dtype::Kind;
use crate::runtime::sync::block_on;
use crate::{DType, Error, Result, Tensor};
use params::Pass;
pub use spec::{Histogram, Scalar, Summary};
use spec::{from_key, scalar};

/// The combined partials of the `extremes` pass: order-preserving keys of the smallest and
/// largest non-NaN elements (min above max when there are none), the integer sum (for 64-bit
/// integers, of the keys, with its carries in `sum`'s upper bits), the NaN count and the float
/// sum of the non-NaN elements.
struct Extremes {
    min_key: u64,
    max_key: u64,
    sum: u128,
    nans: usize,
    fsum: f64,
}

/// `np.linspace(lo, hi, bins + 1)`, computed as NumPy computes it (`i * step + lo`, the last
/// edge exactly `hi`), so the edges are NumPy's to the bit.
fn linspace(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let (delta, div) = (hi - lo, bins as f64);
    let step = delta / div;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| match step {
            0.0 => i as f64 / div * delta + lo,
            _ => i as f64 * step + lo,
        })
        .collect();
    edges[bins] = hi;
    edges
}

/// The order-preserving key of an f64 (as `key_of` in `shaders/reduce.wgsl`), -0.0 as 0.0.
fn f64_key(x: f64) -> u64 {
    let bits = if x == 0.0 { 0 } else { x.to_bits() };
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// 2^k, exactly, for k in -1074..=1023.
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1 << (k + 1074))
    }
}

/// `num / den` rounded once to the nearest f64 (ties to even): the quotient is formed with at
/// least 55 significant bits plus a sticky bit for the remainder, then converted (an exact
/// `u128 → f64` rounding). `num` has at most 97 significant bits.
fn div_round(num: i128, den: u64) -> f64 {
    let (mag, den) = (num.unsigned_abs(), den as u128);
    if mag == 0 || den == 0 {
        return num as f64 / den as f64;
    }
    let bits = |x: u128| 128 - x.leading_zeros() as i32;
    let shift = (56 + bits(den) - bits(mag)).clamp(0, 127 - bits(mag)) as u32;
    let scaled = mag << shift;
    let (q, r) = (scaled / den, scaled % den);
    let x = (q | (r != 0) as u128) as f64 / 2f64.powi(shift as i32);
    if num < 0 { -x } else { x }
}

impl Tensor {
    /// The tensor as f32 words for the float sum and the histogram (itself when it is f32).
    fn as_f32(&self) -> Result<Tensor> {
        self.cast(DType::F32)
    }

    /// The `extremes` pass, its per-workgroup partials combined.
    async fn extremes(&self) -> Result<Extremes> {
        let parts = self.launch_and_read(Pass::Extremes, None).await?;
        let mut e = Extremes {
            min_key: u64::MAX,
            max_key: 0,
            sum: 0,
            nans: 0,
            fsum: 0.0,
        };
        let wide_ints = self.dtype().bits() == 64 && self.dtype().kind() != Kind::Float;
        for p in parts.chunks(8) {
            let w = |i: usize| p[i] as u64 | (p[i + 1] as u64) << 32;
            e.min_key = e.min_key.min(w(0));
            e.max_key = e.max_key.max(w(2));
            e.nans += p[6] as usize;
            if wide_ints {
                e.sum += w(4) as u128 | (p[7] as u128) << 64;
            } else {
                e.sum = e.sum.wrapping_add(w(4) as u128);
                e.fsum += f32::from_bits(p[7]) as f64;
            }
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
            sum: raw,
            nans,
            fsum,
        } = self.extremes().await?;
        let d = self.dtype();
        let count = self.len();
        let (min, max, sum) = if d.kind() == Kind::Float {
            // f16, bf16 and f32 were summed in the same pass; f64 has a pass of its own.
            let s = match d {
                _ if nans > 0 => f64::NAN,
                DType::F64 => {
                    let value = |k| f64::from_bits(from_key(d, k));
                    self.f64_sum(value(mn), value(mx)).await?
                }
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
            (
                scalar(d, from_key(d, mn)),
                scalar(d, from_key(d, mx)),
                Scalar::UInt(0),
            )
        };
        // Integers: the exact sum (for 64-bit ones, of keys offset by 2^63 when signed), the
        // wrapping sum NumPy's np.sum gives, and the mean of the exact sum, rounded once.
        let exact = match d {
            DType::I64 => raw as i128 - ((count as i128) << 63),
            _ if d.kind() == Kind::SInt => raw as u64 as i64 as i128,
            _ => raw as i128,
        };
        let (sum, mean) = match d.kind() {
            Kind::Float => (sum, sum.as_f64() / count as f64),
            Kind::SInt => (Scalar::Int(exact as i64), div_round(exact, count as u64)),
            _ => (Scalar::UInt(exact as u64), div_round(exact, count as u64)),
        };
        Ok(Summary {
            count,
            nan_count: nans,
            min,
            max,
            sum,
            mean,
        })
    }

    /// The sum of a NaN-free f64 tensor whose smallest and largest elements are `mn` and `mx`:
    /// infinities as NumPy sums them, else the fixed-point pass (see [`Summary`]), converted
    /// with one rounding.
    async fn f64_sum(&self, mn: f64, mx: f64) -> Result<f64> {
        match (mn == f64::NEG_INFINITY, mx == f64::INFINITY) {
            (true, true) => return Ok(f64::NAN),
            (false, true) => return Ok(f64::INFINITY),
            (true, false) => return Ok(f64::NEG_INFINITY),
            (false, false) => {}
        }
        let biggest = mn.abs().max(mx.abs());
        let exp = ((biggest.to_bits() >> 52) as u32).max(1);
        let parts = self.launch_and_read(Pass::SumF64 { exp }, None).await?;
        let fixed = parts
            .chunks(4)
            .map(|w| {
                let u = w.iter().rev().fold(0u128, |a, &x| a << 32 | x as u128);
                u as i128
            })
            .fold(0i128, i128::wrapping_add);
        // A unit is 2^(exp - 1075 - GUARD); the first scaling is exact, the second rounds once.
        Ok(fixed as f64 * pow2(-(params::F64_GUARD as i32)) * pow2(exp as i32 - 1075))
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
        let edges = linspace(lo, hi, bins);
        if self.is_empty() {
            return Ok(Histogram {
                counts: vec![0; bins],
                edges,
            });
        }
        let counts = match self.dtype() {
            // NumPy's exact bins: elements as f64 against the f64 edges.
            DType::F64 | DType::I64 | DType::U64 => {
                let keys: Vec<u32> = edges
                    .iter()
                    .flat_map(|&e| {
                        let k = f64_key(e);
                        [k as u32, (k >> 32) as u32]
                    })
                    .collect();
                let keys = self.gpu().upload_single(&keys)?;
                let x = match self.dtype() {
                    DType::F64 => self.clone(),
                    _ => self.cast(DType::F64)?,
                };
                let pass = Pass::HistogramF64 { count: bins as u32 };
                x.launch_and_read(pass, Some(&keys)).await?
            }
            _ => {
                let pass = Pass::Histogram {
                    count: bins as u32,
                    lo: lo as f32,
                    hi: hi as f32,
                };
                self.as_f32()?.launch_and_read(pass, None).await?
            }
        };
        let counts = counts.iter().map(|&c| c as u64).collect();
        Ok(Histogram { counts, edges })
    }
}
