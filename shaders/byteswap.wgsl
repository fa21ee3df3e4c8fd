// In-place byte swap of 2-, 4- or 8-byte elements packed in u32 words: big-endian file data
// becomes the little-endian layout tensors use, on the device, after the one host copy.
//
// `units` swaps whole groups of GROUP `vec4<u32>` (64 bytes) per invocation; `words` swaps the
// few words after the last whole group, one word (two for 8-byte elements) per invocation. The
// element size is the override BITS, so no kernel branches on it: llvmpipe runs every side of
// an `if`, loads and stores included (docs/ARCHITECTURE.md, "CPU adapters").

override BITS: u32 = 32u;      // element size: 16, 32 or 64 (set by src/ops/byteswap.rs)
override KIND: u32 = 1u;       // unused; set for every dtype-specialised kernel
override EXP: u32 = 8u;        // unused
override FRAC: u32 = 23u;      // unused

// `struct SwapParams`, the uniform parameters, is declared in src/ops/byteswap.rs.

const GROUP: u32 = 4u;

@group(0) @binding(0) var<storage, read_write> data: array<vec4<u32>>;
@group(0) @binding(1) var<uniform> p: SwapParams;
@group(0) @binding(2) var<storage, read_write> tail: array<u32>;

// The swapped bytes of four words: bytes swapped within each 16-bit half, then (for 4- and
// 8-byte elements) the halves swapped, then (8-byte elements) the words of each pair.
fn swap_unit(v: vec4<u32>) -> vec4<u32> {
    let halves = ((v & vec4(0x00ff00ffu)) << vec4(8u)) | ((v >> vec4(8u)) & vec4(0x00ff00ffu));
    let words = select((halves << vec4(16u)) | (halves >> vec4(16u)), halves, BITS == 16u);
    return select(words, words.yxwz, BITS == 64u);
}

@compute @workgroup_size(256)
fn units(@builtin(global_invocation_id) g: vec3<u32>) {
    let i = g.y * p.row + g.x;
    if (i < p.n) {
        let b = i * GROUP;
        let v0 = data[b];
        let v1 = data[b + 1u];
        let v2 = data[b + 2u];
        let v3 = data[b + 3u];
        data[b] = swap_unit(v0);
        data[b + 1u] = swap_unit(v1);
        data[b + 2u] = swap_unit(v2);
        data[b + 3u] = swap_unit(v3);
    }
}

@compute @workgroup_size(256)
fn words(@builtin(global_invocation_id) g: vec3<u32>) {
    let i = g.y * p.row + g.x;
    if (i >= p.n) {
        return;
    }
    if (BITS == 64u) {
        let k = p.base + 2u * i;
        let s = swap_unit(vec4(tail[k], tail[k + 1u], 0u, 0u));
        tail[k] = s.x;
        tail[k + 1u] = s.y;
    } else {
        let k = p.base + i;
        tail[k] = swap_unit(vec4(tail[k])).x;
    }
}
