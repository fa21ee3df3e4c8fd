// The probe of the native f64 -> f32 conversion (cast_native_f64.wgsl): one output word per
// input f64, given as (low word, high word). See cast_probe.wgsl.

@group(0) @binding(0) var<storage, read> probe_in: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> probe_out: array<u32>;

@compute @workgroup_size(64)
fn probe(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = wid.x * 64u + lid;
    if (i >= arrayLength(&probe_in)) {
        return;
    }
    let x = probe_in[i];
    probe_out[i] = hw_f64_to_f32(x.x, x.y);
}
