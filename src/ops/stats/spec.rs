//! What the statistics return: [`Scalar`], [`Summary`] and [`Histogram`], and how the kernels'
//! order-preserving keys decode into values.

use crate::DType;
use crate::core::dtype::Kind;

/// A value of a tensor's dtype, as [`crate::Tensor::min`] and friends return it.
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

/// Min, max, sum, mean and NaN count of a tensor ([`crate::Tensor::summary`]), from one pass
/// (plus one for float sums).
///
/// Precision:
/// * **min / max** are exact for every dtype (f64 and 64-bit integers included, with no f64
///   hardware): elements are compared as order-preserving 64-bit keys. A NaN anywhere makes
///   both NaN, like `np.min`/`np.max`. -0.0 counts as smaller than +0.0.
/// * **sum** of bool and integer dtypes is exact, in 64-bit two's complement (wrapping on
///   overflow, like NumPy's int64/uint64 sums). f16, bf16 and f32 sums accumulate in f32
///   with Kahan compensation per invocation, a tree within each workgroup, and f64 across
///   workgroups (elements enter exactly; relative error around 1e-7 of the sum of magnitudes
///   at worst). f64 sums need no f64 arithmetic on the device: each element is added exactly
///   into a 128-bit fixed-point accumulator whose unit is 2^-92 of the largest element's
///   magnitude (bits below it are dropped, toward zero), and the total is converted to f64 with
///   one rounding. The error is at most `n * 2^-92 * max|x|` plus half an ulp of the result,
///   far below 1e-12 of the sum of magnitudes; NumPy's pairwise sum is itself only that close
///   to the exact sum. Infinities sum as in NumPy (inf + finite = inf, inf - inf = NaN); any
///   NaN makes the sum NaN.
/// * **mean** of bool and integer dtypes is the exact sum (never wrapped: 64-bit integers are
///   summed with their carries, in 128 bits) divided by the count, rounded once to f64, as
///   `np.mean` gives up to its own float64 rounding. For floats it is the sum above divided by
///   the count in f64.
/// * **histogram** uses NumPy's equal-width bins over `range` (default: min to max), with the
///   edges computed as `np.linspace` computes them (bit for bit), the last bin closed; NaN and
///   values outside the range are not counted. f64, int64 and uint64 data bin exactly as
///   `np.histogram` does: elements are converted to f64 (as `astype` does) and compared with
///   the f64 edges as order-preserving integer keys (no f64 arithmetic needed), so each lands
///   in the bin whose edges enclose it. (Where bins are narrower than f64's spacing at that
///   magnitude, so that edges repeat, NumPy's index estimate can pick a neighbouring bin.)
///   Other dtypes are compared in f32 (integers above 2^24 rounded first), so a value within
///   f32 rounding of a bin edge can land in the neighbouring bin. At most 2^32 - 1 elements
///   per bin.
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
    /// The mean (see the type's docs: for integers, of the exact sum, rounded once).
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

/// Undoes the kernel's order-preserving key: the element's raw bits.
pub(crate) fn from_key(d: DType, key: u64) -> u64 {
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
pub(crate) fn scalar(d: DType, bits: u64) -> Scalar {
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
