// Reductions for Tensor::min/max/sum/mean/histogram. Three kernels, each as a pair of entry
// points (see `extremes_units` below for the split):
//
// * `extremes`: over the raw packed words of any dtype: min and max as order-preserving 64-bit
//   keys (exact for every dtype, f64 included, with no f64 hardware), a NaN count, and for
//   bool/integer dtypes the exact wrapping 64-bit sum. One 8-word partial per workgroup.
//   For floats of at most 32 bits it also carries the compensated f32 sum of the non-NaN
//   elements; for 64-bit integers, the sum is of the keys (the elements offset by 2^63 when
//   signed) and the last word counts its carries out of 64 bits, so the host has the exact
//   sum (for the mean) as well as the wrapping one.
// * `sum_f64`: f64 sums in 128-bit fixed point (see `fixed_of`), one 4-word partial per
//   workgroup.
// * `histogram`: equal-width bins over [lo, hi] of f32 words, counted with workgroup atomics
//   (or, for a few bins, in registers first).
//
// The host combines the per-workgroup partials in 64-bit arithmetic.

override BITS: u32 = 32u;      // element size: 8, 16, 32 or 64
override KIND: u32 = 1u;       // 0 bool, 1 unsigned, 2 signed, 3 float
override EXP: u32 = 8u;        // float exponent bits
override FRAC: u32 = 23u;      // float fraction bits

// Shift amounts in override expressions must stay below 32 even on branches a dtype never
// takes, so the per-width constants are built from clamped widths.
override TOP: u32 = 1u << (min(BITS, 32u) - 1u);           // sign bit of a <= 32-bit element
override ALL: u32 = (TOP - 1u) | TOP;                       // all bits of a <= 32-bit element
override INF: u32 = ((1u << min(EXP, 8u)) - 1u) << min(FRAC, 23u);  // +inf, <= 32-bit floats

const WG: u32 = 256u;

// `struct ReduceParams`, the uniform parameters, is declared in src/ops/stats/params.rs.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> partials: array<u32>;
@group(0) @binding(2) var<uniform> p: ReduceParams;
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>>;
// The same tensor as `src`, read in 16-byte units by the `_units` entry points.
@group(0) @binding(4) var<storage, read> units: array<vec4<u32>>;

var<workgroup> s_min: array<vec2<u32>, WG>;
var<workgroup> s_max: array<vec2<u32>, WG>;
var<workgroup> s_sum: array<vec2<u32>, WG>;
var<workgroup> s_nan: array<u32, WG>;
var<workgroup> s_f: array<f32, WG>;
var<workgroup> s_carry: array<u32, WG>;
// Histograms of up to SHARED_BINS bins count here: 16 KiB, WebGPU's default
// maxComputeWorkgroupStorageSize.
const SHARED_BINS: u32 = 4096u;
var<workgroup> s_hist: array<atomic<u32>, SHARED_BINS>;

// The raw bits of element i as (lo, hi).
fn load_bits(i: u32) -> vec2<u32> {
    if (BITS == 64u) {
        return vec2<u32>(src[2u * i], src[2u * i + 1u]);
    }
    if (BITS == 32u) {
        return vec2<u32>(src[i], 0u);
    }
    let per = 32u / min(BITS, 32u);
    let w = src[i / per];
    return vec2<u32>((w >> ((i % per) * BITS)) & ALL, 0u);
}

// Top bit of the element.
fn sign_of(v: vec2<u32>) -> bool {
    if (BITS == 64u) {
        return (v.y >> 31u) == 1u;
    }
    return (v.x & TOP) != 0u;
}

fn is_nan(v: vec2<u32>) -> bool {
    if (KIND != 3u) {
        return false;
    }
    if (BITS == 64u) {
        let hi = v.y & 0x7fffffffu;
        return hi > 0x7ff00000u || (hi == 0x7ff00000u && v.x != 0u);
    }
    return (v.x & (TOP - 1u)) > INF;
}

// An unsigned 64-bit key ordered like the values: integers offset by the sign bit, floats with
// the sign-magnitude order folded (-0.0 sorts just below +0.0).
fn key_of(v: vec2<u32>) -> vec2<u32> {
    var top = vec2<u32>(TOP, 0u);
    var all = vec2<u32>(ALL, 0u);
    if (BITS == 64u) {
        top = vec2<u32>(0u, 0x80000000u);
        all = vec2<u32>(0xffffffffu, 0xffffffffu);
    }
    if (KIND == 2u) {
        return v ^ top;
    }
    if (KIND == 3u) {
        if (sign_of(v)) {
            return (~v) & all;
        }
        return v | top;
    }
    return v;
}

