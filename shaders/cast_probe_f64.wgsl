// Items of the f64 probe (cast_probe.wgsl): an f64 as (low word, high word), converted to f32,
// i32 and u32; and its low word as an i32 and its high word as a u32, each converted to f64
// (two output words each, in two sections).
const PROBE_WORDS: u32 = 2u;

fn probe_item(i: u32, n: u32) {
    let lo = probe_in[2u * i];
    let hi = probe_in[2u * i + 1u];
    probe_out[i] = hw_f64_to_f32(lo, hi);
    probe_out[n + i] = hw_f64_to_signed(lo, hi, -2147483648.0lf, 2147483647.0lf);
    probe_out[2u * n + i] = hw_f64_to_unsigned(lo, hi, 4294967295.0lf);
    let s = hw_i32_to_f64(lo);
    let u = hw_u32_to_f64(hi);
    probe_out[3u * n + i] = s.x;
    probe_out[4u * n + i] = s.y;
    probe_out[5u * n + i] = u.x;
    probe_out[6u * n + i] = u.y;
}
