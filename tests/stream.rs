//! Files loaded from a stream of chunks (`Gpu::load_stream`, `Gpu::load_reader`): every
//! fixture, in chunks of any size, loads exactly as the in-memory loader loads it; archives
//! written without sizes in their local headers (data descriptors) load too; bad and truncated
//! files give the in-memory loader's errors.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};

use common::{gpus, scratch};
use tensorbridge::{DType, Error, Gpu, LoadOptions, SaveOptions, Tensor};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

const BF16: LoadOptions = LoadOptions {
    void2_as_bf16: true,
};

fn streamed(
    gpu: &Gpu,
    name: &str,
    bytes: &[u8],
    chunk: usize,
) -> tensorbridge::Result<Vec<(String, Tensor)>> {
    let mut s = gpu.load_stream(name, &BF16);
    for piece in bytes.chunks(chunk.max(1)) {
        s.push(piece)?;
    }
    s.finish()
}

fn same(what: &str, a: &[(String, Tensor)], b: &[(String, Tensor)]) {
    assert_eq!(a.len(), b.len(), "{what}");
    for ((na, ta), (nb, tb)) in a.iter().zip(b) {
        assert_eq!(na, nb, "{what}");
        assert_eq!(
            (ta.dtype(), ta.shape()),
            (tb.dtype(), tb.shape()),
            "{what} {na}"
        );
        assert!(
            ta.to_bytes().unwrap() == tb.to_bytes().unwrap(),
            "{what} {na}: bytes differ"
        );
    }
}

/// Every file in `dir` with one of the three extensions.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("npy" | "npz" | "safetensors")
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn streamed_loads_equal_in_memory_loads() {
    let out = scratch("stream");
    for (name, gpu) in gpus() {
        // Ours, with arrays that span chunks on the tiny-chunk configuration.
        let big: Vec<u8> = (0..12_345u32)
            .flat_map(|i| (i * 2_654_435_761).to_le_bytes())
            .collect();
        let tensors = [
            (
                "wide",
                gpu.upload_bytes(&big, DType::F32, &[12_345]).unwrap(),
            ),
            (
                "odd",
                gpu.upload_bytes(&big[..4999], DType::U8, &[4999]).unwrap(),
            ),
            (
                "half",
                gpu.upload_bytes(&big[..2 * 1001], DType::BF16, &[7, 143])
                    .unwrap(),
            ),
            (
                "flags",
                gpu.upload_bytes(&[1, 0, 1], DType::Bool, &[3]).unwrap(),
            ),
        ];
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
        gpu.save_with(
            out.join("ours.npz"),
            &refs,
            &SaveOptions { compress: false },
        )
        .unwrap();
        gpu.save_with(
            out.join("ours_z.npz"),
            &refs,
            &SaveOptions { compress: true },
        )
        .unwrap();
        gpu.save(out.join("ours.safetensors"), &refs).unwrap();
        tensors[0].1.save_npy(out.join("ours.npy")).unwrap();
        let mut files = files_in(&fixtures().join("npy"));
        files.extend(files_in(&out));
        for path in files {
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let want = gpu.load_with(&path, &BF16).unwrap();
            for chunk in [1, 7, 4096, 65_537, bytes.len()] {
                if chunk == 1 && bytes.len() > 20_000 {
                    continue;
                }
                let got = streamed(&gpu, &file, &bytes, chunk).unwrap();
                same(&format!("{name} {file} in chunks of {chunk}"), &got, &want);
            }
            // Arrays taken as they complete: the same arrays, and in our multi-array files the
            // first is handed out before the file has all arrived.
            let mut s = gpu.load_stream(&file, &BF16);
            let pieces: Vec<&[u8]> = bytes.chunks((bytes.len() / 32).max(1)).collect();
            let (mut got, mut early) = (Vec::new(), false);
            for (i, piece) in pieces.iter().enumerate() {
                s.push(piece).unwrap();
                let taken = s.take_loaded();
                early |= !taken.is_empty() && i + 1 < pieces.len();
                got.extend(taken);
            }
            got.extend(s.finish().unwrap());
            same(&format!("{name} {file} taken as loaded"), &got, &want);
            if file.starts_with("ours") && want.len() > 1 {
                assert!(early, "{name} {file}: no array was ready before the end");
            }
            // No extension: told by the magic.
            let got = streamed(&gpu, "download", &bytes, 1000).unwrap();
            same(&format!("{name} {file} by magic"), &got, &want);
            let got = gpu
                .load_reader(&file, std::fs::File::open(&path).unwrap(), &BF16)
                .unwrap();
            same(&format!("{name} {file} from a reader"), &got, &want);
        }
    }
    std::fs::remove_dir_all(out).unwrap();
}