fn lt64(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.y < b.y || (a.y == b.y && a.x < b.x);
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    let carry = select(0u, 1u, lo < a.x);
    return vec2<u32>(lo, a.y + b.y + carry);
}

// The element as a 64-bit two's-complement integer (bool and integer dtypes).
fn widen(v: vec2<u32>) -> vec2<u32> {
    if (KIND != 2u || BITS == 64u) {
        return v;
    }
    if (BITS == 32u) {
        return vec2<u32>(v.x, select(0u, 0xffffffffu, sign_of(v)));
    }
    if (sign_of(v)) {
        return vec2<u32>(v.x | ~ALL, 0xffffffffu);
    }
    return v;
}

// A float element (not NaN) of at most 32 bits as f32, exactly, with integer operations only.
fn to_f32(v: vec2<u32>) -> f32 {
    if (BITS == 32u) {
        return bitcast<f32>(v.x);
    }
    if (EXP == 8u) {
        return bitcast<f32>(v.x << 16u);  // bf16
    }
    // f16
    let s = (v.x & 0x8000u) << 16u;
    let e = (v.x >> 10u) & 0x1fu;
    let m = v.x & 0x3ffu;
    if (e == 0u) {
        let mag = f32(m) * 5.9604645e-8;  // m * 2^-24, exact
        return select(mag, -mag, s != 0u);
    }
    if (e == 31u) {
        return bitcast<f32>(s | 0x7f800000u);
    }
    return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}

// One Kahan step; the compensation is dropped once the sum is infinite (inf - inf would turn
// it into NaN, where NumPy's sum stays infinite).
fn kahan(sum: ptr<function, f32>, c: ptr<function, f32>, x: f32) {
    let y = x - *c;
    let t = *sum + y;
    // The largest f32, exactly: Tint (Chromium) rejects a decimal literal that rounds to it.
    if (abs(t) <= 0x1.fffffep+127f) {
        *c = (t - *sum) - y;
    } else {
        *c = 0.0;
    }
    *sum = t;
}

// The builtins every entry point takes.
struct Ids {
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
}

// Invocations in the whole dispatch (1-D grid).
fn stride(groups: u32) -> u32 {
    return groups * WG;
}

// The contiguous run [x, y) of the p.n units that invocation `g` of `groups` workgroups reads.
// llvmpipe runs each SIMD batch of invocations through its whole loop before the next batch, so
// a grid-stride loop there would read 128 bytes every stride, megabytes apart.
fn run_of(g: u32, groups: u32) -> vec2<u32> {
    let per = (p.n + stride(groups) - 1u) / stride(groups);
    let begin = min(g * per, p.n);
    return vec2<u32>(begin, min(begin + per, p.n));
}

// Element e of a 16-byte unit, as (lo, hi) bits.
fn unit_elem(u: vec4<u32>, e: u32) -> vec2<u32> {
    if (BITS == 64u) {
        return vec2<u32>(u[2u * e], u[2u * e + 1u]);
    }
    if (BITS == 32u) {
        return vec2<u32>(u[e], 0u);
    }
    let per = 32u / min(BITS, 32u);
    return vec2<u32>((u[e / per] >> ((e % per) * BITS)) & ALL, 0u);
}

// What `extremes` gathers per invocation.
struct Acc {
    mn: vec2<u32>,
    mx: vec2<u32>,
    sum: vec2<u32>,
    nans: u32,
    // Floats of at most 32 bits: the compensated sum of the non-NaN elements, in the same pass.
    fs: f32,
    fc: f32,
    // 64-bit integers: carries out of `sum`, a sum of keys.
    carry: u32,
}

fn acc_new() -> Acc {
    return Acc(vec2<u32>(0xffffffffu, 0xffffffffu), vec2<u32>(0u, 0u), vec2<u32>(0u, 0u), 0u, 0.0, 0.0, 0u);
}

