// Items of the 32-bit probe (cast_probe.wgsl): one word, read as an integer and as an f32.
const PROBE_WORDS: u32 = 1u;

fn probe_item(i: u32, n: u32) {
    let x = probe_in[i];
    probe_out[i] = hw_i32_to_f32(x);
    probe_out[n + i] = hw_u32_to_f32(x);
    probe_out[2u * n + i] = hw_f32_to_i32(x);
    probe_out[3u * n + i] = hw_f32_to_u32(x);
    probe_out[4u * n + i] = hw_f32_to_small_int(x, -128.0, 127.0);
    probe_out[5u * n + i] = hw_f32_to_small_int(x, 0.0, 65535.0);
    probe_out[6u * n + i] = hw_f32_to_f16(x);
    probe_out[7u * n + i] = hw_f16_to_f32(x);
}
