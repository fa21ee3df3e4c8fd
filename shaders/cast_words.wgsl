// The word kernel of the casts: each invocation writes one whole output word, so neighbouring
// invocations touch neighbouring words and no two share one: 4 elements for 8-bit targets, 2 for
// 16-bit, 1 for 32- and 64-bit ones (PER). It needs nothing but u32 loads and stores, so it
// handles any range; the host uses it for the elements the vector kernel leaves over.

// Elements per invocation: max(1, 32 / DST_BITS).
override PER: u32 = 1u;

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: CastParams;

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
        let raw = load(s);
        let r = numpy_nan(raw, convert(raw));
        dst[2u * o] = r.x;
        dst[2u * o + 1u] = r.y;
    } else if (DST_BITS == 32u) {
        let raw = load(s);
        dst[o] = numpy_nan(raw, convert(raw)).x;
    } else {
        // Packed narrow target: gather PER elements into one word; lanes past n write 0 padding.
        let count = min(PER, params.n - first);
        var word = 0u;
        for (var k = 0u; k < PER; k++) {
            if (k < count) {
                let raw = load(s + k);
                word |= (numpy_nan(raw, convert(raw)).x & mask64(DST_BITS).x) << (k * DST_BITS);
            }
        }
        dst[o / PER] = word;
    }
}