// Adds one element's raw bits to `acc`.
fn visit(acc: ptr<function, Acc>, v: vec2<u32>) {
    var a = *acc;
    if (is_nan(v)) {
        a.nans += 1u;
    } else {
        if (KIND == 3u && BITS <= 32u) {
            var fs = a.fs;
            var fc = a.fc;
            kahan(&fs, &fc, to_f32(v));
            a.fs = fs;
            a.fc = fc;
        }
        let k = key_of(v);
        if (lt64(k, a.mn)) {
            a.mn = k;
        }
        if (lt64(a.mx, k)) {
            a.mx = k;
        }
        if (KIND != 3u && BITS == 64u) {
            let before = a.sum;
            a.sum = add64(a.sum, k);
            a.carry += select(0u, 1u, lt64(a.sum, before));
        } else if (KIND != 3u) {
            a.sum = add64(a.sum, widen(v));
        }
    }
    *acc = a;
}

// Combines the workgroup's accumulators and writes its 8-word partial.
fn extremes_partial(a: Acc, li: u32, wid: u32) {
    s_min[li] = a.mn;
    s_max[li] = a.mx;
    s_sum[li] = a.sum;
    s_nan[li] = a.nans;
    s_f[li] = a.fs;
    s_carry[li] = a.carry;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if (li < half) {
            if (lt64(s_min[li + half], s_min[li])) {
                s_min[li] = s_min[li + half];
            }
            if (lt64(s_max[li], s_max[li + half])) {
                s_max[li] = s_max[li + half];
            }
            let before = s_sum[li];
            s_sum[li] = add64(before, s_sum[li + half]);
            s_carry[li] += s_carry[li + half] + select(0u, 1u, lt64(s_sum[li], before));
            s_nan[li] += s_nan[li + half];
            s_f[li] += s_f[li + half];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let o = (p.out_base + wid) * 8u;
        partials[o] = s_min[0].x;
        partials[o + 1u] = s_min[0].y;
        partials[o + 2u] = s_max[0].x;
        partials[o + 3u] = s_max[0].y;
        partials[o + 4u] = s_sum[0].x;
        partials[o + 5u] = s_sum[0].y;
        partials[o + 6u] = s_nan[0];
        if (KIND == 3u) {
            partials[o + 7u] = bitcast<u32>(s_f[0]);
        } else {
            partials[o + 7u] = s_carry[0];
        }
    }
}

// The `_units` entry points read whole 16-byte units (p.n counts units, from the start of the
// binding); the plain ones read elements one by one from p.base and cover what is left after
// the last whole unit. On CPU adapters each storage load costs about the same whatever its
// width, so a unit costs about what one element did.
@compute @workgroup_size(256)
fn extremes(ids: Ids) {
    var a = acc_new();
    for (var i = ids.gid.x; i < p.n; i += stride(ids.nwg.x)) {
        visit(&a, load_bits(p.base + i));
    }
    extremes_partial(a, ids.li, ids.wid.x);
}

@compute @workgroup_size(256)
fn extremes_units(ids: Ids) {
    var a = acc_new();
    let r = run_of(ids.gid.x, ids.nwg.x);
    for (var i = r.x; i < r.y; i++) {
        let u = units[i];
        for (var e = 0u; e < 128u / BITS; e++) {
            visit(&a, unit_elem(u, e));
        }
    }
    extremes_partial(a, ids.li, ids.wid.x);
}

// The f64 sum, exactly in fixed point with no f64 arithmetic: element m * 2^(e - 1075) (m the
// 53-bit significand, e the biased exponent, at least 1) counts m * 2^(e - p.exp + GUARD) units
// of a 128-bit two's-complement accumulator, where p.exp is the largest exponent among the
// elements (from the extremes pass). Bits below the unit are dropped (toward zero), at most
// 2^-(52 + GUARD) of the largest element per element. Infinities and NaN are left to the host.
const GUARD: u32 = 40u;

var<workgroup> s_wide: array<vec4<u32>, WG>;

fn add128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    var out = vec4<u32>();
    var carry = 0u;
    for (var i = 0u; i < 4u; i++) {
        let t = a[i] + b[i];
        let c1 = select(0u, 1u, t < a[i]);
        out[i] = t + carry;
        carry = c1 + select(0u, 1u, out[i] < t);
    }
    return out;
}

fn neg128(a: vec4<u32>) -> vec4<u32> {
    return add128(~a, vec4<u32>(1u, 0u, 0u, 0u));
}

