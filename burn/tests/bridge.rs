//! The Burn bridge on every adapter here (lavapipe Vulkan and llvmpipe GL): round trips of every
//! dtype, a Burn op between a tensorbridge upload and a tensorbridge readback on the shared
//! queue, and the bf16 safetensors path of `examples/burn.rs`.

use burn::tensor::{Bool, Float, Int, Tensor as BurnTensor};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use tensorbridge::{DType, Gpu, Tensor, bf16, f16};
use tensorbridge_burn::Bridge;

/// A bridge on each adapter present (under CI both lavapipe and llvmpipe GL must be).
fn bridges() -> Vec<Bridge> {
    let adapters = Gpu::adapters();
    if std::env::var_os("CI").is_some() {
        for b in [
            tensorbridge::wgpu::Backend::Vulkan,
            tensorbridge::wgpu::Backend::Gl,
        ] {
            assert!(
                adapters.iter().any(|a| a.backend == b),
                "CI needs {b:?}: {adapters:?}"
            );
        }
    }
    adapters
        .iter()
        .map(|a| {
            let gpu = Gpu::with_options(tensorbridge::GpuOptions {
                backend: Some(a.backend),
                adapter_name: Some(a.name.clone()),
                ..Default::default()
            })
            .expect("a GPU adapter");
            Bridge::new(&gpu).expect("Burn on tensorbridge's device")
        })
        .collect()
}

/// A test that runs on every adapter's bridge.
macro_rules! on_every_adapter {
    ($($(#[$meta:meta])* fn $name:ident($b:ident: Bridge) $body:block)*) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            for $b in bridges() {
                eprintln!("{}: {:?}", stringify!($name), $b.gpu().info().backend);
                $body
            }
        }
    )*};
}

/// A few values of every kind, as f64, within every dtype's range.
fn values(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 37) % 101) as f64 - 50.0 + (i % 4) as f64 * 0.25)
        .collect()
}

