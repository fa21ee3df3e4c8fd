// The 32-bit fast path of the cast kernel, for every pair where the source or the target is at
// most 32 bits wide (all but the 64-bit <-> 64-bit float pairs). It is exact like numeric.wgsl,
// but works in single u32 words: no 64-bit emulation, few data-dependent branches.
//
//   value = (-1)^neg * m * 2^(e - 31), m normalised so bit 31 is set,
//
// plus a sticky flag for nonzero bits below m (only 64-bit sources have them). 32 bits plus
// sticky are enough to round once, correctly, to any target of at most 24 significand bits, and
// to truncate to any integer of at most 32 bits; a source of at most 32 bits fits m exactly, so
// widening into 64-bit targets is exact too.

// The dtype constants clamped to the ranges of the branches that use them: every specialisation
// compiles all branches, and WGSL rejects constant shifts by 32 or more even in dead code.
override SE32: u32 = clamp(SRC_EXP, 1u, 8u);
override SF32: u32 = clamp(SRC_FRAC, 1u, 23u);
override DE32: u32 = clamp(DST_EXP, 1u, 8u);
override DF32: u32 = clamp(DST_FRAC, 1u, 23u);
override SEXT32: u32 = (32u - SRC_BITS) & 31u;

struct Num32 {
    cls: u32,
    neg: bool,
    e: i32,
    // Finite: normalised mantissa. NaN: the payload fraction left-aligned below bit 31.
    m: u32,
    sticky: bool,
}

// Mantissa and sticky of a nonzero 64-bit magnitude, and the position of its top bit.
fn norm64(v: vec2<u32>) -> Num32 {
    let lz = clz64(v);
    let w = shl64(v, lz);
    return Num32(CLS_FINITE, false, 63 - i32(lz), w.y, w.x != 0u);
}

// Unpacks source raw bits (SRC_* describe the dtype).
fn unpack32(raw: vec2<u32>) -> Num32 {
    if (SRC_KIND != KIND_FLOAT) {
        var neg = false;
        if (SRC_BITS == 64u) {
            var v = raw;
            if (SRC_KIND == KIND_SINT) {
                neg = (v.y >> 31u) == 1u;
                if (neg) {
                    v = neg64(v);
                }
            }
            if (is_zero64(v)) {
                return Num32(CLS_ZERO, false, 0, 0u, false);
            }
            var n = norm64(v);
            n.neg = neg;
            return n;
        }
        var a = raw.x;
        if (SRC_KIND == KIND_SINT) {
            let s = i32(raw.x << SEXT32) >> SEXT32;
            neg = s < 0;
            a = select(u32(s), 0u - u32(s), neg);
        }
        if (a == 0u) {
            return Num32(CLS_ZERO, false, 0, 0u, false);
        }
        let lz = countLeadingZeros(a);
        return Num32(CLS_FINITE, neg, 31 - i32(lz), a << lz, false);
    }
    if (SRC_BITS == 64u) {
        let bias = 1023;
        let emax = 0x7ffu;
        let neg = (raw.y >> 31u) == 1u;
        let field = (raw.y >> 20u) & emax;
        let hi = raw.y & 0xfffffu;
        if (field == emax) {
            let cls = select(CLS_NAN, CLS_INF, (hi | raw.x) == 0u);
            return Num32(cls, neg, 0, (hi << 11u) | (raw.x >> 21u), false);
        }
        if (field == 0u) {
            if ((hi | raw.x) == 0u) {
                return Num32(CLS_ZERO, neg, 0, 0u, false);
            }
            var n = norm64(vec2<u32>(raw.x, hi));
            n.neg = neg;
            n.e = n.e + 1 - bias - 52;
            return n;
        }
        let m = (hi << 11u) | (raw.x >> 21u) | 0x80000000u;
        return Num32(CLS_FINITE, neg, i32(field) - bias, m, (raw.x & 0x1fffffu) != 0u);
    }
    let bias = i32((1u << (SE32 - 1u)) - 1u);
    let emax = (1u << SE32) - 1u;
    let x = raw.x;
    let neg = ((x >> (SE32 + SF32)) & 1u) == 1u;
    let field = (x >> SF32) & emax;
    let frac = x & ((1u << SF32) - 1u);
    if (field == emax) {
        let cls = select(CLS_NAN, CLS_INF, frac == 0u);
        return Num32(cls, neg, 0, frac << (31u - SF32), false);
    }
    if (field == 0u) {
        if (frac == 0u) {
            return Num32(CLS_ZERO, neg, 0, 0u, false);
        }
        let lz = countLeadingZeros(frac);
        return Num32(CLS_FINITE, neg, 32 - i32(lz) - bias - i32(SF32), frac << lz, false);
    }
    let m = (frac | (1u << SF32)) << (31u - SF32);
    return Num32(CLS_FINITE, neg, i32(field) - bias, m, false);
}

