// Quantization of f32 tensors to int8/uint8 and back (Tensor::quantize, QTensor::dequantize).
//
// * `channel_extremes`: per-channel min and max (NaN skipped) as order-preserving u32 keys,
//   merged with atomics; each invocation scans a contiguous run and flushes once per channel
//   (`channel_extremes_units`: the same over 16-byte units for channels of at least RUN
//   contiguous elements; `channel_extremes_units_periodic`, for shorter ones: a group of 16
//   elements in the groups where the channel pattern repeats).
// * `quantize`: q = clamp(round_half_even(x * inv_scale[c]) + zp[c], qmin, qmax), four
//   elements per output word; NaN gives the zero point.
// * `dequantize`: x = f32(q - zp[c]) * scale[c].
//
// The channel of element i is (i / inner) % channels. The `_tensor` variants of `quantize` and
// `dequantize` are for one channel: its parameters come from the uniform `QuantParams`, so
// there is no table load and no division per element. The `_units` variants (at the end) do whole
// groups of 16 elements with 16-byte loads and stores; the element-wise entry points do the
// rest. The `_units_periodic` ones, for channels of fewer than 16 contiguous elements, load a
// group's parameters once for `p.rows` groups.

// `struct QuantChannel` (one row of the per-channel table) and `struct QuantParams` (the
// uniform parameters) are declared in src/ops/quant/params.rs.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<uniform> p: QuantParams;
@group(0) @binding(2) var<storage, read_write> keys: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> qp: array<QuantChannel>;
// The same source and destination as `src` and `dst`, in 16-byte units, for the `_units` entry
// points.
@group(0) @binding(5) var<storage, read> src_units: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> dst_units: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> dst: array<u32>;

const RUN: u32 = 64u;

fn channel_of(i: u32) -> u32 {
    return ((p.first + i) / p.inner) % p.channels;
}

fn key_of(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    return select(b | 0x80000000u, ~b, (b >> 31u) == 1u);
}

fn invocation(g: vec3<u32>) -> u32 {
    return g.y * p.row + g.x;
}

@compute @workgroup_size(256)
fn channel_extremes(@builtin(global_invocation_id) g: vec3<u32>) {
    let start = invocation(g) * RUN;
    if (start >= p.n) {
        return;
    }
    let end = min(start + RUN, p.n);
    var c = channel_of(start);
    var lo = 0xffffffffu;
    var hi = 0u;
    for (var i = start; i < end; i++) {
        let ci = channel_of(i);
        if (ci != c) {
            if (lo <= hi) {
                atomicMin(&keys[2u * c], lo);
                atomicMax(&keys[2u * c + 1u], hi);
            }
            c = ci;
            lo = 0xffffffffu;
            hi = 0u;
        }
        let x = bitcast<f32>(src[p.src_base + i]);
        if (x == x) {
            let k = key_of(x);
            lo = min(lo, k);
            hi = max(hi, k);
        }
    }
    if (lo <= hi) {
        atomicMin(&keys[2u * c], lo);
        atomicMax(&keys[2u * c + 1u], hi);
    }
}

// channel_extremes over whole runs of RUN elements read as 16-byte units, for channels of at
// least RUN contiguous elements (a run then touches at most two channels): one division per
// run instead of two per element, a quarter of the loads. The elements after the last whole run
// go to `channel_extremes`.
@compute @workgroup_size(256)
fn channel_extremes_units(@builtin(global_invocation_id) g: vec3<u32>) {
    let k = invocation(g);
    if (k >= p.n / RUN) {
        return;
    }
    let e0 = p.first + RUN * k;
    let step = e0 / p.inner;
    let c = step % p.channels;
    // Elements before `split` are in channel c, the others in the next one.
    let split = p.inner - (e0 - step * p.inner);
    var lo = vec2<u32>(0xffffffffu, 0xffffffffu);
    var hi = vec2<u32>(0u, 0u);
    let s = p.src_base / 4u + (RUN / 4u) * k;
    for (var u = 0u; u < RUN / 4u; u++) {
        let x = bitcast<vec4<f32>>(src_units[s + u]);
        for (var j = 0u; j < 4u; j++) {
            let v = x[j];
            let key = vec2<u32>(key_of(v));
            let second = 4u * u + j >= split;
            let take = vec2<bool>(v == v && !second, v == v && second);
            lo = select(lo, min(lo, key), take);
            hi = select(hi, max(hi, key), take);
        }
    }
    if (lo.x <= hi.x) {
        atomicMin(&keys[2u * c], lo.x);
        atomicMax(&keys[2u * c + 1u], hi.x);
    }
    if (lo.y <= hi.y) {
        let next = select(c + 1u, 0u, c + 1u == p.channels);
        atomicMin(&keys[2u * next], lo.y);
        atomicMax(&keys[2u * next + 1u], hi.y);
    }
}

