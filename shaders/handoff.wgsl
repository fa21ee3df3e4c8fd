// The last, partial word of a tensor's bytes written into a caller's buffer (Tensor::copy_to_buffer,
// Gpu::upload_into), leaving the bytes after the tensor untouched: copy_buffer_to_buffer moves
// whole words only. `struct TailParams` is declared in src/transfer/handoff.rs.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> p: TailParams;

fn merge(v: u32) {
    dst[p.dst_word] = (dst[p.dst_word] & ~p.mask) | (v & p.mask);
}

// The bytes come from the tensor's own last word.
@compute @workgroup_size(1)
fn tail_from_buffer() {
    merge(src[p.src_word]);
}

// The bytes come from the host, in the parameters.
@compute @workgroup_size(1)
fn tail_from_params() {
    merge(p.value);
}
