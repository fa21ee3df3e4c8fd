// The probes of the native f64 conversions (cast_native_f64.wgsl). `probe`: each input f64,
// given as (low word, high word), to f32, i32 and u32, each into its own output section.
// `probe_ints`: each input word as i32 and as u32 to f64, two words each. See cast_probe.wgsl.

@group(0) @binding(0) var<storage, read> probe_in: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> probe_out: array<u32>;

@compute @workgroup_size(64)
fn probe(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = arrayLength(&probe_in);
    let i = wid.x * 64u + lid;
    if (i >= n) {
        return;
    }
    let x = probe_in[i];
    probe_out[i] = hw_f64_to_f32(x.x, x.y);
    probe_out[n + i] = hw_f64_to_signed(x.x, x.y, -2147483648.0lf, 2147483647.0lf);
    probe_out[2u * n + i] = hw_f64_to_unsigned(x.x, x.y, 4294967295.0lf);
}

// Here the input is read as pairs of words: both are converted.
@compute @workgroup_size(64)
fn probe_ints(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = arrayLength(&probe_in);
    let i = wid.x * 64u + lid;
    if (i >= n) {
        return;
    }
    let x = probe_in[i];
    for (var k = 0u; k < 2u; k++) {
        let w = select(x.x, x.y, k == 1u);
        let s = hw_i32_to_f64(w);
        let u = hw_u32_to_f64(w);
        let at = 4u * (2u * i + k);
        probe_out[at] = s.x;
        probe_out[at + 1u] = s.y;
        probe_out[at + 2u] = u.x;
        probe_out[at + 3u] = u.y;
    }
}