// The parameters of element i's channel. `per_tensor` is a literal at each entry point, so the
// compiler keeps only one side.
fn channel(i: u32, per_tensor: bool) -> QuantChannel {
    if (per_tensor) {
        return p.tensor;
    }
    return qp[channel_of(i)];
}

fn quantize_one(i: u32, per_tensor: bool) -> u32 {
    return quantize_code(bitcast<f32>(src[p.src_base + i]), channel(i, per_tensor));
}

// Output word w: four codes.
fn quantize_word(w: u32, per_tensor: bool) {
    let first = w * 4u;
    if (first >= p.n) {
        return;
    }
    var word = 0u;
    for (var k = 0u; k < 4u; k++) {
        if (first + k < p.n) {
            word |= quantize_one(first + k, per_tensor) << (8u * k);
        }
    }
    dst[p.dst_base / 4u + w] = word;
}

@compute @workgroup_size(256)
fn quantize(@builtin(global_invocation_id) g: vec3<u32>) {
    quantize_word(invocation(g), false);
}

@compute @workgroup_size(256)
fn quantize_tensor(@builtin(global_invocation_id) g: vec3<u32>) {
    quantize_word(invocation(g), true);
}

fn dequantize_one(i: u32, per_tensor: bool) {
    if (i >= p.n) {
        return;
    }
    let e = p.src_base + i;
    let byte = (src[e / 4u] >> (8u * (e % 4u))) & 0xffu;
    dst[p.dst_base + i] = dequantize_code(byte, channel(i, per_tensor));
}

@compute @workgroup_size(256)
fn dequantize(@builtin(global_invocation_id) g: vec3<u32>) {
    dequantize_one(invocation(g), false);
}

@compute @workgroup_size(256)
fn dequantize_tensor(@builtin(global_invocation_id) g: vec3<u32>) {
    dequantize_one(invocation(g), true);
}

// The kernels over whole groups of 16 elements (p.n a multiple of 16, both bases multiples of
// 16): 16-byte loads and stores instead of 4- and 1-byte ones, each of which costs a per-lane
// loop on llvmpipe. They share `quantize_code` and `dequantize_code` with `quantize_one` and
// `dequantize_one`, which do the elements after the last whole group. The per-channel ones
// (`quantize_units`, `dequantize_units`) are for channels of at least 16 contiguous elements, so
// a group touches at most two channels: two table loads and one division per group, not one
// of each per element.
fn quantize_code(x: f32, ch: QuantChannel) -> u32 {
    let v = clamp(round(x * ch.inv_scale) + ch.zero_point, f32(p.qmin), f32(p.qmax));
    return u32(i32(select(ch.zero_point, v, x == x))) & 0xffu;
}

fn dequantize_code(byte: u32, ch: QuantChannel) -> u32 {
    let q = i32(byte) - select(0, 256, p.signed_q == 1u && byte >= 128u);
    return bitcast<u32>(f32(q - i32(ch.zero_point)) * ch.scale);
}

// The channels of a group of 16 elements from element e0 (counted in the whole tensor): `a`
// for the elements before `split`, `b` after.
struct Group {
    a: QuantChannel,
    b: QuantChannel,
    split: u32,
}

fn group_of(e0: u32, per_tensor: bool) -> Group {
    if (per_tensor) {
        return Group(p.tensor, p.tensor, 16u);
    }
    let step = e0 / p.inner;
    let c = step % p.channels;
    let next = select(c + 1u, 0u, c + 1u == p.channels);
    return Group(qp[c], qp[next], p.inner - (e0 - step * p.inner));
}

