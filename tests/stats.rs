//! Statistics on the device against CPU references, for every dtype, on every adapter and path
//! (tiny chunks included, so partials from many chunks combine).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Rng, bytes_of, cast_inputs, gpus, reference::cast_bits, reference_hist};
use tensorbridge::{DType, Error, Gpu, Kind, Scalar, Tensor};

/// Elements of `d` as f64 (exact for every dtype but 64-bit integers above 2^53).
fn value(d: DType, bits: u64) -> f64 {
    f64::from_bits(cast_bits(d, DType::F64, bits))
}

fn upload(gpu: &Gpu, d: DType, bits: &[u64]) -> Tensor {
    gpu.upload_bytes(&bytes_of(d, bits), d, &[bits.len()])
        .unwrap()
}

fn same(a: Scalar, b: Scalar) -> bool {
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
}

/// (min, max, exact integer sum) the NumPy way.
fn reference(d: DType, bits: &[u64]) -> (Scalar, Scalar, Option<Scalar>) {
    let sext = |b: u64| ((b << (64 - d.bits())) as i64) >> (64 - d.bits());
    match d.kind() {
        Kind::Bool => (
            Scalar::Bool(bits.iter().all(|&b| b != 0)),
            Scalar::Bool(bits.iter().any(|&b| b != 0)),
            Some(Scalar::UInt(bits.iter().filter(|&&b| b != 0).count() as u64)),
        ),
        Kind::UInt => (
            Scalar::UInt(*bits.iter().min().unwrap()),
            Scalar::UInt(*bits.iter().max().unwrap()),
            Some(Scalar::UInt(
                bits.iter().fold(0u64, |s, &b| s.wrapping_add(b)),
            )),
        ),
        Kind::SInt => (
            Scalar::Int(bits.iter().map(|&b| sext(b)).min().unwrap()),
            Scalar::Int(bits.iter().map(|&b| sext(b)).max().unwrap()),
            Some(Scalar::Int(
                bits.iter().fold(0i64, |s, &b| s.wrapping_add(sext(b))),
            )),
        ),
        Kind::Float => {
            let v: Vec<f64> = bits.iter().map(|&b| value(d, b)).collect();
            if v.iter().any(|x| x.is_nan()) {
                return (Scalar::Float(f64::NAN), Scalar::Float(f64::NAN), None);
            }
            let mn = v.iter().copied().min_by(f64::total_cmp).unwrap();
            let mx = v.iter().copied().max_by(f64::total_cmp).unwrap();
            (Scalar::Float(mn), Scalar::Float(mx), None)
        }
    }
}

/// An integer element's exact value (bool and integer dtypes).
fn exact_int(d: DType, bits: u64) -> i128 {
    let shift = 64 - d.bits();
    match d.kind() {
        Kind::SInt => (((bits << shift) as i64) >> shift) as i128,
        _ => (bits & (u64::MAX >> shift)) as i128,
    }
}

/// The f64 nearest to `num / den`, found by comparing candidates exactly in integers (an
/// independent check of the library's one rounding).
fn nearest_quotient(num: i128, den: i128) -> f64 {
    if num.unsigned_abs() <= 1 << 53 {
        // Both operands exact in f64: IEEE division rounds once.
        return num as f64 / den as f64;
    }
    let guess = num as f64 / den as f64;
    let candidates = [guess.next_down(), guess, guess.next_up()];
    // |c * den - num|, scaled by 2^k so that every candidate is an integer.
    let k = candidates
        .iter()
        .map(|c| {
            let e = c.abs().log2().floor() as i32 - 52;
            (-e).max(0)
        })
        .max()
        .unwrap();
    assert!(
        k <= 24,
        "the test's exact comparison needs |mean| above 2^28"
    );
    let scaled = |c: f64| (c * 2f64.powi(k)) as i128;
    let err = |c: f64| (scaled(c) * den - (num << k)).unsigned_abs();
    candidates.into_iter().min_by_key(|&c| err(c)).unwrap()
}

