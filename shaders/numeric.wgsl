// Exact conversions between the 13 dtypes using integer arithmetic only, so results are
// bit-exact on every adapter (no SHADER_F16 / SHADER_INT64 / SHADER_F64, no denormal flushing,
// no backend-specific NaN handling).
//
// Every source value is first unpacked into a `Num`, which holds it exactly:
//   value = (-1)^neg * m * 2^(e - 63), with m normalised so bit 63 is set.
// A 64-bit mantissa holds every int64/uint64 and every float up to f64 exactly, so any target is
// reached with a single rounding (f64 -> f16 never goes through f32).

const CLS_ZERO: u32 = 0u;
const CLS_FINITE: u32 = 1u;
const CLS_INF: u32 = 2u;
const CLS_NAN: u32 = 3u;

struct Num {
    cls: u32,
    neg: bool,
    e: i32,
    // Finite: normalised mantissa. NaN: the payload fraction left-aligned below bit 63.
    m: vec2<u32>,
}

// Unpacks an IEEE-style float with `E` exponent bits and `F` fraction bits.
fn unpack_float(raw: vec2<u32>, E: u32, F: u32) -> Num {
    let neg = test64(raw, E + F);
    let field = shr64(raw, F).x & ((1u << E) - 1u);
    let frac = raw & mask64(F);
    let bias = i32((1u << (E - 1u)) - 1u);
    if (field == (1u << E) - 1u) {
        let cls = select(CLS_NAN, CLS_INF, is_zero64(frac));
        return Num(cls, neg, 0, shl64(frac, 63u - F));
    }
    if (field == 0u) {
        if (is_zero64(frac)) {
            return Num(CLS_ZERO, neg, 0, vec2<u32>(0u));
        }
        // Subnormal: frac * 2^(1 - bias - F); its top bit is at 63 - lz.
        let lz = clz64(frac);
        return Num(CLS_FINITE, neg, i32(63u - lz) + 1 - bias - i32(F), shl64(frac, lz));
    }
    return Num(CLS_FINITE, neg, i32(field) - bias, shl64(frac | bit64(F), 63u - F));
}

// Unpacks an integer whose raw bits were zero-extended from `bits` bits.
fn unpack_int(raw: vec2<u32>, bits: u32, signed: bool) -> Num {
    var v = raw;
    var neg = false;
    if (signed) {
        v = sext64(raw, bits);
        neg = (v.y >> 31u) == 1u;
        if (neg) {
            v = neg64(v);
        }
    }
    if (is_zero64(v)) {
        return Num(CLS_ZERO, false, 0, vec2<u32>(0u));
    }
    let lz = clz64(v);
    return Num(CLS_FINITE, neg, 63 - i32(lz), shl64(v, lz));
}

// Rounds to the nearest float with `E` exponent and `F` fraction bits, ties to even.
// Subnormal results are kept; overflow gives infinity; NaN stays NaN with its sign, the quiet bit
// set and the top bits of its payload (what x86 and the `half` crate do).
fn pack_float(n: Num, E: u32, F: u32) -> vec2<u32> {
    let bias = i32((1u << (E - 1u)) - 1u);
    let inf = shl64(vec2<u32>((1u << E) - 1u, 0u), F);
    let sign = select(vec2<u32>(0u), bit64(E + F), n.neg);
    if (n.cls == CLS_ZERO) {
        return sign;
    }
    if (n.cls == CLS_INF) {
        return sign | inf;
    }
    if (n.cls == CLS_NAN) {
        return sign | inf | shr64(n.m, 63u - F) | bit64(F - 1u);
    }
    let emin = 1 - bias;
    var e = n.e;
    // Right shift that leaves the significand (implicit bit included for normals).
    var s = 63u - F;
    if (e < emin) {
        let d = emin - e;
        if (d > i32(F) + 1) {
            return sign; // below half the smallest subnormal: rounds to zero
        }
        s = s + u32(d);
    }
    var q = shr64(n.m, s);
    let round = test64(n.m, s - 1u);
    let sticky = any_low64(n.m, s - 1u);
    if (round && (sticky || (q.x & 1u) == 1u)) {
        q = inc64(q);
    }
    if (e < emin) {
        // Subnormal (a carry into bit F yields the smallest normal, which is the right encoding).
        return sign | q;
    }
    if (test64(q, F + 1u)) {
        q = shr64(q, 1u);
        e = e + 1;
    }
    if (e > bias) {
        return sign | inf;
    }
    return sign | shl64(vec2<u32>(u32(e + bias), 0u), F) | (q & mask64(F));
}

// Float -> integer like Rust `as`: truncates toward zero, saturates at the target's range,
// NaN -> 0.
fn float_to_int(n: Num, bits: u32, signed: bool) -> vec2<u32> {
    if (n.cls == CLS_NAN || n.cls == CLS_ZERO) {
        return vec2<u32>(0u);
    }
    if (n.neg && !signed) {
        return vec2<u32>(0u);
    }
    let limit = select(bits, bits - 1u, signed);
    let maxv = mask64(limit);
    let minv = neg64(bit64(bits - 1u));
    if (n.cls == CLS_INF || n.e >= i32(limit)) {
        return select(maxv, minv, n.neg && signed);
    }
    if (n.e < 0) {
        return vec2<u32>(0u);
    }
    let a = shr64(n.m, 63u - u32(n.e));
    return select(a, neg64(a), n.neg);
}
