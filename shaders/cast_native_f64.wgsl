// Conversions between f64 and the other types by the adapter's instructions. Compiled only on
// devices with SHADER_F64 and SHADER_INT64, and used only where the probe
// (cast_probe_f64.wgsl, src/runtime/native.rs) found them exact. WGSL leaves values beyond a
// target's range to the implementation, so those are fixed up here: f64 values beyond the
// largest f32 get infinity (from (2 - 2^-24) * 2^127, where rounding to nearest even reaches
// 2^128), integers saturate at their limits (exact in f64), and NaN gets the reference's bits.

fn hw_f64(lo: u32, hi: u32) -> f64 {
    return bitcast<f64>((u64(hi) << 32u) | u64(lo));
}

fn hw_f64_bits(d: f64) -> vec2<u32> {
    let b = bitcast<u64>(d);
    return vec2<u32>(u32(b), u32(b >> 32u));
}

fn hw_f64_is_nan(lo: u32, hi: u32) -> bool {
    let a = hi & 0x7fffffffu;
    return a > 0x7ff00000u || (a == 0x7ff00000u && lo != 0u);
}

fn hw_f64_to_f32(lo: u32, hi: u32) -> u32 {
    let f = bitcast<u32>(f32(hw_f64(lo, hi)));
    let a = hi & 0x7fffffffu;
    let sign = hi & 0x80000000u;
    let inf = a > 0x47efffffu || (a == 0x47efffffu && lo >= 0xf0000000u);
    let r = select(f, sign | 0x7f800000u, inf);
    let nan = sign | 0x7fc00000u | ((hi & 0xfffffu) << 3u) | (lo >> 29u);
    return select(r, nan, hw_f64_is_nan(lo, hi));
}

// f64 -> a signed integer type with range [lo, hi], like Rust `as`: clamping first makes the
// truncation exact. Sign-extended to 32 bits.
fn hw_f64_to_signed(lo: u32, hi: u32, min: f64, max: f64) -> u32 {
    let v = bitcast<u32>(i32(clamp(hw_f64(lo, hi), min, max)));
    return select(v, 0u, hw_f64_is_nan(lo, hi));
}

// f64 -> an unsigned integer type with range [0, max], like Rust `as`.
fn hw_f64_to_unsigned(lo: u32, hi: u32, max: f64) -> u32 {
    let v = u32(clamp(hw_f64(lo, hi), 0.0lf, max));
    return select(v, 0u, hw_f64_is_nan(lo, hi));
}

// Integers of at most 32 bits -> f64: exact.
fn hw_i32_to_f64(x: u32) -> vec2<u32> {
    return hw_f64_bits(f64(bitcast<i32>(x)));
}

fn hw_u32_to_f64(x: u32) -> vec2<u32> {
    return hw_f64_bits(f64(x));
}
