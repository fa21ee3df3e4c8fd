// The cast kernel: one template for all 169 (source, target) pairs. The host specialises it with
// pipeline-overridable constants describing both dtypes, and the driver folds away every branch
// that does not apply. Each invocation writes one whole output word: 4 elements for 8-bit targets,
// 2 for 16-bit, 1 for 32- and 64-bit ones (PER), so neighbouring invocations touch neighbouring
// words and no two invocations share a word.

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
// Elements per invocation: max(1, 32 / DST_BITS).
override PER: u32 = 1u;
// Whether num32.wgsl's single-word path applies: every pair but 64-bit <-> 64-bit.
override NARROW: bool = SRC_BITS <= 32u || DST_BITS <= 32u;

struct Params {
    // Elements in this dispatch.
    n: u32,
    // First element in the bound source / destination chunk (multiples of 4).
    src_base: u32,
    dst_base: u32,
    // Workgroups per row of the 2-D grid.
    row: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

// Raw bits of source element `i`, zero-extended.
fn load(i: u32) -> vec2<u32> {
    if (SRC_BITS == 8u) {
        return vec2<u32>((src[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu, 0u);
    }
    if (SRC_BITS == 16u) {
        return vec2<u32>((src[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu, 0u);
    }
    if (SRC_BITS == 32u) {
        return vec2<u32>(src[i], 0u);
    }
    return vec2<u32>(src[2u * i], src[2u * i + 1u]);
}

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

// Invocations per workgroup, and output words each invocation writes (strided by WG, so the
// lanes of a workgroup always touch consecutive words). Few, fat workgroups: CPU adapters pay a
// fixed cost per workgroup.
const WG: u32 = 256u;
const ITER: u32 = 8u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let block = (wid.y * params.row + wid.x) * ITER * WG;
    for (var j = 0u; j < ITER; j++) {
        let first = (block + j * WG + lid) * PER;
        if (first >= params.n) {
            return;
        }
        convert_word(first);
    }
}

// Converts the elements of one output word, starting at element `first` of this dispatch.
fn convert_word(first: u32) {
    let s = params.src_base + first;
    let o = params.dst_base + first;
    if (DST_BITS == 64u) {
        let r = convert(load(s));
        dst[2u * o] = r.x;
        dst[2u * o + 1u] = r.y;
    } else if (DST_BITS == 32u) {
        dst[o] = convert(load(s)).x;
    } else {
        // Packed narrow target: gather PER elements into one word; lanes past n write 0 padding.
        let count = min(PER, params.n - first);
        var word = 0u;
        for (var k = 0u; k < PER; k++) {
            if (k < count) {
                word |= (convert(load(s + k)).x & mask64(DST_BITS).x) << (k * DST_BITS);
            }
        }
        dst[o / PER] = word;
    }
}
