// f64 -> f32 by the adapter's conversion instruction. Compiled only on devices with SHADER_F64
// and SHADER_INT64, and used only where the probe (cast_probe_f64.wgsl, src/cast/native.rs)
// found it exact. WGSL leaves values beyond the largest f32 to the implementation, so those get
// infinity here (from (2 - 2^-24) * 2^127, where rounding to nearest even reaches 2^128), and
// NaN gets the reference's bits (sign, quiet bit, top of the payload).

fn hw_f64_to_f32(lo: u32, hi: u32) -> u32 {
    let f = bitcast<u32>(f32(bitcast<f64>((u64(hi) << 32u) | u64(lo))));
    let a = hi & 0x7fffffffu;
    let sign = hi & 0x80000000u;
    let inf = a > 0x47efffffu || (a == 0x47efffffu && lo >= 0xf0000000u);
    let nan = a > 0x7ff00000u || (a == 0x7ff00000u && lo != 0u);
    let r = select(f, sign | 0x7f800000u, inf);
    return select(r, sign | 0x7fc00000u | ((hi & 0xfffffu) << 3u) | (lo >> 29u), nan);
}

fn f64_to_f32_hw(raw: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(hw_f64_to_f32(raw.x, raw.y), 0u);
}
