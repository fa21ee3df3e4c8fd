// The probe of the native conversions (cast_native.wgsl): each function applied to every input
// word, written to its own section of the output. src/cast/native.rs compares the result with
// the CPU reference and enables only the functions that match bit for bit.

@group(0) @binding(0) var<storage, read> probe_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> probe_out: array<u32>;

@compute @workgroup_size(64)
fn probe(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = arrayLength(&probe_in);
    let i = wid.x * 64u + lid;
    if (i >= n) {
        return;
    }
    let x = probe_in[i];
    probe_out[i] = hw_i32_to_f32(x);
    probe_out[n + i] = hw_u32_to_f32(x);
    probe_out[2u * n + i] = hw_f32_to_i32(x);
    probe_out[3u * n + i] = hw_f32_to_u32(x);
    probe_out[4u * n + i] = hw_f32_to_small_int(x, -128.0, 127.0);
    probe_out[5u * n + i] = hw_f32_to_small_int(x, 0.0, 65535.0);
    probe_out[6u * n + i] = hw_f32_to_f16(x);
}
