//! Running out of device memory is `Error::OutOfMemory`, not a crash.
//!
//! CPU adapters overcommit host memory, so a real allocation failure needs a limit: tests/run.sh
//! runs this test under `ulimit -v`, which makes lavapipe's allocations fail like a full GPU.
#![cfg(not(target_arch = "wasm32"))]

use tensorbridge::{DType, Error, Gpu, GpuOptions, wgpu};

#[test]
#[ignore = "needs a virtual-memory limit; tests/run.sh runs it under ulimit -v"]
fn out_of_device_memory_is_an_error() {
    let gpu = Gpu::with_options(GpuOptions {
        backend: Some(wgpu::Backend::Vulkan),
        pool_bytes: Some(0),
        ..Default::default()
    })
    .expect("lavapipe");
    // 64 MiB of host data; each cast to f64 asks the device for 512 MiB more.
    let t = gpu
        .upload_bytes(&vec![7u8; 64 << 20], DType::U8, &[64 << 20])
        .unwrap();
    let mut held = Vec::new();
    let err = loop {
        match t.cast(DType::F64) {
            Ok(c) => held.push(c),
            Err(e) => break e,
        }
        assert!(
            held.len() < 64,
            "32 GiB allocated without an error: is the limit set?"
        );
    };
    eprintln!("after {} casts: {err}", held.len());
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err:?}");
    // The device still works after the failure, and freeing memory makes room again.
    held.clear();
    let c = t.cast(DType::F64).unwrap();
    assert_eq!(c.to_array::<f64>().unwrap()[[12345]], 7.0);
}
