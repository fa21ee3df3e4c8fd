//! Helpers shared by the integration tests: every adapter present, random bits, comparisons.
#![allow(dead_code)]

pub mod reference;

use reference::{cast_bits, interesting_f64, interesting_ints};
use tensorbridge::{DType, Element};
#[cfg(not(target_arch = "wasm32"))]
use tensorbridge::{Gpu, GpuOptions, TransferPath};

/// One `Gpu` per adapter on this machine with its default path, plus, where the adapter allows,
/// the other transfer paths and a tiny-chunk configuration that forces chunking. The tiny-chunk
/// one also casts with integer arithmetic only, so both the adapter's native conversions (where
/// its probe passed) and the integer ones go through every test.
///
/// Under CI (`CI` set), both lavapipe (Vulkan) and llvmpipe (GL) must be present, so a missing
/// driver fails the tests instead of skipping them.
#[cfg(not(target_arch = "wasm32"))]
pub fn gpus() -> Vec<(String, Gpu)> {
    let mut out = Vec::new();
    let adapters = Gpu::adapters();
    if std::env::var_os("CI").is_some() {
        let has = |b| adapters.iter().any(|a| a.backend == b);
        assert!(
            has(tensorbridge::wgpu::Backend::Vulkan),
            "CI needs lavapipe: {adapters:?}"
        );
        assert!(
            has(tensorbridge::wgpu::Backend::Gl),
            "CI needs llvmpipe GL: {adapters:?}"
        );
    }
    assert!(!adapters.is_empty(), "no adapter at all");
    for a in &adapters {
        let base = GpuOptions {
            backend: Some(a.backend),
            adapter_name: Some(a.name.clone()),
            ..Default::default()
        };
        let mut variants = vec![("default", base.clone())];
        let mappable = a
            .features
            .contains(tensorbridge::wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
        for (label, path) in [
            ("staged", TransferPath::Staged),
            ("queue", TransferPath::Web),
        ] {
            if mappable {
                variants.push((
                    label,
                    GpuOptions {
                        path: Some(path),
                        ..base.clone()
                    },
                ));
            }
        }
        variants.push((
            "tiny-chunks, integer casts",
            GpuOptions {
                max_chunk_bytes: Some(512),
                integer_casts: true,
                ..base.clone()
            },
        ));
        for (label, o) in variants {
            let gpu = Gpu::with_options(o).expect("open adapter");
            let name = format!(
                "{:?} {} [{label}, {:?}]",
                a.backend,
                a.name,
                gpu.info().path
            );
            out.push((name, gpu));
        }
    }
    out
}

/// The quantization rule of the kernels: x times the reciprocal of the scale, rounded half to
/// even, plus the zero point, saturated; NaN gives the zero point.
pub fn quantize_ref(x: f32, s: f32, z: i32, qt: tensorbridge::QType) -> i32 {
    let (qmin, qmax) = if qt == tensorbridge::QType::I8 {
        (-128.0, 127.0)
    } else {
        (0.0, 255.0)
    };
    if x.is_nan() {
        return z;
    }
    ((x * (1.0 / s)).round_ties_even() + z as f32).clamp(qmin, qmax) as i32
}

/// The histogram rule of the kernels, in the same f32 arithmetic.
pub fn reference_hist(xs: &[f32], bins: usize, lo: f64, hi: f64) -> Vec<u64> {
    let (lo, hi) = (lo as f32, hi as f32);
    let scale = bins as f32 / (hi - lo);
    let mut counts = vec![0; bins];
    for &x in xs {
        if x >= lo && x <= hi {
            counts[(((x - lo) * scale) as usize).min(bins - 1)] += 1;
        }
    }
    counts
}

/// SplitMix64: deterministic random bits.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Elements of `T` from raw little-endian bit patterns (bool keeps only bit 0).
pub fn from_bits<T: Element>(bits: &[u64]) -> Vec<T> {
    let size = std::mem::size_of::<T>();
    let bytes: Vec<u8> = bits
        .iter()
        .flat_map(|b| {
            let b = if T::DTYPE == tensorbridge::DType::Bool {
                b & 1
            } else {
                *b
            };
            b.to_le_bytes()[..size].to_vec()
        })
        .collect();
    // Element by element: a Vec<u8> need not be aligned for T.
    bytes
        .chunks(size)
        .map(bytemuck::checked::pod_read_unaligned::<T>)
        .collect()
}

/// Raw bits of elements, zero-extended.
pub fn to_bits<T: Element>(values: &[T]) -> Vec<u64> {
    bits_from_bytes(
        std::mem::size_of::<T>(),
        bytemuck::cast_slice::<T, u8>(values),
    )
}

/// Raw bits of `size`-byte little-endian elements, zero-extended.
pub fn bits_from_bytes(size: usize, bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(size)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(c);
            u64::from_le_bytes(b)
        })
        .collect()
}

