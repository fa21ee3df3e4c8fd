// Short conversions for the common pairs, with the same results as `convert` (cast.wgsl) bit for
// bit, in integer arithmetic only. They are written without data-dependent branches: SIMD
// adapters (llvmpipe, SwiftShader) run every side of a branch that any lane takes, so a few
// selects cost less than a branch. Rust (src/ops/cast/vector.rs) picks one per pair; `convert` does
// the rest. Each takes and returns raw bits like `convert`: low word in x, high word in y.

// DST_BITS clamped to the range of the functions that use it (every specialisation compiles
// them all, and WGSL rejects constant shifts by 32 or more even in dead code).
override DST_BITS32: u32 = clamp(DST_BITS, 8u, 32u);

// Integer -> integer wraps modulo 2^DST_BITS: sign-extend, the caller keeps the low bits.
fn wrap_int(raw: vec2<u32>) -> vec2<u32> {
    if (SRC_KIND == KIND_SINT) {
        return sext64(raw, SRC_BITS);
    }
    return raw;
}

// Anything -> bool: x != 0, where -0.0 is zero and NaN is not.
fn to_bool(raw: vec2<u32>) -> vec2<u32> {
    var v = raw;
    if (SRC_KIND == KIND_FLOAT) {
        v = raw & mask64(SRC_BITS - 1u);
    }
    return vec2<u32>(select(0u, 1u, !is_zero64(v)), 0u);
}

// m >> s (s in 1..=31) rounded to nearest, ties to even: adding just under half, plus the low
// bit of the result, carries into the result exactly when it should round up. Needs
// m + 2^(s-1) < 2^32.
fn round_shr(m: u32, s: u32) -> u32 {
    return (m + ((1u << (s - 1u)) - 1u) + ((m >> s) & 1u)) >> s;
}

// Integer of at most 32 bits -> f32: normalise with countLeadingZeros, round 8 bits away.
fn int_to_f32(raw: vec2<u32>) -> vec2<u32> {
    var a = raw.x;
    var sign = 0u;
    if (SRC_KIND == KIND_SINT) {
        let v = i32(raw.x << SEXT32) >> SEXT32;
        sign = u32(v) & 0x80000000u;
        a = select(u32(v), 0u - u32(v), v < 0);
    }
    let lz = countLeadingZeros(a);
    let m = a << (lz & 31u);
    // Round 8 bits away from m; m >> 1 with the lost bit kept as sticky fits round_shr.
    // The significand with its implicit bit at 23 adds one to the exponent field, and a
    // rounding carry out of the significand moves into the exponent, as it should.
    let bits = ((157u - lz) << 23u) + round_shr((m >> 1u) | (m & 1u), 7u);
    return vec2<u32>(select(sign | bits, 0u, a == 0u), 0u);
}

// f32 -> integer of at most 32 bits, like Rust `as`: truncate, saturate, NaN -> 0.
fn f32_to_int(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let a = x & 0x7fffffffu;
    let neg = x != a;
    let e = i32(a >> 23u) - 127;
    let m = (a & 0x7fffffu) | 0x800000u;
    // |x| truncated, for 0 <= e < 32.
    let mag = select(m >> u32(clamp(23 - e, 0, 31)), m << u32(clamp(e - 23, 0, 31)), e > 23);
    let signed = DST_KIND == KIND_SINT;
    let limit = i32(select(DST_BITS32, DST_BITS32 - 1u, signed));
    let top = select(0xffffffffu >> (32u - DST_BITS32), (1u << (DST_BITS32 - 1u)) - 1u, signed);
    var v = select(mag, 0u - mag, neg);
    v = select(v, select(top, top + 1u, neg), e >= limit);
    v = select(v, 0u, e < 0 || a > 0x7f800000u || (neg && !signed));
    return vec2<u32>(v, 0u);
}

// f32 -> f16, ties to even; subnormals kept, overflow to infinity, NaN keeps its sign and the
// top of its payload, unquieted and never all zero (NumPy's rule).
fn f32_to_f16(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let a = x & 0x7fffffffu;
    let normal = a >= 0x38800000u;
    // Normal results: rebias by 127 - 15 = 112 exponents and round 13 bits away. Subnormal
    // results: the significand with its implicit bit, rounded to units of 2^-24.
    let e = min(a >> 23u, 126u);
    let v = select((a & 0x7fffffu) | 0x800000u, a - 0x38000000u, normal);
    var h = round_shr(v, select(min(126u - e, 31u), 13u, normal));
    h = select(h, 0x7c00u, a >= 0x47800000u);
    h = select(h, 0x7c00u | max((a >> 13u) & 0x3ffu, 1u), a > 0x7f800000u);
    return vec2<u32>(((x >> 16u) & 0x8000u) | h, 0u);
}

// f32 -> bf16, ties to even (same exponent range, so subnormals round like normals). NaN gives
// the canonical quiet NaN with its sign, as ml_dtypes does.
fn f32_to_bf16(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let nan = (x & 0x7fffffffu) > 0x7f800000u;
    return vec2<u32>(select(round_shr(x, 16u), ((x >> 16u) & 0x8000u) | 0x7fc0u, nan), 0u);
}

