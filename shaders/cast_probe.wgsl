// The probe kernels of the native conversions (src/runtime/native.rs): every input item through
// each function under test, each function's results in their own section of the output. The
// host compares them with the CPU reference and enables only the functions that match bit for
// bit. Each probe module adds the functions under test and its items: cast_probe_32.wgsl or
// cast_probe_f64.wgsl, which define PROBE_WORDS (input words per item) and `probe_item`.

@group(0) @binding(0) var<storage, read> probe_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> probe_out: array<u32>;

@compute @workgroup_size(64)
fn probe(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let n = arrayLength(&probe_in) / PROBE_WORDS;
    let i = wid.x * 64u + lid;
    if (i < n) {
        probe_item(i, n);
    }
}