#[test]
fn min_max_and_integer_sums_are_exact() {
    for (name, gpu) in gpus() {
        for d in DType::ALL {
            let mut bits = cast_inputs(d, 5);
            // Enough elements for several workgroups, and a NaN-free set for floats.
            let mut rng = Rng(d as u64 + 1);
            bits.extend((0..20_000).map(|_| common::valid_bits(d, rng.next())));
            let finite: Vec<u64> = bits
                .iter()
                .copied()
                .filter(|&b| !value(d, b).is_nan())
                .collect();
            for set in [&bits, &finite] {
                let t = upload(&gpu, d, set);
                let s = t.summary().unwrap();
                let (mn, mx, sum) = reference(d, set);
                assert!(same(s.min, mn), "{name} {d}: min {:?} vs {mn:?}", s.min);
                assert!(same(s.max, mx), "{name} {d}: max {:?} vs {mx:?}", s.max);
                if let Some(sum) = sum {
                    assert_eq!(s.sum, sum, "{name} {d}");
                    let exact: i128 = set.iter().map(|&b| exact_int(d, b)).sum();
                    let want = nearest_quotient(exact, set.len() as i128);
                    assert_eq!(s.mean, want, "{name} {d}: mean of the exact sum {exact}");
                }
                let nans = set.iter().filter(|&&b| value(d, b).is_nan()).count();
                assert_eq!(s.nan_count, nans, "{name} {d}");
                assert_eq!(s.count, set.len());
            }
        }
    }
}

#[test]
fn float_sums_are_compensated() {
    for (name, gpu) in gpus() {
        for d in [DType::F16, DType::BF16, DType::F32] {
            // Finite values over many magnitudes, both signs.
            let mut rng = Rng(77);
            let xs: Vec<f64> = (0..50_000)
                .map(|i| {
                    let m = (rng.next() % 2000) as f64 / 1000.0 - 1.0;
                    m * 10f64.powi((i % 7) - 3)
                })
                .collect();
            let bits: Vec<u64> = xs
                .iter()
                .map(|x| cast_bits(DType::F64, d, x.to_bits()))
                .collect();
            let t = upload(&gpu, d, &bits);
            // The reference: elements as the device sees them (rounded to f32), summed in f64.
            let exact: f64 = bits.iter().map(|&b| value(d, b) as f32 as f64).sum();
            let magnitude: f64 = bits.iter().map(|&b| value(d, b).abs()).sum();
            let Scalar::Float(sum) = t.sum().unwrap() else {
                panic!("float sum")
            };
            assert!(
                (sum - exact).abs() <= 1e-6 * magnitude,
                "{name} {d}: {sum} vs {exact} (magnitude {magnitude})"
            );
            assert!((t.mean().unwrap() - exact / xs.len() as f64).abs() <= 1e-6 * magnitude);
        }
    }
}

