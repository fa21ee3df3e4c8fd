//! Every bad input gets its typed error; nothing panics.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::gpus;
use ndarray::{Array2, arr1};
use tensorbridge::{DType, Error, Gpu, GpuOptions, parse_backend};

#[test]
fn dtype_mismatch_is_never_a_reinterpretation() {
    for (name, gpu) in gpus() {
        let t = gpu.upload(&arr1(&[1.0f32, 2.0])).unwrap();
        assert_eq!(
            t.to_array::<u32>().unwrap_err(),
            Error::DTypeMismatch {
                actual: DType::F32,
                requested: DType::U32
            },
            "{name}"
        );
        let mut dst = ndarray::Array1::<i32>::zeros(2);
        assert!(matches!(
            t.read_into(&mut dst.view_mut()),
            Err(Error::DTypeMismatch { .. })
        ));
        assert!(matches!(
            pollster::block_on(t.read::<f64>()),
            Err(Error::DTypeMismatch { .. })
        ));
    }
}

#[test]
fn shape_mismatch() {
    for (name, gpu) in gpus() {
        let t = gpu.upload(&Array2::<u8>::zeros((3, 4))).unwrap();
        let mut dst = Array2::<u8>::zeros((4, 3));
        assert_eq!(
            t.read_into(&mut dst.view_mut()).unwrap_err(),
            Error::ShapeMismatch {
                expected: vec![3, 4],
                got: vec![4, 3]
            },
            "{name}"
        );
        assert!(matches!(
            gpu.upload_bytes(&[0u8; 7], DType::U16, &[4]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            gpu.upload_bytes(&[0, 1, 2], DType::Bool, &[3]),
            Err(Error::InvalidBool { index: 2, value: 2 })
        ));
    }
}

#[test]
fn too_large_names_the_limit() {
    let a = &Gpu::adapters()[0];
    let gpu = Gpu::with_options(GpuOptions {
        backend: Some(a.backend),
        memory_budget: Some(1 << 20),
        ..Default::default()
    })
    .unwrap();
    let ok = gpu.upload(&ndarray::Array1::<u8>::zeros(1 << 19)).unwrap();
    let err = gpu
        .upload(&ndarray::Array1::<f32>::zeros(1 << 18))
        .unwrap_err();
    match err {
        Error::TooLarge {
            limit,
            requested,
            max,
            ..
        } => {
            assert_eq!(limit, "memory_budget");
            assert_eq!(max, 1 << 20);
            assert!(requested > max);
        }
        e => panic!("expected TooLarge, got {e:?}"),
    }
    assert!(err_msg(&gpu).contains("memory_budget"));
    drop(ok);
    // Shape products that overflow usize are rejected before anything is allocated.
    assert!(matches!(
        gpu.upload_bytes(&[], DType::F64, &[usize::MAX, 2]),
        Err(Error::ShapeMismatch { .. } | Error::TooLarge { .. })
    ));
}

fn err_msg(gpu: &Gpu) -> String {
    gpu.upload(&ndarray::Array1::<f64>::zeros(1 << 20))
        .unwrap_err()
        .to_string()
}

#[test]
fn no_adapter_and_bad_options() {
    let err = Gpu::with_options(GpuOptions {
        adapter_name: Some("no-such-adapter-xyz".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, Error::NoAdapter { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-adapter-xyz"));
    assert!(matches!(
        parse_backend("glide"),
        Err(Error::InvalidOption { .. })
    ));
    assert!(matches!(
        "complex64".parse::<DType>(),
        Err(Error::UnknownDType { .. })
    ));
}

#[test]
fn device_lost_is_an_error_not_a_panic() {
    for (name, gpu) in gpus() {
        let t = gpu.upload(&arr1(&[1u32, 2, 3])).unwrap();
        gpu.destroy();
        assert!(
            matches!(gpu.upload(&arr1(&[1u8])), Err(Error::DeviceLost { .. })),
            "{name}"
        );
        assert!(
            matches!(t.to_array::<u32>(), Err(Error::DeviceLost { .. })),
            "{name}"
        );
        assert!(
            matches!(t.cast(DType::F32), Err(Error::DeviceLost { .. })),
            "{name}"
        );
        assert!(
            matches!(gpu.synchronize(), Err(Error::DeviceLost { .. })),
            "{name}"
        );
    }
}

/// Errors keep their cause: `source()` gives the io error of a missing file, the wgpu error a
/// validation scope caught, and nothing for errors tensorbridge found itself.
#[test]
fn errors_keep_the_underlying_cause() {
    use std::error::Error as _;
    let gpu = Gpu::new().unwrap();
    let missing = std::env::temp_dir().join("tensorbridge-no-such-file.npy");
    let e = gpu.load(&missing).unwrap_err();
    match &e {
        Error::File { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected Error::File, got {other:?}"),
    }
    let io = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(|e| e.kind()),
        Some(std::io::ErrorKind::NotFound),
        "{e:?}"
    );
    // A command the device rejects, outside any scope: the next call reports it, with wgpu's
    // validation error as the source.
    let uniform = gpu
        .device()
        .create_buffer(&tensorbridge::wgpu::BufferDescriptor {
            label: None,
            size: 64,
            usage: tensorbridge::wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: false,
        });
    let mut enc = gpu.device().create_command_encoder(&Default::default());
    enc.clear_buffer(&uniform, 0, None); // needs COPY_DST: a validation error
    gpu.queue().submit([enc.finish()]);
    let e = gpu.synchronize().unwrap_err();
    let device = e
        .source()
        .and_then(|s| s.downcast_ref::<tensorbridge::DeviceError>());
    assert_eq!(device.map(|d| d.kind), Some("validation"), "{e:?}");
    let t = gpu.upload(&arr1(&[1u8])).unwrap();
    assert!(t.to_array::<u16>().unwrap_err().source().is_none());
    // An adopted buffer of the wrong usage names the problem, with no cause below it.
    let e = tensorbridge::Tensor::from_wgpu_buffer(&gpu, uniform, 0, DType::U8, &[4]).unwrap_err();
    assert!(e.to_string().contains("Usage"), "{e}");
}
