//! Quantization on the device against an independent CPU reference of the documented formulas:
//! parameters, codes and dequantized values must match bit for bit, on every adapter and path.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Rng, gpus, quantize_ref};
use ndarray::{ArrayD, IxDyn};
use tensorbridge::{DType, Error, Gpu, QScheme, QType, QuantSpec};

/// Channel index of every element for `axis` (None: all 0).
fn channel_of(shape: &[usize], axis: Option<usize>, i: usize) -> usize {
    match axis {
        None => 0,
        Some(k) => (i / shape[k + 1..].iter().product::<usize>()) % shape[k],
    }
}

/// The documented parameter rule, written again here.
fn params(qt: QType, scheme: QScheme, lo: f32, hi: f32) -> (f32, i32) {
    let (qmin, qmax) = if qt == QType::I8 {
        (-128, 127)
    } else {
        (0, 255)
    };
    let fix = |s: f32| if s > 0.0 && s.is_finite() { s } else { 1.0 };
    match scheme {
        QScheme::Affine => {
            let (lo, hi) = (lo.min(0.0), hi.max(0.0));
            let s = fix((hi - lo) / (qmax - qmin) as f32);
            let z = (qmin as f32 - (lo / s).round_ties_even()).clamp(qmin as f32, qmax as f32);
            (s, z as i32)
        }
        QScheme::Symmetric => {
            let s = fix(lo.abs().max(hi.abs()) / 127.0);
            (s, if qt == QType::I8 { 0 } else { 128 })
        }
    }
}

fn data(shape: &[usize], seed: u64, edges: bool) -> ArrayD<f32> {
    let mut rng = Rng(seed);
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n)
        .map(|i| {
            let u = (rng.next() >> 40) as f32 / (1u64 << 24) as f32;
            (u * 2.0 - 1.0) * (1 + i % 5) as f32 * 3.0
        })
        .collect();
    if edges && n > 8 {
        let specials = [f32::NAN, -0.0, 0.0, 1e-40, -7.5, 7.5, 0.5, -0.5];
        for (i, s) in specials.iter().enumerate() {
            v[i * (n / 8)] = *s;
        }
    }
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

fn check(name: &str, gpu: &Gpu, x: &ArrayD<f32>, spec: &QuantSpec) {
    let shape = x.shape();
    let t = gpu.upload(x).unwrap();
    let q = t.quantize(spec).unwrap();
    let channels = spec.axis.map_or(1, |k| shape[k]);
    let flat: Vec<f32> = x.iter().copied().collect();
    // Reference min/max per channel (NaN skipped), then parameters.
    let mut mm = vec![(f32::INFINITY, f32::NEG_INFINITY); channels];
    for (i, &v) in flat.iter().enumerate() {
        if !v.is_nan() {
            let c = &mut mm[channel_of(shape, spec.axis, i)];
            *c = (c.0.min(v), c.1.max(v));
        }
    }
    let (scale, zp): (Vec<f32>, Vec<i32>) = match &spec.params {
        Some(p) => p.clone(),
        None => mm
            .iter()
            .map(|&(lo, hi)| params(spec.qtype, spec.scheme, lo, hi))
            .unzip(),
    };
    assert_eq!(q.scale, scale, "{name} {spec:?}");
    assert_eq!(q.zero_point, zp, "{name} {spec:?}");
    let codes = q.codes_i32().unwrap();
    let deq = q.dequantize().unwrap().to_array::<f32>().unwrap();
    for (i, (&v, (&c, &d))) in flat.iter().zip(codes.iter().zip(deq.iter())).enumerate() {
        let ch = channel_of(shape, spec.axis, i);
        let want = quantize_ref(v, scale[ch], zp[ch], spec.qtype);
        assert_eq!(c, want, "{name} {spec:?} element {i} = {v}");
        let back = (c - zp[ch]) as f32 * scale[ch];
        assert_eq!(d.to_bits(), back.to_bits(), "{name} dequantize {i}");
        // The documented bound, inside the channel's range.
        let (lo, hi) = (mm[ch].0.min(0.0), mm[ch].1.max(0.0));
        if spec.params.is_none() && spec.scheme == QScheme::Affine && v >= lo && v <= hi {
            assert!(
                (v - d).abs() <= scale[ch] * 0.5 + v.abs() * 2e-7 + 1e-30,
                "{v} {d}"
            );
        }
    }
    assert_eq!(
        q.codes.dtype(),
        if spec.qtype == QType::I8 {
            DType::I8
        } else {
            DType::U8
        }
    );
}

