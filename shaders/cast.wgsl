// The cast kernel: one template for all 169 (source, target) pairs. The host specialises it with
// pipeline-overridable constants describing both dtypes, and the driver folds away every branch
// that does not apply. Each invocation converts 4 consecutive elements, so a packed output word
// (4 x 8-bit or 2 x 16-bit) is always written whole by one invocation.

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

struct Params {
    // Elements in this dispatch.
    n: u32,
    // First element in the bound source / destination chunk (multiples of 4).
    src_base: u32,
    dst_base: u32,
    // Invocations per row of the 2-D grid.
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
    if (DST_KIND == KIND_FLOAT) {
        return pack_float(unpack(raw), DST_EXP, DST_FRAC);
    }
    if (SRC_KIND == KIND_FLOAT) {
        return float_to_int(unpack(raw), DST_BITS, DST_KIND == KIND_SINT);
    }
    // Integer -> integer wraps modulo 2^DST_BITS: sign-extend, then keep the low bits.
    if (SRC_KIND == KIND_SINT) {
        return sext64(raw, SRC_BITS);
    }
    return raw;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let first = (gid.y * params.row + gid.x) * 4u;
    if (first >= params.n) {
        return;
    }
    let count = min(4u, params.n - first);
    var r: array<vec2<u32>, 4>;
    for (var k = 0u; k < 4u; k++) {
        if (k < count) {
            r[k] = convert(load(params.src_base + first + k));
        } else {
            r[k] = vec2<u32>(0u);
        }
    }
    let o = params.dst_base + first;
    if (DST_BITS == 8u) {
        dst[o >> 2u] = (r[0].x & 0xffu) | ((r[1].x & 0xffu) << 8u)
            | ((r[2].x & 0xffu) << 16u) | (r[3].x << 24u);
    } else if (DST_BITS == 16u) {
        dst[o >> 1u] = (r[0].x & 0xffffu) | (r[1].x << 16u);
        if (count > 2u) {
            dst[(o >> 1u) + 1u] = (r[2].x & 0xffffu) | (r[3].x << 16u);
        }
    } else if (DST_BITS == 32u) {
        for (var k = 0u; k < count; k++) {
            dst[o + k] = r[k].x;
        }
    } else {
        for (var k = 0u; k < count; k++) {
            dst[2u * (o + k)] = r[k].x;
            dst[2u * (o + k) + 1u] = r[k].y;
        }
    }
}