/// Random raw bit patterns plus patterns that matter for every width: zero, all ones, sign bits,
/// signalling and quiet NaNs with payloads, subnormal and normal extremes.
pub fn edge_and_random_bits(n_random: usize, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = vec![
        0,
        1,
        2,
        0x7f,
        0x80,
        0xff,
        0x7fff,
        0x8000,
        0xffff,
        0x7c00,
        0xfc00,
        0x7c01,
        0xfc01,
        0x7e00,
        0x7dff,
        0x7f80,
        0xff80,
        0x7f81,
        0xffc1,
        0x03ff,
        0x0400,
        0x7bff,
        0x007f,
        0x0080,
        0x7f80_0000,
        0xff80_0000,
        0x7f80_0001,
        0xffc0_0001,
        0x7fbf_ffff,
        0x007f_ffff,
        0x0080_0000,
        0x7f7f_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x7fff_ffff,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x7ff0_0000_0000_0001,
        0xfff8_0000_dead_beef,
        0x7ff7_ffff_ffff_ffff,
        0x000f_ffff_ffff_ffff,
        0x0010_0000_0000_0000,
        0x7fef_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        0xffff_ffff_ffff_ffff,
        0x7fff_ffff_ffff_ffff,
    ];
    let mut rng = Rng(seed);
    v.extend((0..n_random).map(|_| rng.next()));
    v
}

/// Little-endian bytes of `d` elements given as zero-extended bits.
pub fn bytes_of(d: DType, bits: &[u64]) -> Vec<u8> {
    let size = d.size_in_bytes();
    bits.iter()
        .flat_map(|b| b.to_le_bytes()[..size].to_vec())
        .collect()
}

/// Source patterns for dtype `d`: raw edge patterns, random bits, interesting floats rounded into
/// `d`, and interesting integers wrapped into `d`.
pub fn cast_inputs(d: DType, seed: u64) -> Vec<u64> {
    let mut bits: Vec<u64> = edge_and_random_bits(300, seed)
        .into_iter()
        .map(|b| valid_bits(d, b))
        .collect();
    if d != DType::Bool {
        bits.extend(
            interesting_f64()
                .into_iter()
                .map(|f| cast_bits(DType::F64, d, f.to_bits())),
        );
        bits.extend(
            interesting_ints()
                .into_iter()
                .map(|i| valid_bits(d, i as u128 as u64)),
        );
    }
    bits
}

/// `bits` cut to a valid pattern of `d`: the low `d.bits()` bits, or bit 0 for bool.
pub fn valid_bits(d: DType, bits: u64) -> u64 {
    match d.bits() {
        _ if d == DType::Bool => bits & 1,
        64 => bits,
        w => bits & ((1u64 << w) - 1),
    }
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tb-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every bad fixture in `tests/fixtures/bad` and a word its error must contain.
pub const BAD_FIXTURES: &[(&str, &str)] = &[
    ("truncated.npy", "truncated"),
    ("header_lies.npy", "does not match"),
    ("huge_header.npy", "limit"),
    ("object.npy", "object"),
    ("structured.npy", "structured"),
    ("complex.npy", "unknown"),
    ("overflow.npy", "overflow"),
    ("bf16_void.npy", "bfloat16"),
    ("bad_bool.npy", "bool"),
    ("not_npy.npy", "not an .npy"),
    ("offsets_out_of_range.safetensors", "incomplete"),
    ("offsets_overlap.safetensors", "offset"),
    ("unsupported_dtype.safetensors", "f8_e4m3"),
    ("header_garbage.safetensors", "header"),
    ("not_npy_entry.npz", "not an .npy"),
    ("truncated.npz", "zip"),
];
