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

// NumPy's NaN between two float formats, where it differs from the rule the conversions above
// follow (sign and top payload bits kept, quiet bit set, as x86 and the `half` crate do). NumPy
// widens float16 without quieting a signalling NaN, and narrows to float16 keeping the payload's
// top bits unquieted (one bit set if they are all zero); ml_dtypes gives the canonical quiet NaN
// for anything it converts to bfloat16 and for bfloat16 to float16, and widens bfloat16 to
// float32 unquieted. float32 <-> float64 and bfloat16 -> float64 keep the rule above. `r` is the
// converted value of `raw`; returns it, or the NaN NumPy gives.
fn numpy_nan(raw: vec2<u32>, r: vec2<u32>) -> vec2<u32> {
    if (SRC_KIND != KIND_FLOAT || DST_KIND != KIND_FLOAT) {
        return r;
    }
    let to_bf16 = DST_EXP == 8u && DST_FRAC == 7u;
    let from_bf16 = SRC_EXP == 8u && SRC_FRAC == 7u;
    let to_f16 = DST_EXP == 5u;
    let from_f16 = SRC_EXP == 5u;
    let canonical = (to_bf16 && !from_bf16) || (from_bf16 && to_f16);
    let unquieted = from_f16 || (from_bf16 && DST_BITS == 32u) || to_f16;
    if (!canonical && !unquieted) {
        return r;
    }
    let frac = raw & mask64(SRC_FRAC);
    let exp = shr64(raw, SRC_FRAC) & mask64(SRC_EXP);
    let nan = is_zero64(exp ^ mask64(SRC_EXP)) && !is_zero64(frac);
    let sign = select(vec2<u32>(0u), bit64(DST_BITS - 1u), test64(raw, SRC_BITS - 1u));
    let inf = shl64(mask64(DST_EXP), DST_FRAC);
    var payload = shr64(frac, SRC_FRAC - min(SRC_FRAC, DST_FRAC));
    payload = shl64(payload, DST_FRAC - min(SRC_FRAC, DST_FRAC));
    if (is_zero64(payload)) {
        payload = vec2<u32>(1u, 0u);
    }
    if (canonical) {
        payload = bit64(max(DST_FRAC, 1u) - 1u);
    }
    return select(r, sign | inf | payload, vec2<bool>(nan));
}
