//! safetensors: read with the `safetensors` crate (which validates the header and offsets),
//! written by streaming each tensor's mapped memory after a header the crate reads back.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::RawLayout;
use crate::{DType, Error, Gpu, Result, Tensor};

/// Our dtype for a safetensors dtype, where one exists.
pub(super) fn dtype_of(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::BOOL => DType::Bool,
        Dtype::U8 => DType::U8,
        Dtype::I8 => DType::I8,
        Dtype::U16 => DType::U16,
        Dtype::I16 => DType::I16,
        Dtype::U32 => DType::U32,
        Dtype::I32 => DType::I32,
        Dtype::U64 => DType::U64,
        Dtype::I64 => DType::I64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

/// The safetensors name of a dtype.
fn name_of(d: DType) -> &'static str {
    match d {
        DType::Bool => "BOOL",
        DType::U8 => "U8",
        DType::I8 => "I8",
        DType::U16 => "U16",
        DType::I16 => "I16",
        DType::U32 => "U32",
        DType::I32 => "I32",
        DType::U64 => "U64",
        DType::I64 => "I64",
        DType::F16 => "F16",
        DType::BF16 => "BF16",
        DType::F32 => "F32",
        DType::F64 => "F64",
    }
}

pub(super) fn load(gpu: &Gpu, path: &Path, map: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let st = SafeTensors::deserialize(map).map_err(|e| Error::file_cause(path, e))?;
    let mut entries: Vec<_> = st.iter().collect();
    // File order (by offset), which is how the data lies.
    entries.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    entries
        .into_iter()
        .map(|(name, view)| {
            let dtype = dtype_of(view.dtype()).ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "tensor {name:?} has dtype {:?}, which tensorbridge lacks",
                        view.dtype()
                    ),
                )
            })?;
            let layout = RawLayout {
                dtype,
                shape: view.shape(),
                fortran: false,
                big_endian: false,
            };
            let t = gpu.upload_raw(view.data(), &layout).map_err(|e| match e {
                Error::InvalidBool { .. } => Error::file(path, format!("{name:?}: {e}")),
                e => e,
            })?;
            Ok((name.to_string(), t))
        })
        .collect()
}

/// Writes the header (names sorted, as the safetensors package writes them), then each tensor's
/// data in the order given.
pub(super) fn write(
    file: &mut dyn std::io::Write,
    tensors: &[(&str, &Tensor)],
    data: &mut super::WriteData<'_>,
) -> std::io::Result<()> {
    use std::collections::BTreeMap;
    let mut header = BTreeMap::new();
    let mut offset = 0u64;
    for (name, t) in tensors {
        let end = offset + t.size_in_bytes();
        let entry = serde_json::json!({
            "dtype": name_of(t.dtype()),
            "shape": t.shape(),
            "data_offsets": [offset, end],
        });
        if header.insert(name.to_string(), entry).is_some() {
            return Err(std::io::Error::other(format!(
                "tensor name {name:?} appears twice"
            )));
        }
        offset = end;
    }
    let mut json = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
    // Pad so the data starts 8-byte aligned, as the format recommends.
    json.resize((json.len() + 8).next_multiple_of(8) - 8, b' ');
    file.write_all(&(json.len() as u64).to_le_bytes())?;
    file.write_all(&json)?;
    for i in 0..tensors.len() {
        data(i, file)?;
    }
    Ok(())
}
