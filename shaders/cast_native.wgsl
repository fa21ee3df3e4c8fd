// Conversions by the adapter's own instructions, one u32 of raw bits in and out. WGSL leaves
// their rounding, subnormals and out-of-range results partly to the implementation, so they are
// used only on adapters where the probe (cast_probe.wgsl, src/runtime/native.rs) showed them to give
// the bits of the integer-only reference; the parts WGSL leaves open and the probe cannot
// settle (NaN, values outside the target's range) are fixed up here with selects. They depend on
// no override, so the probe runs exactly the code the cast kernels run.

fn hw_i32_to_f32(x: u32) -> u32 {
    return bitcast<u32>(f32(bitcast<i32>(x)));
}

// Not f32(x): SwiftShader's u32 conversion rounds twice (0xffffff7f gives 2^32). From 2^31 up,
// x is halved with its lost bit kept as a sticky bit, which rounds the same, and the exact
// doubling restores it.
fn hw_u32_to_f32(x: u32) -> u32 {
    let big = bitcast<f32>(hw_i32_to_f32((x >> 1u) | (x & 1u))) * 2.0;
    return select(hw_i32_to_f32(x), bitcast<u32>(big), x >= 0x80000000u);
}

fn hw_is_nan(x: u32) -> bool {
    return (x & 0x7fffffffu) > 0x7f800000u;
}

// f32 -> i32 like Rust `as`. WGSL clamps out-of-range values only to the nearest f32 inside the
// range (2^31 - 128), so values from 2^31 up get i32::MAX here, and NaN gets 0.
fn hw_f32_to_i32(x: u32) -> u32 {
    let v = bitcast<u32>(i32(clamp(bitcast<f32>(x), -2147483648.0, 2147483520.0)));
    let top = x >= 0x4f000000u && x <= 0x7f800000u;
    return select(select(v, 0x7fffffffu, top), 0u, hw_is_nan(x));
}

// f32 -> u32 like Rust `as`: from 2^32 up u32::MAX, below zero 0, NaN 0.
fn hw_f32_to_u32(x: u32) -> u32 {
    let v = u32(clamp(bitcast<f32>(x), 0.0, 4294967040.0));
    let top = x >= 0x4f800000u && x <= 0x7f800000u;
    return select(select(v, 0xffffffffu, top), 0u, hw_is_nan(x));
}

// f32 -> an integer type whose range [lo, hi] is exact in f32 (at most 24 bits): clamp, then
// truncate. Sign-extended to 32 bits.
fn hw_f32_to_small_int(x: u32, lo: f32, hi: f32) -> u32 {
    let v = bitcast<u32>(i32(clamp(bitcast<f32>(x), lo, hi)));
    return select(v, 0u, hw_is_nan(x));
}

// f32 -> f16 bits. Normal results round in integer arithmetic (ties to even: adding just under
// half an f16 unit plus the kept low bit carries exactly when it should; a carry out of the
// largest finite value gives infinity). Subnormal results come from the adder: in |x| + 0.5 the
// last place is 2^-24, the f16 subnormal unit, so the sum is 0.5 plus |x| rounded to that unit,
// ties to even, and its low bits are the f16 bits. A flushed f32 subnormal input gives 0, as
// rounding it would.
fn hw_f32_to_f16(x: u32) -> u32 {
    let a = x & 0x7fffffffu;
    let normal = min((a + 0xc8000fffu + ((a >> 13u) & 1u)) >> 13u, 0x7c00u);
    let sub = bitcast<u32>(bitcast<f32>(a) + 0.5) - 0x3f000000u;
    var h = select(sub, normal, a >= 0x38800000u);
    // NaN: NumPy keeps the payload's top bits, unquieted, and never all zero.
    h = select(h, 0x7c00u | max((a >> 13u) & 0x3ffu, 1u), a > 0x7f800000u);
    return ((x >> 16u) & 0x8000u) | h;
}

// f16 bits (the low half of x) to f32 bits by unpack2x16float, which is exact for finite
// values; inf and NaN are rebuilt from the bits, since an instruction may quiet a NaN while
// NumPy keeps its payload as it is. The probe checks every one of the 65536 inputs.
fn hw_f16_to_f32(x: u32) -> u32 {
    let h = x & 0xffffu;
    let special = ((h & 0x8000u) << 16u) | 0x7f800000u | ((h & 0x3ffu) << 13u);
    return select(bitcast<u32>(unpack2x16float(h).x), special, (h & 0x7c00u) == 0x7c00u);
}
