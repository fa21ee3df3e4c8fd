// The vector kernel of the casts. Per pair, Rust (src/ops/cast/vector.rs) generates the word type `W`
// (u64 where the adapter has SHADER_INT64, else u32), the unit types SrcUnit and DstUnit (W,
// vec2<W> or vec4<W>), IN_UNITS, OUT_UNITS and `convert_units`, which loads IN_UNITS units of
// source, converts every element in them and stores OUT_UNITS whole units. Wide loads and stores
// matter most on CPU adapters, where each one costs about the same whatever its width.

@group(0) @binding(0) var<storage, read> src: array<SrcUnit>;
@group(0) @binding(1) var<storage, read_write> dst: array<DstUnit>;
@group(0) @binding(2) var<uniform> params: CastParams;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let inv = (wid.y * params.row + wid.x) * WG + lid;
    if (inv < params.n) {
        convert_units(params.src_base + inv * IN_UNITS, params.dst_base + inv * OUT_UNITS);
    }
}

// `x`, computed in full before it is stored. llvmpipe (lavapipe, GL) stores a vector of
// invocations one lane at a time, and LLVM then moves the arithmetic that packs the target words
// (and the end of each conversion, as far back as it can) into that per-lane loop, where it runs
// once per lane with a stack spill per operand. A select on a condition LLVM cannot know (it is
// false wherever this runs: `n` counts the invocations, and one is running) stops that
// (BENCHMARKS.md, "Casts").
fn kept(x: DstUnit) -> DstUnit {
    return select(x, DstUnit(), params.n == 0u);
}
