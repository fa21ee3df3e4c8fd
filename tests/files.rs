//! .npy, .npz and safetensors: files written by NumPy itself (tests/fixtures, made by
//! make_fixtures.py) load bit-exactly on every adapter and path; our files round-trip and match
//! NumPy's bytes; every bad file gets an error naming the file and the problem; failed writes
//! leave nothing behind.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{edge_and_random_bits, gpus, scratch, valid_bits};
use tensorbridge::{DType, Error, Gpu, LoadOptions, SaveOptions, Tensor};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    entry: String,
    dtype: String,
    shape: Vec<usize>,
    bin: String,
}

fn bf16_opts() -> LoadOptions {
    LoadOptions {
        void2_as_bf16: true,
    }
}

#[test]
fn numpy_fixtures_load_bit_exact_everywhere() {
    let dir = fixtures().join("npy");
    let manifest: Vec<Expected> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut by_file: BTreeMap<&str, Vec<&Expected>> = BTreeMap::new();
    for e in &manifest {
        by_file.entry(&e.file).or_default().push(e);
    }
    for (name, gpu) in gpus() {
        for (file, expected) in &by_file {
            let loaded = gpu.load_with(dir.join(file), &bf16_opts()).unwrap();
            assert_eq!(loaded.len(), expected.len(), "{file}");
            for e in expected {
                let (_, t) = loaded
                    .iter()
                    .find(|(n, _)| *n == e.entry)
                    .unwrap_or_else(|| panic!("{file}: no entry {:?}", e.entry));
                assert_eq!(t.dtype(), e.dtype.parse::<DType>().unwrap(), "{file}");
                assert_eq!(t.shape(), &e.shape[..], "{file} {}", e.entry);
                let want = std::fs::read(dir.join(&e.bin)).unwrap();
                assert!(t.to_bytes().unwrap() == want, "{name}: {file} {}", e.entry);
            }
        }
    }
}

#[test]
fn our_npy_files_are_numpys_bytes() {
    let dir = fixtures().join("npy");
    let out = scratch("same-bytes");
    let gpu = Gpu::new().unwrap();
    for d in DType::ALL {
        let file = format!("{}.npy", d.name());
        let t = gpu
            .load_with(dir.join(&file), &bf16_opts())
            .unwrap()
            .remove(0)
            .1;
        t.save_npy(out.join(&file)).unwrap();
        let ours = std::fs::read(out.join(&file)).unwrap();
        let numpys = std::fs::read(dir.join(&file)).unwrap();
        assert!(ours == numpys, "{file}: bytes differ from NumPy's");
    }
    std::fs::remove_dir_all(out).unwrap();
}

/// Big-endian .npy files of every length around the byte-swap kernel's 64-byte groups (and
/// across chunks, on the tiny-chunk variant) load as the bytes of the little-endian data.
#[test]
fn big_endian_npy_of_any_length_loads_swapped() {
    let out = scratch("big-endian");
    let path = out.join("x.npy");
    for (name, gpu) in gpus() {
        for d in [DType::I16, DType::F32, DType::U64] {
            let size = d.size_in_bytes();
            for len in (0..=70).chain([1000, 4099]) {
                let le: Vec<u8> = (0..len * size).map(|i| (i * 7 + len) as u8).collect();
                gpu.upload_bytes(&le, d, &[len])
                    .unwrap()
                    .save_npy(&path)
                    .unwrap();
                let mut file = std::fs::read(&path).unwrap();
                let header = file.len() - le.len();
                let at = file.windows(2).position(|w| w == b"'<").unwrap();
                assert!(at < header);
                file[at + 1] = b'>';
                file[header..].chunks_mut(size).for_each(<[u8]>::reverse);
                std::fs::write(&path, &file).unwrap();
                let back = gpu.load_npy(&path).unwrap();
                assert!(back.to_bytes().unwrap() == le, "{name}: {d} x {len}");
            }
        }
    }
    std::fs::remove_dir_all(out).unwrap();
}

