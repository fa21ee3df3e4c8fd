// The native f64 conversions (cast_native_f64.wgsl) as the cast kernels call them: raw bits in
// and out, specialised by the pair's overrides, like the functions of cast_fast.wgsl. Included
// only where the device has f64 and the probe passed.

fn f64_to_f32_hw(raw: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(hw_f64_to_f32(raw.x, raw.y), 0u);
}

fn f64_to_int_hw(raw: vec2<u32>) -> vec2<u32> {
    if (DST_KIND == KIND_SINT) {
        let top = (1u << (DST_BITS32 - 1u)) - 1u;
        return vec2<u32>(hw_f64_to_signed(raw.x, raw.y, -f64(top) - 1.0lf, f64(top)), 0u);
    }
    return vec2<u32>(hw_f64_to_unsigned(raw.x, raw.y, f64(0xffffffffu >> (32u - DST_BITS32))), 0u);
}

fn int_to_f64_hw(raw: vec2<u32>) -> vec2<u32> {
    if (SRC_KIND == KIND_SINT) {
        return hw_i32_to_f64(u32(i32(raw.x << SEXT32) >> SEXT32));
    }
    return hw_u32_to_f64(raw.x);
}
