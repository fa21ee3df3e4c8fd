//! All 169 (source, target) casts on every adapter present, bit-exact against the CPU reference.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::OnceLock;

use common::reference::cast_bits;
use common::{Rng, bits_from_bytes, bytes_of, cast_inputs, gpus};
use proptest::prelude::*;
use tensorbridge::{DType, Gpu};

fn all_gpus() -> &'static [(String, Gpu)] {
    static G: OnceLock<Vec<(String, Gpu)>> = OnceLock::new();
    G.get_or_init(gpus)
}

fn check_pair(name: &str, gpu: &Gpu, from: DType, to: DType, src: &[u64]) -> Result<(), String> {
    let t = gpu
        .upload_bytes(&bytes_of(from, src), from, &[src.len()])
        .map_err(|e| e.to_string())?;
    let out = t.cast(to).map_err(|e| e.to_string())?;
    assert_eq!(out.dtype(), to);
    assert_eq!(out.shape(), &[src.len()]);
    let got = bits_from_bytes(
        to.size_in_bytes(),
        &out.to_bytes().map_err(|e| e.to_string())?,
    );
    for (i, (&s, &g)) in src.iter().zip(&got).enumerate() {
        let want = cast_bits(from, to, s);
        if g != want {
            return Err(format!(
                "{name}: {from} -> {to} element {i}: input {s:#x} gave {g:#x}, reference {want:#x}"
            ));
        }
    }
    Ok(())
}

