//! `.npz`: a zip of `.npy` files, stored (`np.savez`) or deflated (`np.savez_compressed`).
//!
//! Stored entries are read in place from the mapped archive; deflated ones are inflated into
//! one reused buffer.

use std::io::{Cursor, Read};
use std::path::Path;

use zip::CompressionMethod;

use super::LoadOptions;
use super::npy::{MAX_HEADER_LEN, NpyHeader, ParseOptions as NpyParseOptions, parse_header};
use crate::{Error, Gpu, Result, Tensor};

pub(super) fn load(
    gpu: &Gpu,
    path: &Path,
    map: &[u8],
    opts: &LoadOptions,
) -> Result<Vec<(String, Tensor)>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(map)).map_err(|e| Error::file_cause(path, e))?;
    let mut out = Vec::with_capacity(zip.len());
    let mut inflated = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| Error::file_cause(path, e))?;
        let name = entry
            .name()
            .map_err(|e| Error::file_cause(path, e))?
            .to_string();
        let entry_path = path.join(&name);
        let Some(stem) = name.strip_suffix(".npy") else {
            return Err(Error::file(
                &entry_path,
                "an .npz entry that is not an .npy file",
            ));
        };
        let stem = stem.to_string();
        let tensor = if entry.compression() == CompressionMethod::Stored {
            let start = entry.data_start().unwrap_or(u64::MAX);
            let bytes = start
                .checked_add(entry.size())
                .and_then(|end| map.get(start as usize..end as usize))
                .ok_or_else(|| Error::file(&entry_path, "entry data lies outside the archive"))?;
            gpu.load_npy_bytes(&entry_path, bytes, opts)?
        } else {
            // Inflate the header first, then only as much data as it announces (plus one byte
            // to notice a longer entry): a lying or hostile entry cannot make us inflate more.
            inflated.clear();
            let io = |e: std::io::Error| Error::file_cause(&entry_path, e);
            (&mut entry)
                .take((MAX_HEADER_LEN + 12) as u64)
                .read_to_end(&mut inflated)
                .map_err(io)?;
            let popts = NpyParseOptions {
                void2_as_bf16: opts.void2_as_bf16,
            };
            let h = parse_header(&inflated, popts).map_err(|e| Error::file(&entry_path, e))?;
            let want = (h.data_offset as u64).saturating_add(h.data_len as u64 + 1);
            let more = want.saturating_sub(inflated.len() as u64);
            entry.take(more).read_to_end(&mut inflated).map_err(io)?;
            gpu.load_npy_bytes(&entry_path, &inflated, opts)?
        };
        out.push((stem, tensor));
    }
    Ok(out)
}

/// Parses an .npz archive's directory and the .npy header of every entry, without loading any
/// data (deflated entries are inflated only as far as their header). Errors say what is wrong.
/// Never panics (fuzzed).
pub fn parse_npz_headers(
    bytes: &[u8],
    opts: NpyParseOptions,
) -> std::result::Result<Vec<(String, NpyHeader)>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut head = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        let stem = name
            .strip_suffix(".npy")
            .ok_or_else(|| format!("{name}: an .npz entry that is not an .npy file"))?
            .to_string();
        head.clear();
        entry
            .take((MAX_HEADER_LEN + 12) as u64)
            .read_to_end(&mut head)
            .map_err(|e| format!("{name}: {e}"))?;
        let h = parse_header(&head, opts).map_err(|e| format!("{name}: {e}"))?;
        out.push((stem, h));
    }
    Ok(out)
}

/// Writes an archive of one `.npy` entry per tensor, stored or deflated, into `out`.
pub(super) fn write<W: std::io::Write + std::io::Seek>(
    out: W,
    tensors: &[(&str, &Tensor)],
    compress: bool,
    data: &mut super::WriteData<'_>,
) -> std::io::Result<W> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(out);
    for (i, (name, t)) in tensors.iter().enumerate() {
        let method = if compress {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(t.size_in_bytes() >= u32::MAX as u64 - 4096);
        zip.start_file(format!("{name}.npy"), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&super::npy::format_header(t.dtype(), t.shape()))?;
        data(i, &mut zip)?;
    }
    let mut out = zip.finish().map_err(std::io::Error::other)?;
    out.flush()?;
    Ok(out)
}