/// Archives written to a pipe put their sizes after the data (bit 3, data descriptors), so a
/// reader of the local headers must find each entry's end from the data itself.
#[test]
fn npz_with_data_descriptors_streams() {
    use std::io::Write;
    let gpu = Gpu::new().unwrap();
    let f32s: Vec<u8> = (0..3000u32)
        .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
        .collect();
    let a = gpu.upload_bytes(&f32s, DType::F32, &[30, 100]).unwrap();
    let b = gpu.upload_bytes(&f32s[..77], DType::I8, &[77]).unwrap();
    let mut npy_a = Vec::new();
    let mut npy_b = Vec::new();
    let dir = scratch("descriptor");
    a.save_npy(dir.join("a.npy")).unwrap();
    b.save_npy(dir.join("b.npy")).unwrap();
    npy_a.extend(std::fs::read(dir.join("a.npy")).unwrap());
    npy_b.extend(std::fs::read(dir.join("b.npy")).unwrap());
    for method in [
        zip::CompressionMethod::Stored,
        zip::CompressionMethod::Deflated,
    ] {
        let mut z = zip::ZipWriter::new_stream(Vec::new());
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        z.start_file("a.npy", opts).unwrap();
        z.write_all(&npy_a).unwrap();
        z.start_file("b.npy", opts).unwrap();
        z.write_all(&npy_b).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        assert_ne!(bytes[6] & 8, 0, "{method:?}: expected a data descriptor");
        for chunk in [1, 5, 1000, bytes.len()] {
            let got = streamed(&gpu, "x.npz", &bytes, chunk).unwrap();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].0, "a");
            assert!(got[0].1.to_bytes().unwrap() == f32s, "{method:?} {chunk}");
            assert_eq!(got[1].1.to_bytes().unwrap(), &f32s[..77]);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn expect_error(r: tensorbridge::Result<Vec<(String, Tensor)>>, what: &str, needle: &str) {
    match r {
        Err(Error::File { reason, .. }) => assert!(
            reason.to_lowercase().contains(needle),
            "{what}: {reason:?} should mention {needle:?}"
        ),
        other => panic!("{what}: expected a file error, got {other:?}"),
    }
}

#[test]
fn bad_streams_get_the_in_memory_errors() {
    let bad = fixtures().join("bad");
    let gpu = Gpu::new().unwrap();
    for &(file, needle) in common::BAD_FIXTURES {
        let bytes = std::fs::read(bad.join(file)).unwrap();
        let mut s = gpu.load_stream(file, &LoadOptions::default());
        let r = bytes
            .chunks(3)
            .try_for_each(|c| s.push(c))
            .and_then(|()| s.finish());
        expect_error(r, file, needle);
    }
}

/// Every prefix of every fixture: an error (or, for an archive cut inside its central
/// directory, every entry), never a panic or a wrong array.
#[test]
fn every_truncation_is_an_error() {
    let gpu = Gpu::new().unwrap();
    for path in files_in(&fixtures().join("npy")) {
        let file = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let want = gpu.load_with(&path, &BF16).unwrap();
        let step = (bytes.len() / 97).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            match streamed(&gpu, file, &bytes[..cut], 4096) {
                Err(Error::File { .. }) => {}
                Ok(got) if file.ends_with(".npz") => {
                    same(&format!("{file} cut at {cut}"), &got, &want)
                }
                other => panic!("{file} cut at {cut}: {other:?}"),
            }
        }
    }
}

/// With the length known, a header announcing 4 TiB fails as soon as it is read, before
/// anything is allocated; so does a deflated entry whose local header gives its size.
#[test]
fn a_lying_header_fails_before_its_data() {
    use std::io::Write;
    let gpu = Gpu::new().unwrap();
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }";
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    npy.extend_from_slice(dict.as_bytes());
    npy.extend_from_slice(&[7; 4096]);
    let mut s = gpu.load_stream("huge.npy", &LoadOptions::default());
    s.set_len(npy.len() as u64);
    expect_error(s.push(&npy).map(|()| Vec::new()), "huge.npy", "truncated");
    assert!(s.push(&[0; 16]).is_err(), "a failed stream stays failed");

    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("a.npy", opts).unwrap();
    z.write_all(&npy).unwrap();
    let npz = z.finish().unwrap().into_inner();
    expect_error(
        streamed(&gpu, "huge.npz", &npz, 4096),
        "huge.npz",
        "truncated",
    );
    expect_error(
        streamed(&gpu, "huge.npz", &npz, 4095),
        "huge.npz",
        "truncated",
    );
}