fn sample(gpu: &Gpu, d: DType, shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let bits: Vec<u64> = edge_and_random_bits(n, seed)
        .into_iter()
        .map(|b| valid_bits(d, b))
        .collect();
    let bytes = common::bytes_of(d, &bits[bits.len() - n..]);
    gpu.upload_bytes(&bytes, d, shape).unwrap()
}

#[test]
fn every_format_round_trips_every_dtype() {
    let out = scratch("roundtrip");
    for (name, gpu) in gpus() {
        let tensors: Vec<(String, Tensor)> = DType::ALL
            .iter()
            .enumerate()
            .flat_map(|(i, &d)| {
                [
                    (
                        d.short_name().to_string(),
                        sample(&gpu, d, &[5, 7], i as u64),
                    ),
                    (format!("{}_0d", d.short_name()), sample(&gpu, d, &[], 1)),
                    (
                        format!("{}_empty", d.short_name()),
                        sample(&gpu, d, &[0, 4], 2),
                    ),
                ]
            })
            .collect();
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        for (file, opts) in [
            ("a.npz", SaveOptions { compress: false }),
            ("b.npz", SaveOptions { compress: true }),
            ("c.safetensors", SaveOptions::default()),
        ] {
            gpu.save_with(out.join(file), &refs, &opts).unwrap();
            let back = gpu.load_with(out.join(file), &bf16_opts()).unwrap();
            assert_eq!(back.len(), tensors.len(), "{name} {file}");
            for (n, t) in &tensors {
                let (_, b) = back.iter().find(|(m, _)| m == n).unwrap();
                assert_eq!((b.dtype(), b.shape()), (t.dtype(), t.shape()), "{file} {n}");
                assert!(
                    b.to_bytes().unwrap() == t.to_bytes().unwrap(),
                    "{name} {file} {n}"
                );
            }
        }
        for (n, t) in &tensors {
            let p = out.join(format!("{n}.npy"));
            t.save_npy(&p).unwrap();
            let b = gpu.load_with(&p, &bf16_opts()).unwrap().remove(0);
            assert_eq!(b.0, "");
            assert!(
                b.1.to_bytes().unwrap() == t.to_bytes().unwrap(),
                "{name} {n}"
            );
        }
    }
    std::fs::remove_dir_all(out).unwrap();
}

/// Loads a bad file and checks the error names the file and contains `needle`.
fn expect_file_error(gpu: &Gpu, path: &Path, needle: &str) {
    match gpu.load(path) {
        Err(Error::File {
            path: p, reason, ..
        }) => {
            let p = p.display().to_string();
            assert!(
                p.contains(path.file_name().unwrap().to_str().unwrap()),
                "{p}"
            );
            assert!(
                reason.to_lowercase().contains(needle),
                "{}: {reason:?} should mention {needle:?}",
                path.display()
            );
        }
        other => panic!("{}: expected a file error, got {other:?}", path.display()),
    }
}

#[test]
fn bad_files_get_clear_errors() {
    let bad = fixtures().join("bad");
    let gpu = Gpu::new().unwrap();
    let extra = [
        ("missing.npy", "no such file"),
        ("model.bin", "unknown file type"),
    ];
    for &(file, needle) in common::BAD_FIXTURES.iter().chain(&extra) {
        expect_file_error(&gpu, &bad.join(file), needle);
    }
    // The bf16 file loads when asked, as the bytes ml_dtypes wrote.
    let t = gpu
        .load_with(bad.join("bf16_void.npy"), &bf16_opts())
        .unwrap()
        .remove(0)
        .1;
    assert_eq!(t.dtype(), DType::BF16);
    assert_eq!(
        t.to_bytes().unwrap(),
        std::fs::read(bad.join("bf16_void.bin")).unwrap()
    );
}

/// An .npz with one deflated entry holding `npy`.
fn deflated_npz(path: &Path, npy: &[u8]) {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("a.npy", opts).unwrap();
    z.write_all(npy).unwrap();
    z.finish().unwrap();
}

fn npy_with(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.extend_from_slice(data);
    h
}

