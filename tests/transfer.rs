//! The transfer engine on every adapter and path: batched, streamed, zero-copy views, phase
//! statistics, and concurrent use from 8 threads. Every check is bit-exact.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Rng, edge_and_random_bits, from_bits, gpus, to_bits};
use ndarray::{Array, Array1, ArrayD, ArrayViewD, IxDyn, s};
use tensorbridge::{DType, Element, Error, Gpu, Tensor, TransferPath};

/// Arrays of assorted shapes and sizes (empty, 0-d, odd tails, multi-chunk under tiny chunks).
fn assorted<T: Element>(seed: u64) -> Vec<ArrayD<T>> {
    let shapes: [&[usize]; 8] = [
        &[257],
        &[],
        &[0, 3],
        &[3, 5, 7],
        &[1],
        &[64, 33],
        &[2],
        &[999],
    ];
    shapes
        .iter()
        .enumerate()
        .map(|(i, sh)| {
            let n = sh.iter().product::<usize>();
            let bits = edge_and_random_bits(n, seed + i as u64);
            Array::from_shape_vec(IxDyn(sh), from_bits(&bits[bits.len() - n..])).unwrap()
        })
        .collect()
}

fn same<T: Element>(a: &ArrayD<T>, b: &ArrayD<T>) -> bool {
    a.shape() == b.shape()
        && to_bits(&a.iter().copied().collect::<Vec<_>>())
            == to_bits(&b.iter().copied().collect::<Vec<_>>())
}

fn batch_roundtrip<T: Element>(name: &str, gpu: &Gpu) {
    let arrays = assorted::<T>(7);
    // Mixed layouts in one batch: one transposed and one stepped view.
    let transposed = arrays[5].t().into_dyn();
    let stepped = arrays[7].slice(s![..;-3]).into_dyn();
    let mut views: Vec<ArrayViewD<'_, T>> = arrays.iter().map(|a| a.view()).collect();
    views.push(transposed.clone());
    views.push(stepped.clone());
    let tensors = gpu.upload_many(&views).unwrap();
    assert_eq!(tensors.len(), views.len());
    let refs: Vec<&Tensor> = tensors.iter().collect();
    let back = gpu.read_many::<T>(&refs).unwrap();
    for (i, (b, v)) in back.iter().zip(&views).enumerate() {
        assert!(same(b, &v.to_owned()), "{name} {} item {i}", T::DTYPE);
    }
    // Async form, tensors listed twice and out of order, mixed with a separate upload.
    let extra = gpu.upload(&arrays[3]).unwrap();
    let refs = [&tensors[7], &extra, &tensors[0], &tensors[7]];
    let back = pollster::block_on(gpu.read_many_async::<T>(&refs)).unwrap();
    assert!(
        same(&back[0], &arrays[7]) && same(&back[3], &arrays[7]),
        "{name}"
    );
    assert!(
        same(&back[1], &arrays[3]) && same(&back[2], &arrays[0]),
        "{name}"
    );
    let tensors = pollster::block_on(gpu.upload_many_async(&views[..2])).unwrap();
    assert!(
        same(&tensors[0].to_array::<T>().unwrap(), &arrays[0]),
        "{name}"
    );
}

#[test]
fn batches_arrive_intact_on_every_path() {
    for (name, gpu) in gpus() {
        batch_roundtrip::<f64>(&name, &gpu);
        batch_roundtrip::<u8>(&name, &gpu);
        batch_roundtrip::<bool>(&name, &gpu);
        batch_roundtrip::<tensorbridge::f16>(&name, &gpu);
        assert!(
            gpu.upload_many::<f32, ndarray::Ix1>(&[])
                .unwrap()
                .is_empty()
        );
        assert!(gpu.read_many::<f32>(&[]).unwrap().is_empty());
    }
}