#[test]
fn quantization_matches_the_reference_bit_for_bit() {
    for (name, gpu) in gpus() {
        for (shape, edges) in [
            (vec![6, 50, 7], true),
            (vec![333], false),
            (vec![4, 1, 9], true),
            // Channels of 24 and 120 elements: groups of 16 that straddle two channels, and
            // (axis 1) the wrap from the last channel back to the first.
            (vec![3, 5, 24], true),
            // Channels of 70 elements along axis 1: runs of 64 for min and max that straddle
            // two channels and wrap to the first.
            (vec![3, 2, 70], true),
            // Channels shorter than 16 elements go to the kernels that reuse a group's
            // channels for the groups where the pattern repeats: patterns of 48 and 16
            // elements (axis 2 and 1), with a last block of repeats shorter than the rest; of
            // 1024 and 1000, with more invocations than one workgroup holds (1000 repeats
            // every 2000 elements, and leaves elements after the last whole group).
            (vec![11, 3, 48], true),
            (vec![37, 4, 4], true),
            (vec![64, 1024], true),
            (vec![41, 1000], true),
        ] {
            let x = data(&shape, shape.len() as u64, edges);
            for qtype in [QType::I8, QType::U8] {
                for scheme in [QScheme::Affine, QScheme::Symmetric] {
                    for axis in std::iter::once(None).chain((0..shape.len()).map(Some)) {
                        let spec = QuantSpec {
                            qtype,
                            scheme,
                            axis,
                            params: None,
                        };
                        check(&name, &gpu, &x, &spec);
                    }
                }
            }
        }
        // Given parameters, with values that saturate.
        let x = data(&[3, 40], 9, true);
        let spec = QuantSpec {
            axis: Some(0),
            params: Some((vec![0.01, 0.5, 2.0], vec![-3, 0, 100])),
            ..QuantSpec::int8()
        };
        check(&name, &gpu, &x, &spec);
    }
}

