//! The adapter's own conversion instructions (`shaders/cast_native.wgsl`), where they are exact.
//!
//! WGSL leaves the rounding of `f32(i32)`, subnormals and parts of `pack2x16float` to the
//! implementation, so the casts are written in integer arithmetic, which is exact everywhere.
//! The instructions are much cheaper where they agree with it: one instruction against a dozen
//! on SIMD adapters. At device creation a probe kernel runs each native function over the
//! inputs where implementations differ (every rounding tie and its neighbours, subnormals,
//! range limits, NaN payloads, plus pseudo-random words) and compares with the CPU reference
//! below; only the functions that match bit for bit are used, the others keep the integer
//! versions. The f64 conversions (f64 → f32, and integers of at most 32 bits to f64 and back)
//! have their own probes, run where the device has SHADER_F64 (and SHADER_INT64, to build the
//! f64 from its words). [`crate::GpuInfo::native_casts`] lists the
//! ones in use, and
//! [`crate::GpuOptions::integer_casts`] turns them off.

use wgpu::util::DeviceExt;

use crate::{Gpu, Result};

/// Which native conversions the device's cast kernels use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Native {
    /// Integers of at most 32 bits to f32 (`f32(x)`).
    pub int_to_f32: bool,
    /// f32 to integers of at most 32 bits (`i32(x)`, `u32(x)` plus fix-ups).
    pub f32_to_int: bool,
    /// f32 to f16 (integer rounding for normal results, the f32 adder for subnormal ones).
    pub f32_to_f16: bool,
    /// f16 to f32 (`unpack2x16float`, with inf and NaN from the bits).
    pub f16_to_f32: bool,
    /// f64 to f32 (`f32(f64)` plus fix-ups), on devices with SHADER_F64 and SHADER_INT64.
    pub f64_to_f32: bool,
    /// Integers of at most 32 bits to f64 and back (`f64(x)`, `i32(x)`, `u32(x)` plus
    /// fix-ups), on the same devices.
    pub f64_int: bool,
}