#[test]
fn batched_tensors_work_everywhere_a_tensor_does() {
    for (name, gpu) in gpus() {
        // Small tensors of one batch may share a buffer (mapped path): every operation must
        // see only its own range.
        let arrays: Vec<Array1<f32>> = (0..40)
            .map(|i| Array1::from_shape_fn(3 * i + 1, |j| (i * 100 + j) as f32 - 7.5))
            .collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let ts = gpu.upload_many(&views).unwrap();
        let shared = ts
            .windows(2)
            .any(|w| w[0].buffers()[0] == w[1].buffers()[0]);
        assert_eq!(
            shared,
            gpu.info().path == Some(TransferPath::Mapped),
            "{name}"
        );
        assert_eq!(gpu.memory().num_tensors, 40, "{name}");
        for (t, a) in ts.iter().zip(&arrays) {
            assert_eq!(t.byte_offset() % 32, 0);
            let h = t.cast(DType::F16).unwrap();
            let want: Vec<f32> = a
                .iter()
                .map(|&x| tensorbridge::f16::from_f32(x).to_f32())
                .collect();
            let got: Vec<f32> = h.to_array_as::<f32>().unwrap().iter().copied().collect();
            assert_eq!(got, want, "{name}");
            let s = t.summary().unwrap();
            assert_eq!(s.max.as_f64(), *a.iter().last().unwrap() as f64, "{name}");
            assert_eq!(s.min.as_f64(), a[0] as f64, "{name}");
            let q = t.quantize(&tensorbridge::QuantSpec::int8()).unwrap();
            assert_eq!(q.codes.len(), a.len());
            let m = t.view::<f32>().unwrap();
            assert_eq!(&*m, a.as_slice().unwrap(), "{name}");
            drop(m);
            let mut out = Array1::<f32>::zeros(a.len());
            t.read_into(&mut out.view_mut()).unwrap();
            assert_eq!(&out, a, "{name}");
        }
        // Block-mates read from several threads at once.
        std::thread::scope(|s| {
            for (t, a) in ts.iter().zip(&arrays).take(8) {
                s.spawn(move || {
                    for _ in 0..20 {
                        assert_eq!(t.to_array::<f32>().unwrap(), a.clone().into_dyn());
                    }
                });
            }
        });
        // Dropping some keeps the others intact; dropping all releases everything.
        let keep: Vec<Tensor> = ts.into_iter().step_by(3).collect();
        for (t, a) in keep.iter().zip(arrays.iter().step_by(3)) {
            assert_eq!(t.to_array::<f32>().unwrap(), a.clone().into_dyn(), "{name}");
        }
        drop(keep);
        assert_eq!(
            (gpu.memory().num_tensors, gpu.memory().num_bytes),
            (0, 0),
            "{name}"
        );
    }
}

#[test]
fn batches_reject_bad_input() {
    let all = gpus();
    let (name, gpu) = &all[0];
    let a = gpu.upload(&Array1::<f32>::zeros(4)).unwrap();
    let b = gpu.upload(&Array1::<i32>::zeros(4)).unwrap();
    assert!(
        matches!(
            gpu.read_many::<f32>(&[&a, &b]),
            Err(Error::DTypeMismatch { .. })
        ),
        "{name}"
    );
    let (_, other) = &all[1];
    let c = other.upload(&Array1::<f32>::zeros(4)).unwrap();
    assert!(
        matches!(
            gpu.read_many::<f32>(&[&a, &c]),
            Err(Error::WrongDevice { .. })
        ),
        "{name}"
    );
}

#[test]
fn streams_arrive_intact_and_in_order() {
    for (name, gpu) in gpus() {
        let arrays: Vec<Array1<u16>> = (0..12)
            .map(|i| Array1::from_shape_fn(100 * i + 3, |j| (i * 1000 + j) as u16))
            .collect();
        let mut seen = 0;
        for (t, a) in gpu.prefetch_with_depth(arrays.clone(), 3).zip(&arrays) {
            assert_eq!(t.unwrap().to_array::<u16>().unwrap(), a.clone().into_dyn());
            seen += 1;
        }
        assert_eq!(seen, arrays.len(), "{name}");
        // Dropping a prefetcher early stops it cleanly.
        let mut p = gpu.prefetch_with_depth(arrays.clone(), 1);
        assert!(p.next().unwrap().is_ok());
        drop(p);

        let q = gpu.readback_queue_with_depth::<u16>(2);
        assert!(q.pop().is_none());
        for a in &arrays {
            q.push(gpu.upload(a).unwrap()).unwrap();
        }
        assert_eq!(q.pending(), arrays.len());
        for a in &arrays {
            assert_eq!(q.pop().unwrap().unwrap(), a.clone().into_dyn(), "{name}");
        }
        assert!(q.pop().is_none() && q.try_pop().is_none());
        // Defaults: depth 2.
        let got: Vec<_> = gpu
            .prefetch(arrays.clone())
            .map(|t| t.unwrap().len())
            .collect();
        assert_eq!(got, arrays.iter().map(|a| a.len()).collect::<Vec<_>>());
        let q2 = gpu.readback_queue::<u16>();
        q2.push(gpu.upload(&arrays[1]).unwrap()).unwrap();
        assert_eq!(q2.pop().unwrap().unwrap(), arrays[1].clone().into_dyn());
        let wrong = gpu.upload(&Array1::<f32>::zeros(3)).unwrap();
        assert!(matches!(q.push(wrong), Err(Error::DTypeMismatch { .. })));
    }
}

#[test]
fn views_borrow_mapped_memory() {
    for (name, gpu) in gpus() {
        for a in assorted::<f64>(11) {
            let t = gpu.upload(&a).unwrap();
            let m = t.view::<f64>().unwrap();
            assert!(same(&m.view().to_owned(), &a), "{name} {:?}", a.shape());
            assert_eq!(m.len(), a.len());
            // Own buffer mapped: the GPU must not touch it until the view is dropped.
            let direct = gpu.info().path == Some(TransferPath::Mapped) && t.buffers().len() == 1;
            if direct {
                assert!(matches!(t.cast(DType::F32), Err(Error::Busy { .. })));
                assert!(matches!(t.view::<f64>(), Err(Error::Busy { .. })));
                assert!(matches!(t.to_array::<f64>(), Err(Error::Busy { .. })));
            }
            drop(m);
            assert!(same(&t.to_array::<f64>().unwrap(), &a), "{name}");
            assert!(t.cast(DType::F32).is_ok());
        }
        let t = gpu.upload(&Array1::<u8>::zeros(3)).unwrap();
        assert!(matches!(t.view::<i8>(), Err(Error::DTypeMismatch { .. })));
    }
}

