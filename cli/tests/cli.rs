//! The `tensorbridge` command line: convert, stats, quantize, bench --json/--plot, and errors.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::scratch;
use tensorbridge::{DType, Gpu, QuantSpec};

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tensorbridge"))
        .args(args)
        .output()
        .expect("run tensorbridge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/npy")
        .join(name)
        .display()
        .to_string()
}

/// A tensor's elements, row-major.
fn values<T: tensorbridge::Element>(t: &tensorbridge::Tensor) -> Vec<T> {
    t.to_array::<T>().unwrap().iter().copied().collect()
}

#[test]
fn convert_casts_on_the_device_and_changes_format() {
    let dir = scratch("convert");
    let out = dir.join("c.safetensors");
    let (ok, stdout, stderr) = run(&[
        "convert",
        &fixture("stored.npz"),
        out.to_str().unwrap(),
        "--to",
        "bf16",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("bfloat16"), "{stdout}");
    let gpu = Gpu::new().unwrap();
    let src = gpu.load(fixture("stored.npz")).unwrap();
    let dst = gpu.load(&out).unwrap();
    assert_eq!(src.len(), dst.len());
    for (name, t) in &src {
        let (_, c) = dst.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(c.dtype(), DType::BF16);
        assert_eq!(
            c.to_bytes().unwrap(),
            t.cast(DType::BF16).unwrap().to_bytes().unwrap()
        );
    }
    // bf16 .npy needs the flag.
    let npy = dir.join("x.npy");
    let (ok, _, stderr) = run(&[
        "convert",
        &fixture("bfloat16.npy"),
        npy.to_str().unwrap(),
        "--to",
        "f32",
    ]);
    assert!(
        !ok && stderr.contains("bfloat16.npy") && stderr.contains("--bf16"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&[
        "convert",
        &fixture("bfloat16.npy"),
        npy.to_str().unwrap(),
        "--to",
        "f32",
        "--bf16",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(gpu.load_npy(&npy).unwrap().dtype(), DType::F32);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stats_prints_summary_and_histograms() {
    let dir = scratch("stats");
    let gpu = Gpu::new().unwrap();
    let data = ndarray::Array1::from_shape_fn(1000, |i| (i % 10) as f32);
    let file = dir.join("d.npy");
    gpu.upload(&data).unwrap().save_npy(&file).unwrap();
    let (ok, stdout, stderr) = run(&["stats", file.to_str().unwrap(), "--bins", "10"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("min 0  max 9  mean 4.500000"), "{stdout}");
    assert_eq!(
        stdout.matches(" 100\n").count(),
        10,
        "ten bins of 100: {stdout}"
    );
    for ext in ["svg", "png"] {
        let plot = dir.join(format!("h.{ext}"));
        let (ok, _, stderr) = run(&[
            "stats",
            file.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
        ]);
        assert!(ok, "{stderr}");
        let bytes = std::fs::read(&plot).unwrap();
        match ext {
            "svg" => assert!(String::from_utf8(bytes).unwrap().contains("<rect")),
            _ => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
        }
    }
    // Several arrays: one plot each.
    let (ok, _, stderr) = run(&[
        "stats",
        &fixture("stored.npz"),
        "--plot",
        dir.join("m.svg").to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(dir.join("m-mask.svg").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn quantize_writes_codes_scales_and_zero_points() {
    let dir = scratch("quantize");
    let gpu = Gpu::new().unwrap();
    let w = ndarray::Array2::from_shape_fn((4, 16), |(i, j)| (i as f32 + 1.0) * (j as f32 - 7.5));
    let file = dir.join("w.safetensors");
    let t = gpu.upload(&w).unwrap();
    let ids = gpu.upload(&ndarray::arr1(&[1i64, 2])).unwrap();
    gpu.save(&file, &[("w", &t), ("ids", &ids)]).unwrap();
    let out = dir.join("q.npz");
    let (ok, stdout, stderr) = run(&[
        "quantize",
        file.to_str().unwrap(),
        out.to_str().unwrap(),
        "--int8",
        "--per-axis",
        "0",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("ids") && stdout.contains("kept as is"),
        "{stdout}"
    );
    let q = gpu.load(&out).unwrap();
    let get = |n: &str| q.iter().find(|(m, _)| m == n).unwrap().1.clone();
    let want = t
        .quantize(&QuantSpec {
            axis: Some(0),
            ..QuantSpec::int8()
        })
        .unwrap();
    assert_eq!(get("w").to_bytes().unwrap(), want.codes.to_bytes().unwrap());
    assert_eq!(values::<f32>(&get("w.scale")), want.scale);
    assert_eq!(values::<i32>(&get("w.zero_point")), want.zero_point);
    assert_eq!(values::<i64>(&get("ids")), [1, 2]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_fails_with_a_message_naming_the_file() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bad/truncated.npy");
    let (ok, _, stderr) = run(&["stats", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("truncated.npy") && stderr.contains("truncated data"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&[
        "convert",
        &fixture("stored.npz"),
        "/tmp/x.npz",
        "--to",
        "f128",
    ]);
    assert!(!ok && stderr.contains("unknown dtype"), "{stderr}");
}

#[test]
fn bench_reports_json_and_plots() {
    let dir = scratch("bench");
    let plot = dir.join("t.svg");
    let (ok, stdout, stderr) = run(&[
        "bench",
        "--sizes",
        "4K,64K",
        "--dtypes",
        "f32",
        "--cast-elems",
        "1M",
        "--quiet",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    for key in [
        "memcpy_s",
        "gpu_copy_s",
        "upload_s",
        "readback_s",
        "round_trip_s",
        "cast_s",
    ] {
        assert!(v["rows"][0][key].as_f64().unwrap() > 0.0, "{key}");
    }
    assert!(
        v["fits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "upload")
    );
    let casts = v["casts"].as_array().unwrap();
    assert_eq!(casts.len(), tensorbridge::BENCHMARKED_CASTS.len());
    for c in casts {
        assert_eq!(c["elems"], 1 << 20);
        for key in [
            "copy_s",
            "cast_s",
            "floor_s",
            "ratio_to_copy",
            "ratio_to_floor",
        ] {
            assert!(c[key].as_f64().unwrap() > 0.0, "{key}: {c}");
        }
    }
    assert!(v["gains"]["batching_gain"].as_f64().unwrap() > 0.0);
    assert!(v["stats"]["upload"]["calls"].as_u64().unwrap() > 0);
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<line"));
    std::fs::remove_dir_all(dir).unwrap();
}