// The fixed-point value of one finite f64 (zero for inf and NaN).
fn fixed_of(v: vec2<u32>) -> vec4<u32> {
    let e = (v.y >> 20u) & 0x7ffu;
    if (e == 0x7ffu) {
        return vec4<u32>();
    }
    let m = vec2<u32>(v.x, (v.y & 0xfffffu) | select(0x100000u, 0u, e == 0u));
    let s = i32(max(e, 1u)) - i32(p.exp) + i32(GUARD);
    var x = vec4<u32>();
    if (s >= 0) {
        let ws = u32(s) / 32u;
        let bs = u32(s) % 32u;
        let src4 = vec4<u32>(m.x, m.y, 0u, 0u);
        for (var i = 0u; i < 4u; i++) {
            if (i >= ws) {
                x[i] = src4[i - ws] << bs;
                if (bs != 0u && i > ws) {
                    x[i] |= src4[i - ws - 1u] >> (32u - bs);
                }
            }
        }
    } else {
        let r = u32(-s);
        if (r >= 64u) {
            return vec4<u32>();
        }
        if (r >= 32u) {
            x = vec4<u32>(m.y >> (r - 32u), 0u, 0u, 0u);
        } else if (r > 0u) {
            x = vec4<u32>((m.x >> r) | (m.y << (32u - r)), m.y >> r, 0u, 0u);
        }
    }
    if ((v.y >> 31u) == 1u) {
        return neg128(x);
    }
    return x;
}

// Combines the workgroup's fixed-point sums and writes its 4-word partial.
fn wide_partial(s: vec4<u32>, li: u32, wid: u32) {
    s_wide[li] = s;
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if (li < half) {
            s_wide[li] = add128(s_wide[li], s_wide[li + half]);
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let o = (p.out_base + wid) * 4u;
        for (var i = 0u; i < 4u; i++) {
            partials[o + i] = s_wide[0][i];
        }
    }
}

@compute @workgroup_size(256)
fn sum_f64(ids: Ids) {
    var s = vec4<u32>();
    for (var i = ids.gid.x; i < p.n; i += stride(ids.nwg.x)) {
        let k = p.base + i;
        s = add128(s, fixed_of(vec2<u32>(src[2u * k], src[2u * k + 1u])));
    }
    wide_partial(s, ids.li, ids.wid.x);
}

@compute @workgroup_size(256)
fn sum_f64_units(ids: Ids) {
    var s = vec4<u32>();
    let r = run_of(ids.gid.x, ids.nwg.x);
    for (var i = r.x; i < r.y; i++) {
        let u = units[i];
        s = add128(s, fixed_of(u.xy));
        s = add128(s, fixed_of(u.zw));
    }
    wide_partial(s, ids.li, ids.wid.x);
}

// Clears the workgroup's bins (when they fit in workgroup memory).
fn hist_begin(li: u32) {
    for (var b = li; b < min(p.bins, SHARED_BINS); b += WG) {
        atomicStore(&s_hist[b], 0u);
    }
    workgroupBarrier();
}

// The bin of x, for x in [lo, hi].
fn bin_of(x: f32) -> u32 {
    return min(u32((x - p.lo) * p.scale), p.bins - 1u);
}

// Counts x in its bin: in the workgroup's bins where `in_workgroup`, else in the global histogram.
// NaN fails both comparisons; values outside [lo, hi] are not counted. The `_units` entry points
// pass a literal, so the compiler keeps one side: llvmpipe runs both sides of an `if`, each
// atomic as a loop over the lanes (BENCHMARKS.md has the numbers).
fn hist_count(x: f32, in_workgroup: bool) {
    if (x >= p.lo && x <= p.hi) {
        if (in_workgroup) {
            atomicAdd(&s_hist[bin_of(x)], 1u);
        } else {
            atomicAdd(&hist[bin_of(x)], 1u);
        }
    }
}

// Counts the invocation's run of 16-byte units.
fn hist_units(ids: Ids, in_workgroup: bool) {
    let r = run_of(ids.gid.x, ids.nwg.x);
    for (var i = r.x; i < r.y; i++) {
        let u = bitcast<vec4<f32>>(units[i]);
        hist_count(u.x, in_workgroup);
        hist_count(u.y, in_workgroup);
        hist_count(u.z, in_workgroup);
        hist_count(u.w, in_workgroup);
    }
}

// Adds the workgroup's bins to the global histogram.
fn hist_end(li: u32) {
    workgroupBarrier();
    for (var b = li; b < p.bins && p.bins <= SHARED_BINS; b += WG) {
        let v = atomicLoad(&s_hist[b]);
        if (v != 0u) {
            atomicAdd(&hist[b], v);
        }
    }
}