#[test]
fn deflated_entries_inflate_only_what_the_header_announces() {
    let out = scratch("deflate");
    let gpu = Gpu::new().unwrap();
    let lies = npy_with(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
        &[0; 20],
    );
    deflated_npz(&out.join("lies.npz"), &lies);
    expect_file_error(&gpu, &out.join("lies.npz"), "does not match");
    // 2^40 elements announced, 64 KiB present: a truncation error, not a 4 TiB inflate.
    let huge = npy_with(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }",
        &[7; 65536],
    );
    deflated_npz(&out.join("huge.npz"), &huge);
    expect_file_error(&gpu, &out.join("huge.npz"), "truncated");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn failed_writes_leave_nothing_behind() {
    let out = scratch("atomic");
    let gpu = Gpu::new().unwrap();
    let t = gpu.upload(&ndarray::arr1(&[1.0f32, 2.0])).unwrap();
    // Two tensors cannot go in one .npy; unknown extensions are refused.
    assert!(matches!(
        gpu.save(out.join("x.npy"), &[("a", &t), ("b", &t)]),
        Err(Error::File { .. })
    ));
    assert!(matches!(
        gpu.save(out.join("x.txt"), &[("a", &t)]),
        Err(Error::File { .. })
    ));
    assert!(matches!(
        gpu.save(out.join("x.safetensors"), &[("a", &t), ("a", &t)]),
        Err(Error::File { .. })
    ));
    // A directory that does not exist.
    assert!(matches!(
        t.save_npy(out.join("no/such/dir/x.npy")),
        Err(Error::File { .. })
    ));
    // The device goes away halfway: reading the data fails after the header was written.
    let other = Gpu::new().unwrap();
    let doomed = other.upload(&ndarray::Array1::<f64>::zeros(1000)).unwrap();
    other.destroy();
    assert!(doomed.save_npy(out.join("lost.npy")).is_err());
    assert!(other.save(out.join("lost.npz"), &[("d", &doomed)]).is_err());
    // An existing file survives a failed overwrite.
    t.save_npy(out.join("keep.npy")).unwrap();
    let before = std::fs::read(out.join("keep.npy")).unwrap();
    assert!(doomed.save_npy(out.join("keep.npy")).is_err());
    assert_eq!(std::fs::read(out.join("keep.npy")).unwrap(), before);
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["keep.npy"], "only the good file remains");
    std::fs::remove_dir_all(out).unwrap();
}

/// `Gpu::save_bytes` gives the bytes `Gpu::save_with` writes to a file, and both match the
/// committed files in `tests/fixtures/saved/`, which the browser test also compares its Blobs
/// with (so the browser's `gpu.save` writes byte for byte what the native save writes).
/// `TB_BLESS=1` rewrites them.
#[test]
fn saved_bytes_match_the_committed_files() {
    let gpu = Gpu::new().unwrap();
    let loaded = gpu.load(fixtures().join("npy/model.safetensors")).unwrap();
    let refs: Vec<(&str, &Tensor)> = loaded.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let dir = fixtures().join("saved");
    let out = scratch("golden");
    for (file, compress) in [
        ("model.npz", false),
        ("model_z.npz", true),
        ("model.safetensors", false),
    ] {
        let opts = SaveOptions { compress };
        let bytes = gpu.save_bytes(file, &refs, &opts).unwrap();
        gpu.save_with(out.join(file), &refs, &opts).unwrap();
        assert!(std::fs::read(out.join(file)).unwrap() == bytes, "{file}");
        if std::env::var_os("TB_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), &bytes).unwrap();
        }
        assert!(std::fs::read(dir.join(file)).unwrap() == bytes, "{file}");
        let back = gpu.load_bytes(file, &bytes, &bf16_opts()).unwrap();
        assert_eq!(back.len(), loaded.len());
    }
    let one = gpu
        .save_bytes("npy", &refs[..1], &SaveOptions::default())
        .unwrap();
    assert!(one.starts_with(b"\x93NUMPY"));
    assert!(matches!(
        gpu.save_bytes("npy", &refs, &SaveOptions::default()),
        Err(Error::File { .. })
    ));
    std::fs::remove_dir_all(out).unwrap();
}
