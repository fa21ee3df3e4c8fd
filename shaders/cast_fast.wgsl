// Short conversions for the common pairs, with the same results as `convert` (cast.wgsl) bit for
// bit, in integer arithmetic only. They are written without data-dependent branches: SIMD
// adapters (llvmpipe, SwiftShader) run every side of a branch that any lane takes, so a few
// selects cost less than a branch. Rust (src/cast/vector.rs) picks one per pair; `convert` does
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

// Rounds the top bits of `m` at bit `s` (1..=31), ties to even: m >> s, plus one if the bits
// below are over half, or exactly half and the result is odd.
fn round_shr(m: u32, s: u32) -> u32 {
    let q = m >> s;
    let rem = m & ((1u << s) - 1u);
    let half = 1u << (s - 1u);
    return q + select(0u, 1u, rem > half || (rem == half && (q & 1u) == 1u));
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
    // The significand with its implicit bit at 23 adds one to the exponent field, and a
    // rounding carry out of the significand moves into the exponent, as it should.
    let bits = ((157u - lz) << 23u) + round_shr(m, 8u);
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
// top of its payload and gets the quiet bit.
fn f32_to_f16(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let a = x & 0x7fffffffu;
    let sign = (x >> 16u) & 0x8000u;
    // Normal results: rebias by 127 - 15 = 112 exponents and round 13 bits away.
    let normal = round_shr(a - 0x38000000u, 13u);
    // Subnormal results: the significand with its implicit bit, shifted to units of 2^-24.
    let e = a >> 23u;
    let sub = round_shr((a & 0x7fffffu) | 0x800000u, min(126u - min(e, 126u), 31u));
    var h = select(sub, normal, a >= 0x38800000u);
    h = select(h, 0x7c00u, a >= 0x47800000u);
    h = select(h, 0x7e00u | (a >> 13u), a > 0x7f800000u);
    return vec2<u32>(sign | (h & 0x7fffu), 0u);
}

// f32 -> bf16, ties to even (same exponent range, so subnormals round like normals).
fn f32_to_bf16(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x;
    let nan = (x & 0x7fffffffu) > 0x7f800000u;
    return vec2<u32>(select(round_shr(x, 16u), (x >> 16u) | 0x40u, nan), 0u);
}

// f64 -> f32, rounding once from the exact value, ties to even.
fn f64_to_f32(raw: vec2<u32>) -> vec2<u32> {
    let hi = raw.y & 0x7fffffffu;
    let lo = raw.x;
    let sign = raw.y & 0x80000000u;
    let e = hi >> 20u;
    let frac_hi = hi & 0xfffffu;
    // Normal results: the top 23 fraction bits, rounded on the 29 below (lo carries them).
    let top = (frac_hi << 3u) | (lo >> 29u);
    let rest = lo & 0x1fffffffu;
    let up = rest > 0x10000000u || (rest == 0x10000000u && (top & 1u) == 1u);
    let normal = ((e - 896u) << 23u) + top + select(0u, 1u, up);
    // Subnormal results: the 53-bit significand shifted right by s = 926 - e (30..=54).
    let m_hi = frac_hi | 0x100000u;
    let s = min(926u - min(e, 896u), 54u);
    let t = s - 32u; // the shift within m_hi when s >= 32
    let q = select((m_hi << ((32u - s) & 31u)) | (lo >> (s & 31u)), m_hi >> (t & 31u), s >= 32u);
    // The round bit is bit s - 1; sticky is everything below it.
    let r_lo = select((lo >> ((s - 1u) & 31u)) & 1u, 0u, s > 32u);
    let r = select(r_lo, (m_hi >> ((s - 33u) & 31u)) & 1u, s > 32u);
    let low_mask_lo = select((1u << ((s - 1u) & 31u)) - 1u, 0xffffffffu, s > 32u);
    let low_mask_hi = select(0u, (1u << ((s - 33u) & 31u)) - 1u, s > 32u);
    let sticky = (lo & low_mask_lo) != 0u || (m_hi & low_mask_hi) != 0u;
    let sub = q + select(0u, 1u, r == 1u && (sticky || (q & 1u) == 1u));
    var f = select(sub, normal, e >= 897u);
    f = select(f, 0x7f800000u, e >= 1151u);
    let nan = hi > 0x7ff00000u || (hi == 0x7ff00000u && lo != 0u);
    f = select(f, 0x7fc00000u | top, nan);
    return vec2<u32>(sign | f, 0u);
}

// The exact widenings to f32 and from f32 to f64. Chained with the functions above they give
// exact results too, as every value of the source is an f32 (for integers: of at most 16 bits).
// A NaN keeps its sign and payload and gets the quiet bit.

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
    x = select(x, 0x7f800000u | (f << 13u) | select(0u, 0x400000u, f != 0u), e == 31u);
    return vec2<u32>(((h & 0x8000u) << 16u) | x, 0u);
}

fn bf16_to_f32(raw: vec2<u32>) -> vec2<u32> {
    let x = raw.x << 16u;
    return vec2<u32>(select(x, x | 0x400000u, (x & 0x7fffffffu) > 0x7f800000u), 0u);
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