#[test]
fn all_169_pairs_bit_exact_on_every_adapter() {
    let mut failures = Vec::new();
    for (name, gpu) in all_gpus() {
        for (i, from) in DType::ALL.into_iter().enumerate() {
            let src = cast_inputs(from, 42 + i as u64);
            for to in DType::ALL {
                if let Err(e) = check_pair(name, gpu, from, to, &src) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

// The native conversions are in use where the probe passed, so the tests above cover them: on
// CI's lavapipe and llvmpipe GL (Mesa 22.3) all of them pass. Elsewhere an adapter may fail the
// probe; it then casts with integer arithmetic, which the tiny-chunk variants cover.
#[test]
fn native_conversions_where_the_probe_passed() {
    for (name, gpu) in all_gpus() {
        let native = &gpu.info().native_casts;
        println!("{name}: native {native:?}");
        if name.contains("integer casts") {
            assert!(native.is_empty(), "{name}: {native:?}");
        } else if std::env::var_os("CI").is_some() && name.contains("llvmpipe") {
            let mut want = vec!["int->f32", "f32->int", "f32->f16", "f16->f32"];
            if name.starts_with("Vulkan") {
                // lavapipe has SHADER_F64; llvmpipe GL has no f64 in wgpu.
                want.extend(["f64->f32", "int<->f64"]);
            }
            assert_eq!(native, &want, "{name}");
        }
    }
}

#[test]
fn empty_and_0d_casts() {
    for (name, gpu) in all_gpus() {
        let e = gpu.upload_bytes(&[], DType::F64, &[0, 3]).unwrap();
        let c = e.cast(DType::U8).unwrap();
        assert_eq!(c.shape(), &[0, 3], "{name}");
        assert_eq!(c.to_array::<u8>().unwrap().len(), 0);
        let s = gpu.upload(&ndarray::arr0(-2.5f32)).unwrap();
        let c = s.cast(DType::I16).unwrap();
        assert_eq!(c.shape(), &[] as &[usize]);
        assert_eq!(c.to_array::<i16>().unwrap()[[] as [usize; 0]], -2, "{name}");
        assert_eq!(s.to_array_as::<f64>().unwrap()[[] as [usize; 0]], -2.5);
    }
}

#[test]
fn upload_as_and_read_as() {
    for (name, gpu) in all_gpus() {
        let a = ndarray::arr2(&[[1i64, -1], [1 << 40, i64::MIN]]);
        let t = gpu.upload_as(&a.t(), DType::F32).unwrap();
        let want = a.t().mapv(|x| x as f32);
        assert_eq!(t.to_array::<f32>().unwrap(), want.into_dyn(), "{name}");
        let back = pollster::block_on(t.read_as::<i64>()).unwrap();
        assert_eq!(back, a.t().mapv(|x| x as f32 as i64).into_dyn(), "{name}");
    }
}

// The floor makes the vector kernel's loads and stores without converting: for a pair of the
// same size, a tensor that fills whole invocations comes out with the source's bytes.
#[cfg(feature = "profiling")]
#[test]
fn cast_floor_moves_the_bytes_without_converting() {
    let n = 1 << 12;
    let mut rng = Rng(7);
    for (name, gpu) in all_gpus() {
        for from in DType::ALL {
            let mask = if from == DType::Bool { 1 } else { 0xff };
            let bytes: Vec<u8> = (0..n * from.size_in_bytes())
                .map(|_| rng.next() as u8 & mask)
                .collect();
            let t = gpu.upload_bytes(&bytes, from, &[4, n / 4]).unwrap();
            for to in DType::ALL {
                let f = t.cast_floor(to).unwrap();
                assert_eq!((f.dtype(), f.shape()), (to, t.shape()), "{name}");
                if from.size_in_bytes() == to.size_in_bytes() {
                    assert_eq!(f.to_bytes().unwrap(), bytes, "{name}: {from} -> {to}");
                }
            }
        }
    }
}

// The reference itself, against independent implementations: Rust `as` (round to nearest even
// for int -> float and f64 -> f32) and the `half` crate (f32 -> f16 / bf16).
#[test]
fn reference_agrees_with_rust_and_half() {
    let mut rng = Rng(7);
    for _ in 0..200_000 {
        let b = rng.next();
        let shift = (b >> 58) as u32;
        let i = (b as i64) >> shift;
        assert_eq!(
            cast_bits(DType::I64, DType::F32, i as u64),
            (i as f32).to_bits() as u64
        );
        assert_eq!(
            cast_bits(DType::U64, DType::F64, b >> shift),
            ((b >> shift) as f64).to_bits()
        );
        let f = f64::from_bits(b);
        if !f.is_nan() {
            assert_eq!(
                cast_bits(DType::F64, DType::F32, b),
                (f as f32).to_bits() as u64,
                "{f:e}"
            );
            let x = f32::from_bits(b as u32);
            if !x.is_nan() {
                let h = tensorbridge::f16::from_f32(x).to_bits() as u64;
                assert_eq!(
                    cast_bits(DType::F32, DType::F16, x.to_bits() as u64),
                    h,
                    "{x:e}"
                );
                let bf = tensorbridge::bf16::from_f32(x).to_bits() as u64;
                assert_eq!(
                    cast_bits(DType::F32, DType::BF16, x.to_bits() as u64),
                    bf,
                    "{x:e}"
                );
            }
        }
    }
    // f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 is just above a tie, so it rounds up; going
    // through f32 first would land on the tie and round down to even.
    let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
    assert_eq!(cast_bits(DType::F64, DType::F16, x.to_bits()), 0x3c01);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random bit patterns through every pair on each adapter's default configuration.
    #[test]
    fn random_bit_patterns(bits in proptest::collection::vec(any::<u64>(), 1..80)) {
        let mut seen = std::collections::HashSet::new();
        for (name, gpu) in all_gpus() {
            if !seen.insert(gpu.info().name.clone()) {
                continue;
            }
            for from in DType::ALL {
                let w = from.bits();
                let mask = if from == DType::Bool { 1 } else if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
                let src: Vec<u64> = bits.iter().map(|b| b & mask).collect();
                for to in DType::ALL {
                    if let Err(e) = check_pair(name, gpu, from, to, &src) {
                        prop_assert!(false, "{}", e);
                    }
                }
            }
        }
    }
}