impl Native {
    /// The conversions in use, for [`crate::GpuInfo::native_casts`].
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.int_to_f32, "int->f32"),
            (self.f32_to_int, "f32->int"),
            (self.f32_to_f16, "f32->f16"),
            (self.f16_to_f32, "f16->f32"),
            (self.f64_to_f32, "f64->f32"),
            (self.f64_int, "int<->f64"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// The WGSL function to call for the integer-only function `name` (of
    /// `shaders/cast_fast.wgsl`).
    pub fn function(self, name: &'static str) -> &'static str {
        match name {
            "int_to_f32" if self.int_to_f32 => "int_to_f32_hw",
            "f32_to_int" if self.f32_to_int => "f32_to_int_hw",
            "f32_to_f16" if self.f32_to_f16 => "f32_to_f16_hw",
            "f16_to_f32" if self.f16_to_f32 => "f16_to_f32_hw",
            "f64_to_f32" if self.f64_to_f32 => "f64_to_f32_hw",
            _ => name,
        }
    }
}

/// The probe kernel's functions in output order, each with its CPU reference (the semantics of
/// [`crate::Tensor::cast`]: Rust `as`, and `half`, which rounds ties to even, with NumPy's NaN
/// for f32 -> f16: sign and payload top bits, unquieted, never an all-zero payload).
const REFERENCE: [fn(u32) -> u32; 8] = [
    |x| (x as i32 as f32).to_bits(),
    |x| (x as f32).to_bits(),
    |x| f32::from_bits(x) as i32 as u32,
    |x| f32::from_bits(x) as u32,
    |x| f32::from_bits(x) as i8 as i32 as u32,
    |x| f32::from_bits(x) as u16 as u32,
    |x| match f32::from_bits(x).is_nan() {
        true => ((x >> 16) & 0x8000) | 0x7c00 | ((x >> 13) & 0x3ff).max(1),
        false => half::f16::from_f32(f32::from_bits(x)).to_bits() as u32,
    },
    // f16 (the low half) widened exactly, a NaN's payload kept as it is.
    |x| {
        let h = x & 0xffff;
        match h & 0x7c00 == 0x7c00 {
            true => ((h & 0x8000) << 16) | 0x7f80_0000 | ((h & 0x3ff) << 13),
            false => half::f16::from_bits(h as u16).to_f32().to_bits(),
        }
    },
];

/// The f64 probe's functions in output order, each with its CPU reference (Rust `as`, and
/// NaN as in [`crate::Tensor::cast`]).
const REFERENCE_F64: [fn(u64) -> u32; 7] = [
    reference_f64,
    |x| f64::from_bits(x) as i32 as u32,
    |x| f64::from_bits(x) as u32,
    // The low word as an i32 and the high word as a u32, to f64: low and high result words.
    |x| (x as u32 as i32 as f64).to_bits() as u32,
    |x| ((x as u32 as i32 as f64).to_bits() >> 32) as u32,
    |x| ((x >> 32) as f64).to_bits() as u32,
    |x| (((x >> 32) as f64).to_bits() >> 32) as u32,
];

/// f64 -> f32: Rust `as`, with NaN as in [`crate::Tensor::cast`].
fn reference_f64(x: u64) -> u32 {
    let f = f64::from_bits(x);
    if f.is_nan() {
        let hi = (x >> 32) as u32;
        (hi & 0x8000_0000) | 0x7fc0_0000 | ((x >> 29) as u32 & 0x3f_ffff)
    } else {
        (f as f32).to_bits()
    }
}

/// Raw bits of floats with `frac` fraction bits and `bits` in all, for every exponent in
/// `exps`: a tie, its even and odd neighbours and the values just around it at each fraction
/// bit, both signs.
fn ties(bits: u32, frac: u32, exps: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    let mask = (1u64 << frac) - 1;
    let sign = 1u64 << (bits - 1);
    let mut v = Vec::new();
    for exp in exps {
        for b in 0..frac {
            let half = 1u64 << b;
            for f in [
                half,
                half | (half << 1),
                half - 1,
                half + 1,
                mask & !(half - 1),
            ] {
                let x = (exp << frac) | (f & mask);
                v.extend([x, x | sign]);
            }
        }
        v.extend([exp << frac, (exp << frac) | mask]);
    }
    v
}

/// The f64 probe inputs: every exponent from below the f32 subnormals to above the largest
/// f32 ([`ties`]); NaN, infinity, zero; pseudo-random bits.
fn inputs_f64() -> Vec<u64> {
    let mut v = ties(64, 52, (1023 - 152)..=(1023 + 129));
    let frac_mask = (1u64 << 52) - 1;
    for x in [
        0,
        1,
        frac_mask,
        0x7ff << 52,
        (0x7ff << 52) | 1,
        (0x7ff << 52) | frac_mask,
    ] {
        v.extend([x, x | (1 << 63)]);
    }
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..4096 {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        v.push(s);
    }
    v
}

/// The probe inputs, as u32 words read both as integers and as f32.
fn inputs() -> Vec<u32> {
    let mut v = Vec::new();
    // As integers: each bit length, with patterns around every rounding position below it
    // (ties with even and odd neighbours, one above and below), both signs.
    for top in 0..32 {
        let t = 1u32 << top;
        for b in 0..top {
            let half = 1u32 << b;
            for x in [
                t | half,
                t | half | (half << 1),
                (t | half) - 1,
                t | half | 1,
            ] {
                v.extend([x, x | (t - 1) & !half, x.wrapping_neg()]);
            }
        }
        v.extend([t, t - 1, t.wrapping_neg(), !t]);
    }
    // As f32: every exponent, with ties at each bit.
    v.extend(ties(32, 23, 0..=255).into_iter().map(|x| x as u32));
    // Every f16 in the low half (f16 -> f32 is checked exhaustively).
    v.extend(0..=0xffff);
    // Pseudo-random words (a fixed LCG).
    let mut s = 0x9e37_79b9u32;
    for _ in 0..4096 {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push(s);
    }
    v
}

/// Runs the probes on `gpu` and returns the native conversions that matched the reference.
/// Any failure (a shader the adapter rejects, a lost device) means none are used.
pub(crate) async fn probe(gpu: &Gpu) -> Native {
    let ok = check(gpu, PROBE_32, &inputs(), &REFERENCE).await;
    let (f64_to_f32, f64_int) = if has_f64(gpu) {
        let ok = check(gpu, PROBE_F64, &inputs_f64(), &REFERENCE_F64).await;
        (ok[0], ok[1..].iter().all(|&o| o))
    } else {
        (false, false)
    };
    Native {
        int_to_f32: ok[0] && ok[1],
        f32_to_int: ok[2] && ok[3] && ok[4] && ok[5],
        f32_to_f16: ok[6],
        f16_to_f32: ok[7],
        f64_to_f32,
        f64_int,
    }
}

/// Whether the device can compile `shaders/cast_native_f64.wgsl`.
pub(crate) fn has_f64(gpu: &Gpu) -> bool {
    let needs = wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
    gpu.device().features().contains(needs)
}

/// Runs the probe `source` over `input` and says, for each of `reference`
/// (one output section each, in order), whether every output matched. The input goes in
/// batches whose buffers fit the device's limits.
async fn check<T: bytemuck::Pod>(
    gpu: &Gpu,
    source: &str,
    input: &[T],
    reference: &[fn(T) -> u32],
) -> Vec<bool> {
    let limits = gpu.limits();
    let limit = limits
        .max_buffer_size
        .min(limits.max_storage_buffer_binding_size);
    let item = (reference.len() * 4).max(std::mem::size_of::<T>()) as u64;
    let batch = ((limit / item) as usize / 64 * 64).max(64);
    let mut ok = vec![true; reference.len()];
    for part in input.chunks(batch) {
        let n = part.len();
        let got = match run(gpu, source, bytemuck::cast_slice(part), n, reference.len()).await {
            Ok(got) => got,
            Err(_) => return vec![false; reference.len()],
        };
        for (k, f) in reference.iter().enumerate() {
            ok[k] &= part.iter().zip(&got[k * n..]).all(|(&x, &y)| f(x) == y);
        }
    }
    ok
}

/// The 32-bit probe's WGSL: every function of [`REFERENCE`], each into its own output section.
const PROBE_32: &str = concat!(
    include_str!("../../shaders/cast_native.wgsl"),
    include_str!("../../shaders/cast_probe.wgsl"),
    include_str!("../../shaders/cast_probe_32.wgsl")
);

/// The f64 probes' WGSL.
const PROBE_F64: &str = concat!(
    include_str!("../../shaders/cast_native_f64.wgsl"),
    include_str!("../../shaders/cast_probe.wgsl"),
    include_str!("../../shaders/cast_probe_f64.wgsl")
);

/// Runs the probe kernel of `source` over `n` input items (`input`'s bytes) and returns its
/// `sections` output words per item.
async fn run(gpu: &Gpu, source: &str, input: &[u8], n: usize, sections: usize) -> Result<Vec<u32>> {
    let device = gpu.device();
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("tensorbridge cast probe"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("tensorbridge cast probe"),
        layout: None,
        module: &module,
        entry_point: Some("probe"),
        compilation_options: Default::default(),
        cache: None,
    });
    let src = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("tensorbridge cast probe in"),
        contents: input,
        usage: wgpu::BufferUsages::STORAGE,
    });
    let bytes = (sections * n * 4) as u64;
    let buffer = |usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensorbridge cast probe out"),
            size: bytes,
            usage,
            mapped_at_creation: false,
        })
    };
    let out = buffer(wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let read = buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: src.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(n.div_ceil(64) as u32, 1, 1);
    }
    enc.copy_buffer_to_buffer(&out, 0, &read, 0, bytes);
    gpu.queue().submit([enc.finish()]);
    if let Some(e) = scope.pop().await {
        return Err(crate::Error::scope("the cast probe", e));
    }
    super::sync::map(gpu, read.slice(..), wgpu::MapMode::Read).await?;
    let view = read
        .slice(..)
        .get_mapped_range()
        .map_err(crate::Error::map)?;
    // The mapping is 4-byte aligned, but copy rather than rely on it.
    Ok(bytemuck::pod_collect_to_vec(&view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_cover_every_rounding_position() {
        let input = inputs();
        // i32/u32 -> f32: the tie below the last kept bit, with an even and an odd neighbour,
        // for every bit length that rounds.
        for top in 24..32 {
            let (t, half) = (1u32 << top, 1u32 << (top - 24));
            for x in [t | half, t | half | (half << 1)] {
                assert!(input.contains(&x), "{x:#x}");
                assert!(input.contains(&x.wrapping_neg()), "-{x:#x}");
            }
        }
        // f32 -> f16: 1.5 and 2.5 times the smallest subnormal (2^-24) are ties.
        for x in [(103 << 23) | 0x400000, (104 << 23) | 0x200000] {
            assert!(input.contains(&x), "{x:#x}");
        }
        assert!(input.len().div_ceil(64) <= 65535);
    }

    /// The first probe input where `model` differs from reference `k`, if any.
    fn caught(k: usize, model: impl Fn(u32) -> u32) -> bool {
        inputs().into_iter().any(|x| model(x) != REFERENCE[k](x))
    }

    /// f32 rounding of an exact value given as f64, toward zero.
    fn f32_toward_zero(v: f64) -> f32 {
        let r = v as f32;
        if (r as f64).abs() > v.abs() {
            f32::from_bits(r.to_bits() - 1)
        } else {
            r
        }
    }

    #[test]
    fn probe_catches_the_ways_adapters_differ() {
        // Conversions that round toward zero.
        assert!(caught(0, |x| f32_toward_zero(x as i32 as f64).to_bits()));
        assert!(caught(1, |x| f32_toward_zero(x as f64).to_bits()));
        // u32 -> f32 rounding twice (through the nearest value with 25 significant bits).
        assert!(caught(1, |x| {
            let s = (32 - x.leading_zeros()).saturating_sub(25);
            let (x, half) = (x as u64, (1u64 << s) >> 1);
            let up = s > 0
                && (x & ((1 << s) - 1) > half || (x & ((1 << s) - 1) == half && (x >> s) & 1 == 1));
            ((((x >> s) + up as u64) << s) as f32).to_bits()
        }));
        // Float -> int: the clamp WGSL specifies instead of Rust's saturation; NaN -> i32::MIN
        // (x86's "integer indefinite").
        assert!(caught(2, |x| {
            let f = f32::from_bits(x).clamp(-2147483648.0, 2147483520.0);
            f as i32 as u32
        }));
        assert!(caught(2, |x| match f32::from_bits(x) {
            f if f.is_nan() => 0x8000_0000,
            f => f as i32 as u32,
        }));
        // f32 -> f16 flushing subnormal results to zero, or rounding toward zero.
        assert!(caught(6, |x| {
            let h = half::f16::from_f32(f32::from_bits(x)).to_bits();
            (if h & 0x7c00 == 0 { h & 0x8000 } else { h }) as u32
        }));
        assert!(caught(6, |x| {
            let f = f32::from_bits(x);
            let h = half::f16::from_f32(f);
            let back = h.to_f32();
            let toward_zero = if f.is_finite() && back.abs() > f.abs() {
                h.to_bits() - 1
            } else {
                h.to_bits()
            };
            toward_zero as u32
        }));
        // f16 -> f32 flushing subnormal inputs to zero, or quieting NaN (x86's F16C does).
        assert!(caught(7, |x| {
            let h = (x & 0xffff) as u16;
            let f = half::f16::from_bits(h).to_f32();
            if h & 0x7c00 == 0 {
                f.to_bits() & 0x8000_0000
            } else {
                REFERENCE[7](x)
            }
        }));
        assert!(caught(7, |x| {
            match x & 0x7c00 == 0x7c00 && x & 0x3ff != 0 {
                true => REFERENCE[7](x) | 0x40_0000,
                false => REFERENCE[7](x),
            }
        }));
        // f32 -> f16 with only the subnormal results (the f32 adder's part) rounded toward
        // zero.
        assert!(caught(6, |x| {
            let f = f32::from_bits(x);
            let h = half::f16::from_f32(f);
            let up = h.to_f32().abs() > f.abs() && h.to_bits() & 0x7c00 == 0;
            (h.to_bits() - up as u16) as u32
        }));
        // f64 -> f32 flushing subnormal results, rounding toward zero, or saturating at the
        // largest f32 instead of overflowing to infinity.
        let caught_f64 = |model: &dyn Fn(u64) -> u32| {
            inputs_f64()
                .into_iter()
                .any(|x| model(x) != reference_f64(x))
        };
        assert!(caught_f64(&|x| {
            let r = reference_f64(x);
            if r & 0x7f80_0000 == 0 {
                r & 0x8000_0000
            } else {
                r
            }
        }));
        assert!(caught_f64(&|x| {
            let f = f64::from_bits(x);
            let r = f as f32;
            if f.is_finite() && (r as f64).abs() > f.abs() {
                r.to_bits() - 1
            } else {
                reference_f64(x)
            }
        }));
        assert!(caught_f64(&|x| {
            let f = f64::from_bits(x);
            if f.is_finite() && (f as f32).is_infinite() {
                f32::MAX.copysign(f as f32).to_bits()
            } else {
                reference_f64(x)
            }
        }));
        // f64 -> i32 with x86's NaN -> i32::MIN, or saturating at the largest f32 below 2^31
        // (as a clamp in f32 would).
        let caught_i32 = |model: &dyn Fn(u64) -> u32| {
            inputs_f64()
                .into_iter()
                .any(|x| model(x) != REFERENCE_F64[1](x))
        };
        assert!(caught_i32(&|x| match f64::from_bits(x) {
            f if f.is_nan() => 0x8000_0000,
            f => f as i32 as u32,
        }));
        assert!(caught_i32(&|x| {
            f64::from_bits(x).clamp(-2147483648.0, 2147483520.0) as i32 as u32
        }));
        // Integers -> f64 through f32 (rounding above 2^24).
        let low = |x: u64| x as u32 as i32;
        assert!(
            inputs_f64()
                .into_iter()
                .any(|x| (low(x) as f32 as f64).to_bits() as u32 != REFERENCE_F64[3](x))
        );
        let high = |x: u64| (x >> 32) as u32;
        assert!(
            inputs_f64()
                .into_iter()
                .any(|x| ((high(x) as f32 as f64).to_bits() >> 32) as u32 != REFERENCE_F64[6](x))
        );
        // NaN payloads lost (lavapipe's pack2x16float gives 0x7e00 for every NaN).
        assert!(caught(6, |x| {
            let f = f32::from_bits(x);
            if f.is_nan() {
                ((x >> 16) & 0x8000) | 0x7e00
            } else {
                half::f16::from_f32(f).to_bits() as u32
            }
        }));
    }
}
