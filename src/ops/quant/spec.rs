//! What quantization is asked to do and what it returns: [`QType`], [`QScheme`],
//! [`QuantSpec`] (with the formulas), [`QTensor`], and [`quant_params`].

use crate::{DType, Tensor};

/// Signed or unsigned 8-bit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    /// int8, codes -128..=127.
    I8,
    /// uint8, codes 0..=255.
    U8,
}

/// Affine (scale and zero point) or symmetric (zero point fixed at the code for 0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QScheme {
    /// `x ≈ (q - zero_point) * scale`, the range [min, max] (widened to include 0).
    Affine,
    /// `x ≈ (q - zero_point) * scale` with zero_point 0 (int8) or 128 (uint8).
    Symmetric,
}

/// How to quantize: code type, scheme, per-tensor or per-axis, and optional given parameters.
///
/// The formulas, all in f32 with correctly rounded operations, so the CPU reference in the
/// tests matches bit for bit:
///
/// * **Range.** min and max per tensor or per channel, NaN skipped, computed on the device
///   (a reduction with atomics). Affine ranges are widened to include 0.
/// * **Parameters** (from the device's min and max, a few f32 operations per channel on the
///   host, since WGSL division need not be correctly rounded):
///   - affine: `scale = (max - min) / (qmax - qmin)`, `zero_point = clamp(qmin -
///     round_half_even(min / scale), qmin, qmax)`
///   - symmetric: `scale = max(|min|, |max|) / 127`, `zero_point` 0 (int8) or 128 (uint8); codes
///     stay within zero_point ± 127.
///   - a scale of 0 (a constant-zero channel) becomes 1.
/// * **Quantize:** `q = clamp(round_half_even(x * inv_scale) + zero_point, qmin, qmax)` with
///   `inv_scale = 1 / scale` rounded to f32 once; NaN → zero_point, ±inf saturate.
/// * **Dequantize:** `x' = f32(q - zero_point) * scale`.
///
/// Error bound: for x inside the channel's range, `|x - x'| <= scale / 2` plus a few f32
/// rounding steps (at most about `2^-22 * |x|`). Outside the range, values saturate to the
/// range end.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantSpec {
    /// int8 or uint8.
    pub qtype: QType,
    /// Affine or symmetric.
    pub scheme: QScheme,
    /// `None`: one scale for the tensor. `Some(k)`: one per index along axis k.
    pub axis: Option<usize>,
    /// Given (scale, zero_point) per channel instead of computing them from min and max.
    pub params: Option<(Vec<f32>, Vec<i32>)>,
}

impl QuantSpec {
    /// Per-tensor int8 affine: the common default.
    pub fn int8() -> Self {
        QuantSpec {
            qtype: QType::I8,
            scheme: QScheme::Affine,
            axis: None,
            params: None,
        }
    }
}

/// A quantized tensor: 8-bit codes on the device plus per-channel scale and zero point.
#[derive(Debug, Clone)]
pub struct QTensor {
    /// The codes (dtype i8 or u8), same shape as the source.
    pub codes: Tensor,
    /// One scale per channel (one for per-tensor).
    pub scale: Vec<f32>,
    /// One zero point per channel.
    pub zero_point: Vec<i32>,
    /// The quantization axis, or `None` for per-tensor.
    pub axis: Option<usize>,
}

impl QType {
    /// (qmin, qmax).
    pub fn range(self) -> (i32, i32) {
        match self {
            QType::I8 => (-128, 127),
            QType::U8 => (0, 255),
        }
    }

    pub(crate) fn dtype(self) -> DType {
        match self {
            QType::I8 => DType::I8,
            QType::U8 => DType::U8,
        }
    }
}

/// Scale and zero point from a channel's min and max, exactly as documented above.
pub fn quant_params(qtype: QType, scheme: QScheme, min: f32, max: f32) -> (f32, i32) {
    let (qmin, qmax) = qtype.range();
    // A scale of 0 (constant-zero channel) or beyond f32 becomes 1.
    let usable = |s: f32| if s > 0.0 && s.is_finite() { s } else { 1.0 };
    let (scale, zp) = match scheme {
        QScheme::Affine => {
            let (lo, hi) = (min.min(0.0), max.max(0.0));
            let scale = usable((hi - lo) / (qmax - qmin) as f32);
            let zp = (qmin as f32 - (lo / scale).round_ties_even()).clamp(qmin as f32, qmax as f32);
            (scale, zp as i32)
        }
        QScheme::Symmetric => {
            let amax = min.abs().max(max.abs());
            let scale = usable(amax / 127.0);
            (scale, if qtype == QType::I8 { 0 } else { 128 })
        }
    };
    (scale, zp)
}