on_every_adapter! {
fn every_dtype_goes_to_burn_and_back(b: Bridge) {
    let gpu = b.gpu();
    let v = values(24);
    let src = gpu.upload(&Array1::from(v.clone())).unwrap();
    for dtype in DType::ALL {
        let t = src.cast(dtype).unwrap();
        let shape = [4, 6];
        let t = gpu
            .upload_bytes(&t.to_bytes().unwrap(), dtype, &shape)
            .unwrap();
        if dtype == DType::Bool {
            let burn: BurnTensor<2, Bool> = b.to_burn(&t).unwrap();
            let want: Vec<bool> = t.to_array::<bool>().unwrap().iter().copied().collect();
            // Burn stores bools as u32 words here; read them through Burn's own int conversion.
            let got: Vec<i32> = burn
                .clone()
                .int()
                .into_data()
                .convert::<i32>()
                .try_to_vec()
                .unwrap();
            let want_i: Vec<i32> = want.iter().map(|&b| b as i32).collect();
            assert_eq!(got, want_i, "bool into Burn");
            let back = b.from_burn(burn).unwrap().cast(DType::Bool).unwrap();
            assert_eq!(
                back.to_array::<bool>()
                    .unwrap()
                    .iter()
                    .copied()
                    .collect::<Vec<_>>(),
                want
            );
            continue;
        }
        // Floats become Burn f32, integers Burn i32: the cast tensorbridge does on the device.
        let f: BurnTensor<2, Float> = b.to_burn(&t).unwrap();
        let want_f: Vec<f32> = t.to_array_as::<f32>().unwrap().iter().copied().collect();
        let got_f: Vec<f32> = f.clone().into_data().try_to_vec().unwrap();
        assert_eq!(got_f, want_f, "{dtype} into a Burn float tensor");
        let back = b.from_burn(f).unwrap();
        assert_eq!(back.dtype(), DType::F32);
        assert_eq!(back.shape(), &shape);
        assert_eq!(
            back.to_array::<f32>()
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            want_f
        );
        let i: BurnTensor<2, Int> = b.to_burn(&t).unwrap();
        let want_i: Vec<i32> = t.to_array_as::<i32>().unwrap().iter().copied().collect();
        let got_i: Vec<i32> = i.clone().into_data().convert::<i32>().try_to_vec().unwrap();
        assert_eq!(got_i, want_i, "{dtype} into a Burn int tensor");
        let back = b.from_burn(i).unwrap();
        assert_eq!(
            back.to_array_as::<i32>()
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            want_i
        );
    }
}

fn a_burn_op_runs_between_an_upload_and_a_readback_with_no_wait(b: Bridge) {
    let a = Array2::from_shape_fn((33, 17), |(i, j)| (i as f32 - 16.0) * 0.5 + j as f32);
    // Straight into Burn's buffer, one host copy.
    let x: BurnTensor<2> = b.upload(&a).unwrap();
    let y = (x.clone() * 3.0 + 1.0).sum_dim(1);
    // No wait: the bridge flushes Burn's work, and the readback waits for the queue.
    let back = b.from_burn(y).unwrap();
    assert_eq!(back.shape(), &[33, 1]);
    let got = back.to_array::<f32>().unwrap();
    for (i, row) in a.outer_iter().enumerate() {
        let want: f32 = row.iter().map(|v| v * 3.0 + 1.0).sum();
        assert!(
            (got[[i, 0]] - want).abs() <= want.abs() * 1e-6 + 1e-4,
            "row {i}"
        );
    }
    // And summaries and casts on Burn's result, without a trip through the host.
    let x_tb = b.from_burn(x).unwrap();
    assert_eq!(
        x_tb.summary().unwrap().max.as_f64(),
        a.iter().copied().fold(f32::MIN, f32::max) as f64
    );
    let h = x_tb.cast(DType::F16).unwrap().to_array::<f16>().unwrap();
    assert_eq!(h, a.mapv(f16::from_f32).into_dyn());
}

fn wrong_kinds_and_ranks_are_errors(b: Bridge) {
    let t = b.gpu().upload(&Array1::from(vec![1.0f32, 2.0])).unwrap();
    assert!(matches!(
        b.to_burn::<2, Float>(&t),
        Err(tensorbridge_burn::Error::Tensorbridge(
            tensorbridge::Error::ShapeMismatch { .. }
        ))
    ));
    assert!(matches!(
        b.to_burn::<1, Bool>(&t),
        Err(tensorbridge_burn::Error::DType { .. })
    ));
    let i = Array1::from(vec![1i64, 2]);
    assert!(matches!(
        b.upload::<1, Int, _, _, _>(&i),
        Err(tensorbridge_burn::Error::DType { .. })
    ));
}

/// `examples/burn.rs` as a test: a bf16 safetensors file loaded by tensorbridge, cast to f32 on
/// the device, multiplied in Burn, read back by tensorbridge, each step against the CPU.
fn bf16_safetensors_through_a_burn_matmul(b: Bridge) {
    let gpu = b.gpu();
    let dir = std::env::temp_dir().join(format!("tb-burn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    let (m, k, n) = (24, 40, 16);
    let w = Array2::from_shape_fn((m, k), |(i, j)| {
        bf16::from_f32(((i * k + j) % 23) as f32 / 7.0 - 1.5)
    });
    let x = Array2::from_shape_fn((k, n), |(i, j)| {
        bf16::from_f32(((i + 3 * j) % 11) as f32 / 5.0 - 1.0)
    });
    let (wt, xt) = (gpu.upload(&w).unwrap(), gpu.upload(&x).unwrap());
    gpu.save(&path, &[("w", &wt), ("x", &xt)]).unwrap();
    let loaded = gpu.load(&path).unwrap();
    let get = |name: &str| loaded.iter().find(|(nm, _)| nm == name).unwrap().1.clone();
    let (w32, x32) = (
        get("w").cast(DType::F32).unwrap(),
        get("x").cast(DType::F32).unwrap(),
    );
    let (wc, xc) = (w.mapv(|v| v.to_f32()), x.mapv(|v| v.to_f32()));
    assert_eq!(w32.to_array::<f32>().unwrap(), wc.clone().into_dyn());
    let y: BurnTensor<2> = b
        .to_burn::<2, Float>(&w32)
        .unwrap()
        .matmul(b.to_burn(&x32).unwrap());
    let got: ArrayD<f32> = b.from_burn(y).unwrap().to_array::<f32>().unwrap();
    let want = wc.dot(&xc);
    assert_eq!(got.shape(), &[m, n]);
    for (g, w) in got.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{g} vs {w}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = IxDyn(&[0]);
}

fn adopted_burn_tensors_outlive_their_burn_handle(b: Bridge) {
    let device = b.device().clone();
    let t: BurnTensor<1> = BurnTensor::from_floats([1.0, 2.0, 3.0, 4.0], &device);
    let tb: Tensor = b.from_burn(t).unwrap();
    // Burn allocates again; the adopted range must not be reused while tensorbridge holds it.
    for i in 0..20 {
        let other: BurnTensor<1> = BurnTensor::from_floats([i as f32; 4], &device);
        drop(other * 2.0);
    }
    assert_eq!(
        tb.to_array::<f32>().unwrap().as_slice().unwrap(),
        &[1.0, 2.0, 3.0, 4.0]
    );
}
}
