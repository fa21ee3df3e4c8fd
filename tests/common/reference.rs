//! CPU reference of the cast semantics, written independently of the WGSL kernels: it works on
//! exact values with u128/i128 arithmetic and rounds in one step. Its own correctness is checked
//! against Rust `as` and the `half` crate in `tests/cast.rs`.

use tensorbridge::{DType, Kind};

/// A source value, exactly.
#[derive(Debug, Clone, Copy)]
pub enum Exact {
    Zero {
        neg: bool,
    },
    Inf {
        neg: bool,
    },
    /// NaN with the fraction field of a float with `frac_bits` fraction bits.
    Nan {
        neg: bool,
        payload: u64,
        frac_bits: u32,
    },
    /// (-1)^neg * mant * 2^exp2, mant > 0.
    Finite {
        neg: bool,
        mant: u128,
        exp2: i32,
    },
}

fn float_format(d: DType) -> (u32, u32) {
    match d {
        DType::F16 => (5, 10),
        DType::BF16 => (8, 7),
        DType::F32 => (8, 23),
        DType::F64 => (11, 52),
        _ => unreachable!(),
    }
}

/// Decodes raw bits (zero-extended) of a value of dtype `d`.
pub fn decode(d: DType, bits: u64) -> Exact {
    match d.kind() {
        Kind::Bool | Kind::UInt => int_exact(bits as i128),
        Kind::SInt => {
            let w = d.bits();
            int_exact(((bits << (64 - w)) as i64 >> (64 - w)) as i128)
        }
        Kind::Float => {
            let (e, f) = float_format(d);
            let neg = (bits >> (e + f)) & 1 == 1;
            let field = (bits >> f) & ((1 << e) - 1);
            let frac = bits & ((1u64 << f) - 1);
            let bias = (1i32 << (e - 1)) - 1;
            if field == (1 << e) - 1 {
                if frac == 0 {
                    Exact::Inf { neg }
                } else {
                    Exact::Nan {
                        neg,
                        payload: frac,
                        frac_bits: f,
                    }
                }
            } else if field == 0 {
                if frac == 0 {
                    Exact::Zero { neg }
                } else {
                    Exact::Finite {
                        neg,
                        mant: frac as u128,
                        exp2: 1 - bias - f as i32,
                    }
                }
            } else {
                Exact::Finite {
                    neg,
                    mant: (frac | (1 << f)) as u128,
                    exp2: field as i32 - bias - f as i32,
                }
            }
        }
    }
}

fn int_exact(v: i128) -> Exact {
    if v == 0 {
        Exact::Zero { neg: false }
    } else {
        Exact::Finite {
            neg: v < 0,
            mant: v.unsigned_abs(),
            exp2: 0,
        }
    }
}

/// Rounds mant * 2^exp2 to the float format (e, f), nearest with ties to even, in one step.
fn round_to(neg: bool, mant: u128, exp2: i32, e: u32, f: u32) -> u64 {
    let sign = (neg as u64) << (e + f);
    let bias = (1i32 << (e - 1)) - 1;
    let emin = 1 - bias;
    let p = 127 - mant.leading_zeros() as i32 + exp2; // floor(log2(value))
    let mut q = (p - f as i32).max(emin - f as i32); // exponent of one unit in the last place
    let mut k: u128 = if exp2 >= q {
        mant << (exp2 - q)
    } else {
        let r = (q - exp2) as u32;
        if r >= 128 {
            0
        } else {
            let kept = mant >> r;
            let rem = mant - (kept << r);
            let half = 1u128 << (r - 1);
            if rem > half || (rem == half && kept & 1 == 1) {
                kept + 1
            } else {
                kept
            }
        }
    };
    if k == 1u128 << (f + 1) {
        k >>= 1;
        q += 1;
    }
    if k < (1u128 << f) {
        return sign | k as u64; // subnormal or zero
    }
    let exp = q + f as i32;
    if exp > bias {
        return sign | (((1u64 << e) - 1) << f);
    }
    sign | (((exp + bias) as u64) << f) | (k as u64 & ((1u64 << f) - 1))
}

/// Exact value as f64 (exact for every float source; used for float -> int via Rust `as`).
fn to_f64(x: Exact) -> f64 {
    match x {
        Exact::Zero { neg } => {
            if neg {
                -0.0
            } else {
                0.0
            }
        }
        Exact::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Exact::Nan { .. } => f64::NAN,
        Exact::Finite { neg, mant, exp2 } => {
            let v = mant as f64 * 2f64.powi(exp2); // mant <= 2^53 for float sources: exact
            if neg { -v } else { v }
        }
    }
}

