// 64-bit unsigned integers as vec2<u32>: x = low word, y = high word.
// WGSL shift amounts wrap modulo 32, so every shift below branches on the amount.

fn bit64(s: u32) -> vec2<u32> {
    if (s < 32u) { return vec2<u32>(1u << s, 0u); }
    return vec2<u32>(0u, 1u << (s - 32u));
}

// The low `n` bits set, n in 0..=64.
fn mask64(n: u32) -> vec2<u32> {
    if (n == 0u) { return vec2<u32>(0u); }
    if (n < 32u) { return vec2<u32>((1u << n) - 1u, 0u); }
    if (n == 32u) { return vec2<u32>(0xffffffffu, 0u); }
    if (n < 64u) { return vec2<u32>(0xffffffffu, (1u << (n - 32u)) - 1u); }
    return vec2<u32>(0xffffffffu);
}

fn shl64(v: vec2<u32>, s: u32) -> vec2<u32> {
    if (s == 0u) { return v; }
    if (s < 32u) { return vec2<u32>(v.x << s, (v.y << s) | (v.x >> (32u - s))); }
    if (s < 64u) { return vec2<u32>(0u, v.x << (s - 32u)); }
    return vec2<u32>(0u);
}

fn shr64(v: vec2<u32>, s: u32) -> vec2<u32> {
    if (s == 0u) { return v; }
    if (s < 32u) { return vec2<u32>((v.x >> s) | (v.y << (32u - s)), v.y >> s); }
    if (s < 64u) { return vec2<u32>(v.y >> (s - 32u), 0u); }
    return vec2<u32>(0u);
}

fn is_zero64(v: vec2<u32>) -> bool {
    return (v.x | v.y) == 0u;
}

// Leading zeros; 64 for zero.
fn clz64(v: vec2<u32>) -> u32 {
    if (v.y != 0u) { return countLeadingZeros(v.y); }
    return 32u + countLeadingZeros(v.x);
}

// Bit `s` (0..=63) of v.
fn test64(v: vec2<u32>, s: u32) -> bool {
    if (s < 32u) { return ((v.x >> s) & 1u) == 1u; }
    return ((v.y >> (s - 32u)) & 1u) == 1u;
}

// Any of the low `n` bits set (n in 0..=64).
fn any_low64(v: vec2<u32>, n: u32) -> bool {
    return !is_zero64(v & mask64(n));
}

// Two's-complement negation.
fn neg64(v: vec2<u32>) -> vec2<u32> {
    let lo = ~v.x + 1u;
    return vec2<u32>(lo, ~v.y + select(0u, 1u, lo == 0u));
}

fn inc64(v: vec2<u32>) -> vec2<u32> {
    let lo = v.x + 1u;
    return vec2<u32>(lo, v.y + select(0u, 1u, lo == 0u));
}

// Sign-extends the low `bits` bits (8, 16, 32 or 64) to 64 bits.
fn sext64(v: vec2<u32>, bits: u32) -> vec2<u32> {
    if (bits >= 64u) { return v; }
    let lo = u32(i32(v.x << (32u - bits)) >> (32u - bits));
    return vec2<u32>(lo, select(0u, 0xffffffffu, (lo >> 31u) == 1u));
}