// The parameters of the group's element j.
fn pick(g: Group, j: u32) -> QuantChannel {
    let b = j >= g.split;
    return QuantChannel(
        select(g.a.scale, g.b.scale, b),
        select(g.a.inv_scale, g.b.inv_scale, b),
        select(g.a.zero_point, g.b.zero_point, b),
        0.0,
    );
}

// `x`, computed in full before it is stored (see `kept` in cast_vector.wgsl).
fn kept_units(x: vec4<u32>) -> vec4<u32> {
    return select(x, vec4<u32>(), p.n == 0u);
}

// The codes of the group's elements j..j+3, from source unit u.
fn quantize_unit(u: vec4<u32>, g: Group, j: u32) -> u32 {
    let x = bitcast<vec4<f32>>(u);
    return quantize_code(x.x, pick(g, j)) | (quantize_code(x.y, pick(g, j + 1u)) << 8u)
        | (quantize_code(x.z, pick(g, j + 2u)) << 16u)
        | (quantize_code(x.w, pick(g, j + 3u)) << 24u);
}

fn quantize_group(k: u32, per_tensor: bool) {
    if (k >= p.n / 16u) {
        return;
    }
    let g = group_of(p.first + 16u * k, per_tensor);
    let s = p.src_base / 4u + 4u * k;
    let codes = vec4<u32>(
        quantize_unit(src_units[s], g, 0u),
        quantize_unit(src_units[s + 1u], g, 4u),
        quantize_unit(src_units[s + 2u], g, 8u),
        quantize_unit(src_units[s + 3u], g, 12u),
    );
    dst_units[p.dst_base / 16u + k] = kept_units(codes);
}

// The f32 bits of the codes in word w, the group's elements j..j+3.
fn dequantize_word(w: u32, g: Group, j: u32) -> vec4<u32> {
    return vec4<u32>(
        dequantize_code(w & 0xffu, pick(g, j)),
        dequantize_code((w >> 8u) & 0xffu, pick(g, j + 1u)),
        dequantize_code((w >> 16u) & 0xffu, pick(g, j + 2u)),
        dequantize_code(w >> 24u, pick(g, j + 3u)),
    );
}

fn dequantize_group(k: u32, per_tensor: bool) {
    if (k >= p.n / 16u) {
        return;
    }
    let g = group_of(p.first + 16u * k, per_tensor);
    let codes = src_units[p.src_base / 16u + k];
    let d = p.dst_base / 4u + 4u * k;
    dst_units[d] = kept_units(dequantize_word(codes.x, g, 0u));
    dst_units[d + 1u] = kept_units(dequantize_word(codes.y, g, 4u));
    dst_units[d + 2u] = kept_units(dequantize_word(codes.z, g, 8u));
    dst_units[d + 3u] = kept_units(dequantize_word(codes.w, g, 12u));
}

@compute @workgroup_size(256)
fn quantize_units(@builtin(global_invocation_id) g: vec3<u32>) {
    quantize_group(invocation(g), false);
}

@compute @workgroup_size(256)
fn quantize_tensor_units(@builtin(global_invocation_id) g: vec3<u32>) {
    quantize_group(invocation(g), true);
}

@compute @workgroup_size(256)
fn dequantize_units(@builtin(global_invocation_id) g: vec3<u32>) {
    dequantize_group(invocation(g), false);
}

@compute @workgroup_size(256)
fn dequantize_tensor_units(@builtin(global_invocation_id) g: vec3<u32>) {
    dequantize_group(invocation(g), true);
}

// The per-channel kernels for channels of fewer than 16 contiguous elements (the last axis, say).
// The channel pattern repeats every inner * channels elements, so the groups of 16 repeat every
// `p.cols` groups (lcm(inner * channels, 16) elements), and groups `p.cols` apart have the same
// channels: an invocation finds its group's channels once and does the groups at the same place
// in `p.rows` repeats. Consecutive invocations take consecutive groups of a repeat.
struct Walk {
    c: u32,
    pos: u32,  // position of the element in its channel's contiguous stretch
}

fn walk_from(e0: u32) -> Walk {
    let step = e0 / p.inner;
    return Walk(step % p.channels, e0 - step * p.inner);
}

fn walk_next(w: Walk) -> Walk {
    let wrap = w.pos + 1u == p.inner;
    let next = select(w.c + 1u, 0u, w.c + 1u == p.channels);
    return Walk(select(w.c, next, wrap), select(w.pos + 1u, 0u, wrap));
}

