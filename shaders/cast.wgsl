// The cast template: one conversion for all 169 (source, target) pairs. The host specialises it
// with pipeline-overridable constants describing both dtypes, and the driver folds away every
// branch that does not apply. Two kernels use it: the vector kernel that Rust generates per pair
// (src/ops/cast/vector.rs), and the word kernel of cast_words.wgsl for what is left over.

// Kind codes (match `Kind` in src/dtype.rs).
const KIND_BOOL: u32 = 0u;
const KIND_UINT: u32 = 1u;
const KIND_SINT: u32 = 2u;
const KIND_FLOAT: u32 = 3u;

override SRC_KIND: u32;
override SRC_BITS: u32;
override SRC_EXP: u32 = 0u;
override SRC_FRAC: u32 = 0u;
override DST_KIND: u32;
override DST_BITS: u32;
override DST_EXP: u32 = 0u;
override DST_FRAC: u32 = 0u;
// Whether num32.wgsl's single-word path applies: every pair but 64-bit <-> 64-bit.
override NARROW: bool = SRC_BITS <= 32u || DST_BITS <= 32u;

// The uniform parameters, `struct CastParams`, are declared in Rust (src/ops/cast/mod.rs)
// and prepended to the module.

fn unpack(raw: vec2<u32>) -> Num {
    if (SRC_KIND == KIND_FLOAT) {
        return unpack_float(raw, SRC_EXP, SRC_FRAC);
    }
    return unpack_int(raw, SRC_BITS, SRC_KIND == KIND_SINT);
}

// Raw bits of the converted value (only the low DST_BITS matter).
fn convert(raw: vec2<u32>) -> vec2<u32> {
    if (DST_KIND == KIND_BOOL) {
        var v = raw;
        if (SRC_KIND == KIND_FLOAT) {
            v = raw & mask64(SRC_BITS - 1u); // -0.0 is false, NaN is true
        }
        return vec2<u32>(select(0u, 1u, !is_zero64(v)), 0u);
    }
    if (DST_KIND == KIND_FLOAT || SRC_KIND == KIND_FLOAT) {
        if (NARROW) {
            return convert32(raw);
        }
        if (DST_KIND == KIND_FLOAT) {
            return pack_float(unpack(raw), DST_EXP, DST_FRAC);
        }
        return float_to_int(unpack(raw), DST_BITS, DST_KIND == KIND_SINT);
    }
    // Integer -> integer wraps modulo 2^DST_BITS: sign-extend, then keep the low bits.
    if (SRC_KIND == KIND_SINT) {
        return sext64(raw, SRC_BITS);
    }
    return raw;
}
