// In-place byte swap of 2-, 4- or 8-byte elements packed in u32 words: big-endian file data
// becomes the little-endian layout tensors use, on the device, after the one host copy.

struct Params {
    // Words to touch (mode 8: word pairs).
    n: u32,
    // Invocations per grid row: workgroups in x times 256.
    row: u32,
    // Element size in bytes: 2, 4 or 8.
    size: u32,
    pad: u32,
}

@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

fn bswap32(w: u32) -> u32 {
    return (w << 24u) | ((w & 0xff00u) << 8u) | ((w >> 8u) & 0xff00u) | (w >> 24u);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    let i = g.y * p.row + g.x;
    if (i >= p.n) {
        return;
    }
    if (p.size == 2u) {
        let w = data[i];
        data[i] = ((w & 0x00ff00ffu) << 8u) | ((w >> 8u) & 0x00ff00ffu);
    } else if (p.size == 4u) {
        data[i] = bswap32(data[i]);
    } else {
        let lo = data[2u * i];
        let hi = data[2u * i + 1u];
        data[2u * i] = bswap32(hi);
        data[2u * i + 1u] = bswap32(lo);
    }
}