/// The correctly rounded sum of `xs` (Shewchuk's algorithm, as Python's `math.fsum`): an
/// independent reference for the device's fixed-point f64 sum.
fn fsum(xs: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &x in xs {
        let mut x = x;
        let mut kept = 0;
        for i in 0..partials.len() {
            let mut y = partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    // Round the partials' exact sum once (the final step of msum).
    let mut hi = 0.0;
    while let Some(x) = partials.pop() {
        let y = hi;
        hi = x + y;
        let lo = y - (hi - x);
        if lo != 0.0 {
            if let Some(&next) = partials.last()
                && (lo < 0.0) == (next < 0.0)
            {
                let y = lo * 2.0;
                let x = hi + y;
                if y == x - hi {
                    hi = x;
                }
            }
            break;
        }
    }
    hi
}

/// float64 sums are accurate to far better than 1e-12 of the sum of magnitudes on every
/// adapter (none here has f64 arithmetic in WGSL): data offset by 1e8 (which an f32 sum of
/// the elements loses), mixed magnitudes with cancellation, subnormals, random bits.
#[test]
fn f64_sums_match_numpy_closely() {
    let mut rng = Rng(2024);
    let mut unit = || (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let offset: Vec<f64> = (0..50_001).map(|_| 1e8 + unit()).collect();
    let mixed: Vec<f64> = (0..30_000)
        .map(|i| {
            let x = (unit() - 0.5) * 2f64.powi((i % 121) - 60);
            if i % 1000 == 0 {
                1e300 * (unit() - 0.5)
            } else {
                x
            }
        })
        .collect();
    let mut rng = Rng(99);
    let bits: Vec<f64> = (0..20_000)
        .map(|_| f64::from_bits(rng.next() & 0xbfff_ffff_ffff_ffff))
        .filter(|x| x.is_finite())
        .chain([f64::MIN_POSITIVE / 3.0, -5e-324, 0.0, -0.0, 1.0, -1.0])
        .collect();
    let cancel: Vec<f64> = offset.iter().flat_map(|&x| [x, -x + 1e-3]).collect();
    for (name, gpu) in gpus() {
        for (what, xs) in [
            ("offset", &offset),
            ("mixed", &mixed),
            ("bits", &bits),
            ("cancel", &cancel),
        ] {
            let t = gpu.upload(&ndarray::ArrayView1::from(&xs[..])).unwrap();
            let want = fsum(xs);
            let magnitude: f64 = xs.iter().map(|x| x.abs()).sum();
            let got = t.sum().unwrap().as_f64();
            assert!(
                (got - want).abs() <= 1e-12 * magnitude,
                "{name} {what}: {got} vs {want} (magnitude {magnitude})"
            );
            // In fact within an ulp or so of the correctly rounded sum.
            assert!(
                (got - want).abs() <= 2.0 * f64::EPSILON * want.abs() + 1e-300,
                "{name} {what}: {got} vs {want}"
            );
            assert_eq!(t.mean().unwrap(), got / xs.len() as f64, "{name} {what}");
        }
    }
}

#[test]
fn float_sums_keep_infinities_and_nan() {
    for (name, gpu) in gpus() {
        for d in [DType::F16, DType::BF16, DType::F32, DType::F64] {
            let sum = |xs: &[f64]| {
                let bits: Vec<u64> = xs
                    .iter()
                    .map(|x| cast_bits(DType::F64, d, x.to_bits()))
                    .collect();
                upload(&gpu, d, &bits).sum().unwrap().as_f64()
            };
            assert_eq!(sum(&[1.0, f64::INFINITY, 2.0]), f64::INFINITY, "{name} {d}");
            assert_eq!(
                sum(&[-1.0, f64::NEG_INFINITY]),
                f64::NEG_INFINITY,
                "{name} {d}"
            );
            assert!(
                sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan(),
                "{name} {d}"
            );
            assert!(sum(&[1.0, f64::NAN, f64::INFINITY]).is_nan(), "{name} {d}");
            // Subnormals of every float format count exactly (f64's too: its sum needs no f32).
            let tiny = f64::from_bits(cast_bits(d, DType::F64, 1));
            let want = if d == DType::F64 {
                tiny
            } else {
                tiny as f32 as f64
            };
            assert_eq!(sum(&[tiny, tiny, -tiny]), want, "{name} {d}");
        }
    }
}

/// `np.linspace(lo, hi, bins + 1)` as NumPy computes it.
fn numpy_edges(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let step = (hi - lo) / bins as f64;
    let mut e: Vec<f64> = (0..=bins).map(|i| i as f64 * step + lo).collect();
    e[bins] = hi;
    e
}

/// `np.histogram`'s equal-bin path, step by step (numpy/lib/_histograms_impl.py): keep values
/// in range, estimate the index from the scaled offset, then correct it by one against the
/// edges.
fn numpy_hist(xs: &[f64], edges: &[f64]) -> Vec<u64> {
    let n = edges.len() - 1;
    let (first, last) = (edges[0], edges[n]);
    let mut counts = vec![0u64; n];
    for &x in xs {
        if !(x >= first && x <= last) {
            continue;
        }
        let mut i = (((x - first) / (last - first)) * n as f64) as usize;
        if i == n {
            i -= 1;
        }
        if x < edges[i] {
            i -= 1;
        }
        if x >= edges[i + 1] && i != n - 1 {
            i += 1;
        }
        counts[i] += 1;
    }
    counts
}

/// Data whose spread is tiny next to its magnitude, which an f32 comparison collapses into a
/// bin or two: f64 offset by 1e8, int64 within 2^40 of its maximum, and uint64 over its range.
#[test]
fn wide_histograms_bin_as_numpy() {
    let mut rng = Rng(5);
    let offset: Vec<f64> = (0..40_000)
        .map(|_| 1e8 + (rng.next() >> 11) as f64 / (1u64 << 53) as f64)
        .collect();
    let near_max: Vec<i64> = (0..40_000)
        .map(|_| i64::MAX - (rng.next() >> 24) as i64)
        .collect();
    let wide: Vec<u64> = (0..40_000).map(|_| rng.next()).collect();
    for (name, gpu) in gpus() {
        let cases = [
            (
                "f64 + 1e8",
                gpu.upload(&ndarray::ArrayView1::from(&offset[..])).unwrap(),
                offset.clone(),
            ),
            (
                "i64 near max",
                gpu.upload(&ndarray::ArrayView1::from(&near_max[..]))
                    .unwrap(),
                near_max.iter().map(|&x| x as f64).collect(),
            ),
            (
                "u64",
                gpu.upload(&ndarray::ArrayView1::from(&wide[..])).unwrap(),
                wide.iter().map(|&x| x as f64).collect(),
            ),
        ];
        for (what, t, xs) in cases {
            for bins in [10, 64, 5000] {
                let h = t.histogram(bins, None).unwrap();
                let want = numpy_hist(&xs, &h.edges);
                assert_eq!(h.counts, want, "{name} {what} {bins}");
                let used = h.counts.iter().filter(|&&c| c > 0).count();
                assert!(used > bins / 2, "{name} {what}: {used} bins used");
            }
        }
    }
}

#[test]
fn histograms_match_the_reference() {
    for (name, gpu) in gpus() {
        for d in DType::ALL {
            let mut rng = Rng(d as u64 + 9);
            let mut bits = cast_inputs(d, 3);
            bits.extend((0..30_000).map(|_| common::valid_bits(d, rng.next())));
            let t = upload(&gpu, d, &bits);
            let xs: Vec<f32> = bits.iter().map(|&b| value(d, b) as f32).collect();
            // Bins counted in registers (at most 16), in workgroup memory, and in the global
            // histogram (over 4096).
            for (bins, range) in [
                (10, Some((-100.0, 100.0))),
                (100, Some((-100.0, 100.0))),
                (2000, Some((-1.0, 1.0))),
                (5000, Some((-1.0, 1.0))),
                (7, None),
            ] {
                let h = match t.histogram(bins, range) {
                    Ok(h) => h,
                    // Auto range over NaN or inf is refused, like NumPy.
                    Err(Error::InvalidOption { .. }) if range.is_none() => {
                        let s = t.summary().unwrap();
                        assert!(!s.min.as_f64().is_finite() || !s.max.as_f64().is_finite());
                        continue;
                    }
                    Err(e) => panic!("{name} {d}: {e}"),
                };
                let (lo, hi) = (h.edges[0], h.edges[bins]);
                assert_eq!(h.edges, numpy_edges(lo, hi, bins), "{name} {d} {bins}");
                let want = match d {
                    // Exact against f64 edges, as np.histogram bins.
                    DType::F64 | DType::I64 | DType::U64 => {
                        let xs: Vec<f64> = bits.iter().map(|&b| value(d, b)).collect();
                        numpy_hist(&xs, &h.edges)
                    }
                    _ => reference_hist(&xs, bins, lo, hi),
                };
                assert_eq!(h.counts, want, "{name} {d} {bins}");
            }
        }
        // Edge cases: one value, empty, bad arguments.
        let one = gpu.upload(&ndarray::arr1(&[5u8, 5, 5])).unwrap();
        let h = one.histogram(2, None).unwrap();
        assert_eq!((h.counts, h.edges), (vec![0, 3], vec![4.5, 5.0, 5.5]));
        let empty = gpu.upload(&ndarray::Array1::<f32>::zeros(0)).unwrap();
        assert_eq!(empty.histogram(3, None).unwrap().counts, [0, 0, 0]);
        assert!(matches!(empty.min(), Err(Error::Empty { .. })));
        assert_eq!(empty.sum().unwrap(), Scalar::Float(0.0));
        assert!(empty.mean().unwrap().is_nan());
        assert!(one.histogram(0, None).is_err());
        assert!(one.histogram(3, Some((2.0, 1.0))).is_err());
    }
}

// The kernels read whole 16-byte units, then the few elements after the last one in a second
// dispatch. Every length up to a few units (and two longer ones), forwards and backwards so the
// extremes land in either part, must give the reference exactly; a NaN in the last place must
// be seen.
#[test]
fn every_length_splits_into_units_and_a_tail() {
    for (name, gpu) in gpus() {
        for d in DType::ALL {
            let mut rng = Rng(d as u64 + 100);
            let all: Vec<u64> = (0..4099)
                .map(|_| common::valid_bits(d, rng.next()))
                .filter(|&b| !value(d, b).is_nan())
                .collect();
            for len in (1..=35).chain([1000, 4099]) {
                let mut bits = all[..len.min(all.len())].to_vec();
                for pass in 0..2 {
                    let s = upload(&gpu, d, &bits).summary().unwrap();
                    let (mn, mx, sum) = reference(d, &bits);
                    let at = format!("{name} {d} length {} pass {pass}", bits.len());
                    assert!(same(s.min, mn), "{at}: min {:?} vs {mn:?}", s.min);
                    assert!(same(s.max, mx), "{at}: max {:?} vs {mx:?}", s.max);
                    if let Some(sum) = sum {
                        assert_eq!(s.sum, sum, "{at}");
                    }
                    assert_eq!((s.count, s.nan_count), (bits.len(), 0), "{at}");
                    bits.reverse();
                }
                if d.kind() == Kind::Float {
                    bits.push(cast_bits(DType::F64, d, f64::NAN.to_bits()));
                    let s = upload(&gpu, d, &bits).summary().unwrap();
                    assert_eq!(s.nan_count, 1, "{name} {d} length {}", bits.len());
                    assert!(s.max.as_f64().is_nan(), "{name} {d} length {}", bits.len());
                }
            }
        }
    }
}

// Tensors packed into one buffer by `upload_many` are bound at an offset: their statistics
// match those of the same arrays uploaded alone.
#[test]
fn packed_tensors_reduce_like_single_ones() {
    for (name, gpu) in gpus() {
        let arrays: Vec<ndarray::Array1<f32>> = [5usize, 37, 1001]
            .iter()
            .map(|&n| ndarray::Array1::from_shape_fn(n, |i| ((i * 7919) % 1013) as f32 - 500.25))
            .collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        for (packed, a) in gpu.upload_many(&views).unwrap().iter().zip(&arrays) {
            let alone = gpu.upload(a).unwrap();
            assert_eq!(
                packed.summary().unwrap(),
                alone.summary().unwrap(),
                "{name}"
            );
            assert_eq!(
                packed.histogram(7, None).unwrap(),
                alone.histogram(7, None).unwrap(),
                "{name}"
            );
        }
    }
}

// Runs of elements in one bin, of every length, cut by NaN and out-of-range values (which must
// not count), across the chunk and invocation boundaries the variants produce; with register,
// workgroup and global bins, on both sides of the register and workgroup-memory limits.
#[test]
fn histograms_count_runs() {
    for (name, gpu) in gpus() {
        let xs: Vec<f32> = (0..20_011)
            .map(|i| match i {
                _ if i % 5 == 4 => f32::NAN,
                _ if i % 11 == 10 => 1e9,
                _ => ((i / (1 + i % 3 + i / 997)) % 13) as f32 + 0.5,
            })
            .collect();
        let t = gpu.upload(&ndarray::Array1::from(xs.clone())).unwrap();
        for bins in [13, 16, 17, 1300, 4096, 4097] {
            let h = t.histogram(bins, Some((0.0, 13.0))).unwrap();
            assert_eq!(
                h.counts,
                reference_hist(&xs, bins, 0.0, 13.0),
                "{name} {bins}"
            );
        }
    }
}

// Up to 16 bins are counted in 8-bit registers, added to the workgroup's bins before any can
// overflow: millions of elements in the first or the last bin, with hundreds per invocation.
#[test]
fn histograms_of_one_value_do_not_overflow() {
    for (name, gpu) in gpus() {
        // Tiny chunks would take a dispatch per 512 bytes and few elements per invocation.
        if gpu.info().max_chunk_bytes < 1 << 20 {
            continue;
        }
        let n = 8 << 20;
        for (x, bin) in [(0.5f32, 0), (15.5, 15)] {
            let t = gpu.upload(&ndarray::Array1::from_elem(n, x)).unwrap();
            let h = t.histogram(16, Some((0.0, 16.0))).unwrap();
            let mut want = vec![0; 16];
            want[bin] = n as u64;
            assert_eq!(h.counts, want, "{name} {x}");
        }
    }
}
