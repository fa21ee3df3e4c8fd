//! A bf16 safetensors file loaded by tensorbridge, cast to f32 on the device, handed to Burn,
//! multiplied in a Burn op, and the result read back by tensorbridge into an ndarray; every
//! step checked against the CPU. (`tests/bridge.rs` runs the same path as a test.)
//!
//! `cargo run --release -p tensorbridge-burn --example burn`

use burn::tensor::Tensor as BurnTensor;
use ndarray::Array2;
use tensorbridge::{DType, Gpu, bf16};
use tensorbridge_burn::{Bridge, Result};

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let bridge = Bridge::new(&gpu)?;
    println!(
        "Burn and tensorbridge on {} ({:?})",
        gpu.info().name,
        gpu.info().backend
    );

    // A weight file as a model would ship it: bf16 safetensors.
    let (m, k, n) = (64, 96, 32);
    let w = Array2::from_shape_fn((m, k), |(i, j)| {
        bf16::from_f32(((i * k + j) % 29) as f32 / 9.0 - 1.5)
    });
    let x = Array2::from_shape_fn((k, n), |(i, j)| {
        bf16::from_f32(((i + 5 * j) % 13) as f32 / 6.0 - 1.0)
    });
    let path = std::env::temp_dir().join(format!(
        "tb-burn-example-{}.safetensors",
        std::process::id()
    ));
    gpu.save(&path, &[("w", &gpu.upload(&w)?), ("x", &gpu.upload(&x)?)])?;

    // 1. Load: the file is mapped and copied once into GPU memory.
    let loaded = gpu.load(&path)?;
    std::fs::remove_file(&path).ok();
    let get = |name: &str| {
        loaded
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    };
    let (wt, xt) = (
        get("w").expect("w in the file"),
        get("x").expect("x in the file"),
    );
    let (wc, xc) = (w.mapv(|v| v.to_f32()), x.mapv(|v| v.to_f32()));
    assert_eq!(wt.to_array_as::<f32>()?, wc.clone().into_dyn(), "load");

    // 2. To Burn: cast to f32 straight into tensors Burn allocated.
    let wb: BurnTensor<2> = bridge.to_burn(&wt)?;
    let xb: BurnTensor<2> = bridge.to_burn(&xt)?;

    // 3. A Burn op.
    let y = wb.matmul(xb);

    // 4. Back: tensorbridge reads Burn's result in place, then summarises and reads it.
    let yt = bridge.from_burn(y)?;
    let got = yt.to_array::<f32>()?;
    let want = wc.dot(&xc);
    let worst = got
        .iter()
        .zip(want.iter())
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0f32, f32::max);
    assert!(
        worst < 1e-4,
        "Burn's matmul differs from the CPU by {worst}"
    );
    println!(
        "y = w x: {:?}, largest relative difference from the CPU {worst:e}",
        got.shape()
    );
    println!("summary of y on the device: {:?}", yt.summary()?);
    println!("y as f16: {:?}", yt.cast(DType::F16)?.shape());
    Ok(())
}