// Rounds to a float target of at most 32 bits (DST_EXP, DST_FRAC), ties to even. Same results
// as pack_float in numeric.wgsl.
fn pack_float32(n: Num32) -> u32 {
    let F = DF32;
    let bias = i32((1u << (DE32 - 1u)) - 1u);
    let inf = ((1u << DE32) - 1u) << F;
    let sign = select(0u, 1u << (DE32 + F), n.neg);
    if (n.cls == CLS_ZERO) {
        return sign;
    }
    if (n.cls == CLS_INF) {
        return sign | inf;
    }
    if (n.cls == CLS_NAN) {
        return sign | inf | (n.m >> (31u - F)) | (1u << (F - 1u));
    }
    let emin = 1 - bias;
    var e = n.e;
    var s = 31u - F;
    if (e < emin) {
        let d = emin - e;
        if (d > i32(F) + 1) {
            return sign;
        }
        s = s + u32(d);
    }
    // s is in 8..=32; a shift by 32 would wrap, so the s == 32 case is spelled out.
    var q = 0u;
    var round = (n.m >> 31u) == 1u;
    var sticky = n.sticky || (n.m & 0x7fffffffu) != 0u;
    if (s < 32u) {
        q = n.m >> s;
        round = ((n.m >> (s - 1u)) & 1u) == 1u;
        sticky = n.sticky || (n.m & ((1u << (s - 1u)) - 1u)) != 0u;
    }
    if (round && (sticky || (q & 1u) == 1u)) {
        q = q + 1u;
    }
    if (e < emin) {
        return sign | q;
    }
    if ((q >> (F + 1u)) != 0u) {
        q = q >> 1u;
        e = e + 1;
    }
    if (e > bias) {
        return sign | inf;
    }
    return sign | (u32(e + bias) << F) | (q & ((1u << F) - 1u));
}

// Widens exactly into float64 (the source has at most 32 bits, so no rounding).
fn pack_f64_exact(n: Num32) -> vec2<u32> {
    let sign = select(0u, 0x80000000u, n.neg);
    if (n.cls == CLS_ZERO) {
        return vec2<u32>(0u, sign);
    }
    if (n.cls == CLS_INF) {
        return vec2<u32>(0u, sign | 0x7ff00000u);
    }
    let frac = shl64(vec2<u32>(n.m & 0x7fffffffu, 0u), 21u);
    if (n.cls == CLS_NAN) {
        return vec2<u32>(frac.x, sign | 0x7ff80000u | frac.y);
    }
    return vec2<u32>(frac.x, sign | (u32(n.e + 1023) << 20u) | frac.y);
}

// Float -> integer like Rust `as` (truncate, saturate, NaN -> 0), for any integer target.
fn float_to_int32(n: Num32) -> vec2<u32> {
    if (n.cls == CLS_NAN || n.cls == CLS_ZERO || (n.neg && DST_KIND == KIND_UINT)) {
        return vec2<u32>(0u);
    }
    let signed = DST_KIND == KIND_SINT;
    let limit = select(DST_BITS, DST_BITS - 1u, signed);
    if (n.cls == CLS_INF || n.e >= i32(limit)) {
        return select(mask64(limit), neg64(bit64(DST_BITS - 1u)), n.neg && signed);
    }
    if (n.e < 0) {
        return vec2<u32>(0u);
    }
    var a = vec2<u32>(n.m >> (31u - min(u32(n.e), 31u)), 0u);
    if (n.e > 31) {
        a = shl64(vec2<u32>(n.m, 0u), u32(n.e) - 31u);
    }
    return select(a, neg64(a), n.neg);
}

// The conversion through Num32 (callers handle bool and int -> int).
fn convert32(raw: vec2<u32>) -> vec2<u32> {
    let n = unpack32(raw);
    if (DST_KIND == KIND_FLOAT) {
        if (DST_BITS == 64u) {
            return pack_f64_exact(n);
        }
        return vec2<u32>(pack_float32(n), 0u);
    }
    return float_to_int32(n);
}