#[test]
fn other_dtypes_and_bad_specs() {
    let gpu = Gpu::new().unwrap();
    // f64 input is cast to f32 on the device first.
    let x = ndarray::arr1(&[0.1f64, -2.0, 3.5]);
    let q = gpu
        .upload(&x)
        .unwrap()
        .quantize(&QuantSpec::int8())
        .unwrap();
    let back = q.dequantize().unwrap().to_array::<f32>().unwrap();
    for (a, b) in x.iter().zip(back.iter()) {
        assert!((*a as f32 - b).abs() <= q.scale[0] / 2.0 + 1e-6);
    }
    // Ties round to even; beyond the range, codes saturate.
    let ties = ndarray::arr1(&[0.5f32, 1.5, 2.5, -0.5, -1.5, -2.5, 1e9, -1e9, f32::INFINITY]);
    let spec = QuantSpec {
        params: Some((vec![1.0], vec![0])),
        ..QuantSpec::int8()
    };
    let q = gpu.upload(&ties).unwrap().quantize(&spec).unwrap();
    let codes = q.codes_i32().unwrap();
    assert_eq!(
        codes.as_slice().unwrap(),
        &[0, 2, 2, 0, -2, -2, 127, -128, 127]
    );
    let t = gpu.upload(&ndarray::Array2::<f32>::zeros((2, 3))).unwrap();
    // All zeros: scale 1, codes at the zero point, dequantized exactly 0.
    let q = t.quantize(&QuantSpec::int8()).unwrap();
    assert_eq!(q.scale, [1.0]);
    assert!(
        q.dequantize()
            .unwrap()
            .to_array::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
    let bad = |spec: QuantSpec| t.quantize(&spec).unwrap_err();
    assert!(matches!(
        bad(QuantSpec {
            axis: Some(2),
            ..QuantSpec::int8()
        }),
        Error::InvalidOption { .. }
    ));
    assert!(matches!(
        bad(QuantSpec {
            axis: Some(1),
            params: Some((vec![1.0], vec![0])),
            ..QuantSpec::int8()
        }),
        Error::ShapeMismatch { .. }
    ));
    assert!(matches!(
        bad(QuantSpec {
            params: Some((vec![0.0], vec![0])),
            ..QuantSpec::int8()
        }),
        Error::InvalidOption { .. }
    ));
    let empty = gpu.upload(&ndarray::Array1::<f32>::zeros(0)).unwrap();
    assert!(empty.quantize(&QuantSpec::int8()).unwrap().codes.is_empty());
}

// Per-channel min and max along an axis whose channels are not contiguous (the last axis, or one
// with a short inner stride) read a column of rows per invocation: the extremes must be found
// in every row, whichever invocation and chunk it falls to. An invocation reads a group of 16
// columns from 64 repeats of the channel pattern: rows of 5 and 12 elements repeat every 80 and
// 48 elements, and leave elements after the last whole group; rows of 4096 columns need more
// invocations than one workgroup holds.
#[test]
fn channel_extremes_are_found_in_every_row() {
    for (name, gpu) in gpus() {
        for shape in [
            vec![150, 5],
            vec![70, 3, 4],
            vec![150, 16],
            vec![70, 4, 4],
            vec![130, 48],
            vec![70, 4096],
        ] {
            let (rows, channels) = (shape[0], shape[1]);
            // Every row, or for the big one those at the edges of the invocations' blocks.
            let checked: Vec<usize> = match channels {
                4096 => vec![0, 1, 63, 64, 69],
                _ => (0..rows).collect(),
            };
            for t in checked {
                let mut x = ArrayD::<f32>::zeros(IxDyn(&shape));
                for (idx, v) in x.indexed_iter_mut() {
                    let (r, c) = (idx[0], idx[1]);
                    if r == t {
                        *v = 1000.0 + c as f32;
                    } else if r == (t * 7 + 3) % rows {
                        *v = -1000.0 - c as f32;
                    } else {
                        *v = (r % 5) as f32 - 2.0;
                    }
                }
                let got = gpu.upload(&x).unwrap().channel_min_max(Some(1)).unwrap();
                let want: Vec<(f32, f32)> = (0..channels)
                    .map(|c| (-1000.0 - c as f32, 1000.0 + c as f32))
                    .collect();
                assert_eq!(got, want, "{name} {shape:?} extremes in row {t}");
            }
        }
    }
}

// Channels of at least 64 contiguous elements are read in runs of 64 that may straddle two
// channels: each channel's extremes must be found at every position along it, its first and
// last included.
#[test]
fn channel_extremes_are_found_at_every_position() {
    for (name, gpu) in gpus() {
        let (channels, len) = (4, 70);
        for t in 0..len {
            let x = ndarray::Array2::from_shape_fn((channels, len), |(c, i)| {
                if i == t {
                    1000.0 + c as f32
                } else if i == (t * 7 + 3) % len {
                    -1000.0 - c as f32
                } else {
                    (i % 5) as f32 - 2.0
                }
            });
            let got = gpu.upload(&x).unwrap().channel_min_max(Some(0)).unwrap();
            let want: Vec<(f32, f32)> = (0..channels)
                .map(|c| (-1000.0 - c as f32, 1000.0 + c as f32))
                .collect();
            assert_eq!(got, want, "{name}: extremes at position {t}");
        }
    }
}