/// The reference cast: raw bits of `from` -> raw bits of `to` (zero-extended).
pub fn cast_bits(from: DType, to: DType, bits: u64) -> u64 {
    if from == to {
        return bits; // astype to the same dtype copies the bits, NaN payloads included
    }
    let x = decode(from, bits);
    let w = to.bits();
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    match to.kind() {
        Kind::Bool => !matches!(x, Exact::Zero { .. }) as u64,
        Kind::UInt | Kind::SInt if from.kind() != Kind::Float => {
            let v: i128 = match x {
                Exact::Zero { .. } => 0,
                Exact::Finite { neg, mant, .. } => {
                    if neg {
                        -(mant as i128)
                    } else {
                        mant as i128
                    }
                }
                _ => unreachable!(),
            };
            (v as u128 as u64) & mask
        }
        Kind::UInt | Kind::SInt => {
            let f = to_f64(x);
            let v: u64 = match to {
                DType::U8 => f as u8 as u64,
                DType::U16 => f as u16 as u64,
                DType::U32 => f as u32 as u64,
                DType::U64 => f as u64,
                DType::I8 => f as i8 as u64,
                DType::I16 => f as i16 as u64,
                DType::I32 => f as i32 as u64,
                DType::I64 => f as i64 as u64,
                _ => unreachable!(),
            };
            v & mask
        }
        Kind::Float => {
            let (e, f) = float_format(to);
            let inf = ((1u64 << e) - 1) << f;
            match x {
                Exact::Zero { neg } => (neg as u64) << (e + f),
                Exact::Inf { neg } => ((neg as u64) << (e + f)) | inf,
                Exact::Nan {
                    neg,
                    payload,
                    frac_bits,
                } => {
                    let p = if f >= frac_bits {
                        payload << (f - frac_bits)
                    } else {
                        payload >> (frac_bits - f)
                    };
                    // NumPy (float16) and ml_dtypes (bfloat16), as observed with NumPy 2.4 and
                    // ml_dtypes 0.7: canonical quiet NaN into bfloat16 and from bfloat16 to
                    // float16; float16 widened, bfloat16 widened to float32 and anything
                    // narrowed to float16 keep the payload unquieted (never all zero); the
                    // rest (f32 <-> f64, bf16 -> f64) keep it and set the quiet bit, as x86.
                    use DType::{BF16, F16, F32};
                    let sign = (neg as u64) << (e + f);
                    let quiet = 1 << (f - 1);
                    let nan = match (from, to) {
                        (a, BF16) if a != BF16 => quiet,
                        (BF16, F16) => quiet,
                        (F16, _) | (BF16, F32) | (_, F16) => p.max(1),
                        _ => p | quiet,
                    };
                    sign | inf | nan
                }
                Exact::Finite { neg, mant, exp2 } => round_to(neg, mant, exp2, e, f),
            }
        }
    }
}

/// Interesting values for casts: ties at every rounding boundary, range edges, 2^24±1, 2^53±1,
/// 2^63, values just outside each integer range. Given as f64s and as exact integers.
pub fn interesting_f64() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.0,
        -1.0,
        1.5,
        2.5,
        -2.5,
        0.49999999999999994,
        127.0,
        127.5,
        128.0,
        -128.0,
        -128.5,
        -129.0,
        255.0,
        255.5,
        256.0,
        32767.5,
        32768.0,
        -32768.5,
        -32769.0,
        65535.5,
        65536.0,
        65504.0,
        65519.0,
        65519.99,
        65520.0,
        -65520.0,
        2147483647.0,
        2147483648.0,
        -2147483648.0,
        -2147483649.0,
        4294967295.0,
        4294967296.0,
        9007199254740991.0,
        9007199254740992.0,
        9007199254740993.0,
        9223372036854775807.0,
        -9223372036854775808.0,
        18446744073709551615.0,
        18446744073709551616.0,
        1e300,
        -1e300,
        3.4028234663852886e38,
        3.4028235677973366e38,
        3.402823567797337e38,
        1e-300,
        5e-324,
        2.2250738585072014e-308,
        2.225073858507201e-308,
        1.1754943508222875e-38,
        1.401298464324817e-45,
        7.006492321624085e-46,
        7.006492321624087e-46,
        5.960464477539063e-8,
        2.9802322387695312e-8,
        2.980232238769532e-8,
        6.103515625e-5,
        6.097555160522461e-5,
        16777215.0,
        16777216.0,
        16777217.0,
        16777218.0,
        16777219.0,
    ];
    // Ties and near-ties at the f32 / f16 / bf16 rounding boundaries around 1.0 and elsewhere.
    for frac_bits in [23, 10, 7] {
        for k in [1.0f64, 3.0, 5.0] {
            for scale in [1.0, 1024.0, 2f64.powi(-20), 2f64.powi(100)] {
                let tie = (1.0 + k * 2f64.powi(-(frac_bits + 1))) * scale;
                v.extend([
                    tie,
                    f64::from_bits(tie.to_bits() + 1),
                    f64::from_bits(tie.to_bits() - 1),
                    -tie,
                ]);
            }
        }
    }
    v
}

/// Integer edge values (wrapped into each width by the caller).
pub fn interesting_ints() -> Vec<i128> {
    let mut v: Vec<i128> = vec![
        0, 1, -1, 2, 3, 127, 128, 129, -128, -129, 255, 256, 32767, 32768, -32768, -32769, 65535,
        65536, 2047, 2049, 4097,
    ];
    for p in [8, 11, 16, 24, 31, 32, 53, 54, 63, 64] {
        let x = 1i128 << p;
        v.extend([x - 1, x, x + 1, -x, -x - 1, -x + 1, x + 3, x - 3]);
    }
    // Ties when rounding to f16/bf16/f32.
    v.extend([
        2049, 2051, 4098, 4099, 257, 259, 16777217, 16777219, 33554434, 33554438,
    ]);
    v
}