// f64 -> f32, rounding once from the exact value, ties to even.
fn f64_to_f32(raw: vec2<u32>) -> vec2<u32> {
    let hi = raw.y & 0x7fffffffu;
    let lo = raw.x;
    let e = hi >> 20u;
    // Normal results: rebias, keep the top 23 fraction bits, round on the 29 below.
    let top = ((hi & 0xfffffu) << 3u) | (lo >> 29u);
    let normal = ((e - 896u) << 23u) + top + (((lo & 0x1fffffffu) + 0xfffffffu + (top & 1u)) >> 29u);
    // Subnormal results: the 53-bit significand shifted right by 926 - e, done as its top 31
    // bits (the 22 below folded into a sticky bit 0) shifted by 904 - e. From a shift of 54
    // on, the value is under half the smallest subnormal.
    let m = ((hi & 0xfffffu) << 10u) | 0x40000000u | (lo >> 22u) | select(0u, 1u, (lo & 0x3fffffu) != 0u);
    let s = 904u - min(e, 896u);
    var f = select(round_shr(m, min(s, 31u)), 0u, s >= 32u);
    f = select(f, normal, e >= 897u);
    f = select(f, 0x7f800000u, e >= 1151u);
    let nan = hi > 0x7ff00000u || (hi == 0x7ff00000u && lo != 0u);
    f = select(f, 0x7fc00000u | top, nan);
    return vec2<u32>((raw.y & 0x80000000u) | f, 0u);
}

// The exact widenings to f32 and from f32 to f64. Chained with the functions above they give
// exact results too, as every value of the source is an f32 (for integers: of at most 16 bits).
// A NaN keeps its sign and payload; f32 -> f64 sets the quiet bit (as x86), the 16-bit
// widenings do not (as NumPy and ml_dtypes).

fn f16_to_f32(raw: vec2<u32>) -> vec2<u32> {
    let h = raw.x;
    let e = (h >> 10u) & 0x1fu;
    let f = h & 0x3ffu;
    let normal = ((e + 112u) << 23u) | (f << 13u);
    // Subnormal: f * 2^-24, with its top bit at p: exponent p - 24, fraction below the top bit.
    let p = 31u - countLeadingZeros(f);
    let sub = ((p + 103u) << 23u) | ((f << ((23u - p) & 31u)) & 0x7fffffu);
    var x = select(normal, sub, e == 0u);
    x = select(x, 0u, f == 0u && e == 0u);
    x = select(x, 0x7f800000u | (f << 13u), e == 31u);
    return vec2<u32>(((h & 0x8000u) << 16u) | x, 0u);
}

fn bf16_to_f32(raw: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(raw.x << 16u, 0u);
}

fn f32_to_f64(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let e = (x >> 23u) & 0xffu;
    let f = x & 0x7fffffu;
    // Subnormal: f * 2^-149, with its top bit at p: exponent p - 149, fraction below the top bit.
    let p = 31u - countLeadingZeros(f);
    let g = select(f, (f << ((23u - p) & 31u)) & 0x7fffffu, e == 0u);
    var hi = select(e + 896u, p + 874u, e == 0u) << 20u;
    hi = select(hi, 0x7ff00000u | select(0u, 0x80000u, f != 0u), e == 255u);
    hi = select(hi | (g >> 3u), 0u, e == 0u && f == 0u);
    let lo = select(g << 29u, 0u, e == 0u && f == 0u);
    return vec2<u32>(lo, (x & 0x80000000u) | hi);
}

// The same conversions by the adapter's instructions (cast_native.wgsl), for adapters where the
// probe found them exact.

fn int_to_f32_hw(raw: vec2<u32>) -> vec2<u32> {
    if (SRC_KIND == KIND_SINT) {
        return vec2<u32>(hw_i32_to_f32(u32(i32(raw.x << SEXT32) >> SEXT32)), 0u);
    }
    if (SRC_BITS == 32u) {
        return vec2<u32>(hw_u32_to_f32(raw.x), 0u);
    }
    // Narrower unsigned values (and bool) are non-negative i32s.
    return vec2<u32>(hw_i32_to_f32(raw.x), 0u);
}

fn f32_to_int_hw(raw: vec2<u32>) -> vec2<u32> {
    let signed = DST_KIND == KIND_SINT;
    if (DST_BITS32 == 32u) {
        return vec2<u32>(select(hw_f32_to_u32(raw.x), hw_f32_to_i32(raw.x), signed), 0u);
    }
    let top = select(0xffffffffu >> (32u - DST_BITS32), (1u << (DST_BITS32 - 1u)) - 1u, signed);
    let lo = select(0.0, -f32(top) - 1.0, signed);
    return vec2<u32>(hw_f32_to_small_int(raw.x, lo, f32(top)), 0u);
}

fn f32_to_f16_hw(raw: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(hw_f32_to_f16(raw.x), 0u);
}

fn f16_to_f32_hw(raw: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(hw_f16_to_f32(raw.x), 0u);
}