// The first group of invocation v; p.n / 16 (none) past the last, where the kernels' loops do
// nothing (and the channels they look up are still in range).
fn periodic_first(v: u32) -> u32 {
    let groups = p.n / 16u;
    let repeats = groups / p.cols + select(0u, 1u, groups % p.cols != 0u);
    let block = v / p.cols;
    if (block * p.rows >= repeats) {
        return groups;
    }
    return block * p.rows * p.cols + v % p.cols;
}

// The group a repeat after group k; p.n / 16 (none) past the last.
fn periodic_next(k: u32) -> u32 {
    let groups = p.n / 16u;
    return select(k + p.cols, groups, groups - k <= p.cols);
}

// The channel parameters of the 16 elements from element e0 (counted in the whole tensor).
fn channels_from(e0: u32) -> array<QuantChannel, 16> {
    var ch: array<QuantChannel, 16>;
    var w = walk_from(e0);
    for (var j = 0u; j < 16u; j++) {
        ch[j] = qp[w.c];
        w = walk_next(w);
    }
    return ch;
}

@compute @workgroup_size(256)
fn quantize_units_periodic(@builtin(global_invocation_id) g: vec3<u32>) {
    var k = periodic_first(invocation(g));
    let ch = channels_from(p.first + 16u * k);
    for (var r = 0u; r < p.rows && k < p.n / 16u; r++) {
        let s = p.src_base / 4u + 4u * k;
        var codes = vec4<u32>();
        for (var u = 0u; u < 4u; u++) {
            let x = bitcast<vec4<f32>>(src_units[s + u]);
            var word = 0u;
            for (var j = 0u; j < 4u; j++) {
                word |= quantize_code(x[j], ch[4u * u + j]) << (8u * j);
            }
            codes[u] = word;
        }
        dst_units[p.dst_base / 16u + k] = kept_units(codes);
        k = periodic_next(k);
    }
}

@compute @workgroup_size(256)
fn dequantize_units_periodic(@builtin(global_invocation_id) g: vec3<u32>) {
    var k = periodic_first(invocation(g));
    let ch = channels_from(p.first + 16u * k);
    for (var r = 0u; r < p.rows && k < p.n / 16u; r++) {
        let codes = src_units[p.src_base / 16u + k];
        let d = p.dst_base / 4u + 4u * k;
        for (var u = 0u; u < 4u; u++) {
            var x = vec4<u32>();
            for (var j = 0u; j < 4u; j++) {
                x[j] = dequantize_code((codes[u] >> (8u * j)) & 0xffu, ch[4u * u + j]);
            }
            dst_units[d + u] = kept_units(x);
        }
        k = periodic_next(k);
    }
}

// channel_extremes for channels of fewer than RUN contiguous elements, where a contiguous run
// would flush at nearly every element: an invocation keeps the extremes of each element of its
// group over `p.rows` repeats and flushes them once.
@compute @workgroup_size(256)
fn channel_extremes_units_periodic(@builtin(global_invocation_id) g: vec3<u32>) {
    var k = periodic_first(invocation(g));
    let e0 = p.first + 16u * k;
    var lo: array<u32, 16>;
    var hi: array<u32, 16>;
    for (var j = 0u; j < 16u; j++) {
        lo[j] = 0xffffffffu;
        hi[j] = 0u;
    }
    for (var r = 0u; r < p.rows && k < p.n / 16u; r++) {
        let s = p.src_base / 4u + 4u * k;
        for (var u = 0u; u < 4u; u++) {
            let x = bitcast<vec4<f32>>(src_units[s + u]);
            for (var j = 0u; j < 4u; j++) {
                let i = 4u * u + j;
                let key = key_of(x[j]);
                lo[i] = select(lo[i], min(lo[i], key), x[j] == x[j]);
                hi[i] = select(hi[i], max(hi[i], key), x[j] == x[j]);
            }
        }
        k = periodic_next(k);
    }
    var w = walk_from(e0);
    for (var j = 0u; j < 16u; j++) {
        if (lo[j] <= hi[j]) {
            atomicMin(&keys[2u * w.c], lo[j]);
            atomicMax(&keys[2u * w.c + 1u], hi[j]);
        }
        w = walk_next(w);
    }
}