#[test]
fn stats_count_every_phase() {
    for (name, gpu) in gpus() {
        gpu.reset_stats();
        let a = Array1::from_shape_fn(1 << 16, |i| i as f32);
        let t = gpu.upload(&a).unwrap();
        let h = t.cast(DType::F16).unwrap();
        let _ = h.to_array::<tensorbridge::f16>().unwrap();
        let _ = gpu.read_many::<f32>(&[&t, &t]).unwrap();
        gpu.synchronize().unwrap();
        let s = gpu.stats();
        assert_eq!((s.upload.calls, s.readback.calls, s.cast.calls), (1, 2, 1));
        assert_eq!(s.upload.bytes, 1 << 18, "{name}");
        assert_eq!(s.readback.bytes, (1 << 17) + (2 << 18), "{name}");
        assert_eq!(s.cast.bytes, 1 << 17, "{name}");
        assert!(s.upload.host_copy > std::time::Duration::ZERO, "{name}");
        assert!(s.readback.host_copy > std::time::Duration::ZERO, "{name}");
        assert!(s.cast.submit > std::time::Duration::ZERO, "{name}");
        assert!(s.cast.device > std::time::Duration::ZERO, "{name}");
        if gpu.info().path != Some(TransferPath::Mapped) {
            // Staged and queue paths submit device copies and wait for them.
            assert!(s.readback.submit > std::time::Duration::ZERO, "{name}");
            assert!(s.readback.device > std::time::Duration::ZERO, "{name}");
            assert!(s.readback.map_wait > std::time::Duration::ZERO, "{name}");
        }
        gpu.reset_stats();
        assert_eq!(gpu.stats(), tensorbridge::Stats::default());
    }
}

/// One thread's work: round trips, batches and casts of random sizes, checked bit for bit.
fn worker(gpu: &Gpu, seed: u64) {
    let mut rng = Rng(seed);
    for round in 0..30 {
        let n = (rng.next() % 5000) as usize;
        let bits = edge_and_random_bits(n, seed * 100 + round);
        let a = Array1::from_vec(from_bits::<i64>(&bits));
        let t = gpu.upload(&a).unwrap();
        assert_eq!(t.to_array::<i64>().unwrap(), a.clone().into_dyn());
        let w = t.cast(DType::I32).unwrap();
        let want: Vec<i32> = a.iter().map(|&x| x as i32).collect();
        assert_eq!(
            w.to_array::<i32>().unwrap().into_raw_vec_and_offset().0,
            want
        );
        let small: Vec<Array1<u8>> = (0..8)
            .map(|k| Array1::from_shape_fn(k * 37 + 1, |j| (j as u64 ^ seed) as u8))
            .collect();
        let views: Vec<_> = small.iter().map(|x| x.view()).collect();
        let ts = gpu.upload_many(&views).unwrap();
        let back = gpu.read_many::<u8>(&ts.iter().collect::<Vec<_>>()).unwrap();
        for (b, x) in back.iter().zip(&small) {
            assert_eq!(b, &x.clone().into_dyn());
        }
    }
}

#[test]
fn eight_threads_share_one_gpu() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gpu>();
    assert_send_sync::<Tensor>();
    for (name, gpu) in gpus().into_iter().filter(|(n, _)| !n.contains("tiny")) {
        std::thread::scope(|s| {
            for k in 0..8 {
                let gpu = &gpu;
                s.spawn(move || worker(gpu, k + 1));
            }
        });
        // A tensor shared by all threads, read concurrently.
        let a = Array1::from_shape_fn(100_000, |i| i as u32);
        let t = gpu.upload(&a).unwrap();
        // Readers, casts and statistics of the same tensor at once: on the mapped path the
        // tensor's own buffer is mapped for reading while other threads submit work on it.
        std::thread::scope(|s| {
            for k in 0..8 {
                let (t, a) = (&t, &a);
                s.spawn(move || {
                    for _ in 0..20 {
                        match k % 3 {
                            0 => assert_eq!(t.to_array::<u32>().unwrap(), a.clone().into_dyn()),
                            1 => assert_eq!(t.cast(DType::F32).unwrap().len(), a.len()),
                            _ => assert_eq!(t.max().unwrap(), tensorbridge::Scalar::UInt(99_999)),
                        }
                    }
                });
            }
        });
        assert_eq!(gpu.memory().num_tensors, 1, "{name}");
    }
}