@compute @workgroup_size(256)
fn histogram(ids: Ids) {
    hist_begin(ids.li);
    for (var i = ids.gid.x; i < p.n; i += stride(ids.nwg.x)) {
        hist_count(bitcast<f32>(src[p.base + i]), p.bins <= SHARED_BINS);
    }
    hist_end(ids.li);
}

// histogram_units for at most SMALL_BINS bins: each invocation counts in registers, 8-bit
// counters packed four to a word, and adds them to the workgroup's bins every 63 units (252
// elements, so no counter overflows) instead of one atomic add per element, which is the
// costly part on CPU adapters. Past 16 bins the packed counters stop paying (BENCHMARKS.md).
const SMALL_BINS: u32 = 16u;

@compute @workgroup_size(256)
fn histogram_units_small(ids: Ids) {
    hist_begin(ids.li);
    var c = vec4<u32>();
    let r = run_of(ids.gid.x, ids.nwg.x);
    var i = r.x;
    loop {
        if (i >= r.y) {
            break;
        }
        let end = min(i + 63u, r.y);
        for (; i < end; i++) {
            let u = bitcast<vec4<f32>>(units[i]);
            for (var e = 0u; e < 4u; e++) {
                let x = u[e];
                let b = bin_of(x);
                let one = select(0u, 1u << (8u * (b & 3u)), x >= p.lo && x <= p.hi);
                let word = vec4<u32>(b >> 2u) == vec4<u32>(0u, 1u, 2u, 3u);
                c += select(vec4<u32>(), vec4<u32>(one), word);
            }
        }
        for (var k = 0u; k < SMALL_BINS; k++) {
            let v = (c[k / 4u] >> (8u * (k % 4u))) & 0xffu;
            if (v != 0u) {
                atomicAdd(&s_hist[k], v);
            }
        }
        c = vec4<u32>();
    }
    hist_end(ids.li);
}

// 17 to SHARED_BINS bins: one workgroup atomic per element.
@compute @workgroup_size(256)
fn histogram_units(ids: Ids) {
    hist_begin(ids.li);
    hist_units(ids, true);
    hist_end(ids.li);
}

// More bins than fit in workgroup memory: one global atomic per element.
@compute @workgroup_size(256)
fn histogram_units_global(ids: Ids) {
    hist_units(ids, false);
}

// Exact NumPy binning of f64 elements (f64 tensors; 64-bit integers are cast to f64 first, as
// np.histogram does): each element's order-preserving key is compared with the bins + 1 f64
// edges' keys (`edges`, from the host's np.linspace), by binary search. Bin b holds
// edges[b] <= x < edges[b + 1], the last bin closed; NaN and values outside the edges are not
// counted; -0.0 counts as 0.0.
@group(0) @binding(5) var<storage, read> edges: array<vec2<u32>>;

fn hist_count_f64(v: vec2<u32>, in_workgroup: bool) {
    if (is_nan(v)) {
        return;
    }
    var bits = v;
    if (bits.x == 0u && bits.y == 0x80000000u) {
        bits = vec2<u32>(0u, 0u);
    }
    let k = key_of(bits);
    if (lt64(k, edges[0]) || lt64(edges[p.bins], k)) {
        return;
    }
    // The largest b below p.bins with edges[b] <= k.
    var lo = 0u;
    var hi = p.bins;
    while (hi - lo > 1u) {
        let mid = (lo + hi) / 2u;
        if (lt64(k, edges[mid])) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if (in_workgroup) {
        atomicAdd(&s_hist[lo], 1u);
    } else {
        atomicAdd(&hist[lo], 1u);
    }
}

@compute @workgroup_size(256)
fn histogram_f64(ids: Ids) {
    hist_begin(ids.li);
    for (var i = ids.gid.x; i < p.n; i += stride(ids.nwg.x)) {
        let k = p.base + i;
        hist_count_f64(vec2<u32>(src[2u * k], src[2u * k + 1u]), p.bins <= SHARED_BINS);
    }
    hist_end(ids.li);
}

@compute @workgroup_size(256)
fn histogram_f64_units(ids: Ids) {
    hist_begin(ids.li);
    let r = run_of(ids.gid.x, ids.nwg.x);
    let in_workgroup = p.bins <= SHARED_BINS;
    for (var i = r.x; i < r.y; i++) {
        let u = units[i];
        hist_count_f64(u.xy, in_workgroup);
        hist_count_f64(u.zw, in_workgroup);
    }
    hist_end(ids.li);
}
