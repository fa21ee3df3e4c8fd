//! Files: `.npy`, `.npz` and safetensors, read and written straight between the memory-mapped
//! file (natively) or bytes in memory ([`Gpu::load_bytes`], also in the browser) and
//! GPU-visible memory.
//!
//! Loading maps the file and uploads the data bytes in the one host copy; Fortran order is
//! fixed up during that copy and big-endian data is byte-swapped on the device. Saving streams
//! the tensor's mapped memory into the file. There is no element-wise parsing and no
//! intermediate buffer (except for deflate-compressed .npz entries, which must be inflated).
//! Writes go to a temporary file that is renamed into place, so a failed write leaves nothing.

mod npy;
mod npz;
mod safetensors;
mod stream;

use std::io::{Seek, Write};
use std::path::Path;

use ndarray::{ArrayViewD, IxDyn};

use crate::core::layout::Gather;
use crate::{DType, Error, Gpu, Result, Tensor};

pub use npy::{
    MAX_HEADER_LEN, NpyHeader, ParseOptions as NpyParseOptions, parse_header as parse_npy_header,
};
pub use npz::parse_npz_headers;
pub use stream::LoadStream;

/// Options for `Gpu::load_with` (native) and [`Gpu::load_stream`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read `.npy` data of descr `'<V2'` (raw 2-byte void, as NumPy with `ml_dtypes` saves
    /// bfloat16) as bf16. Off by default: such a file is otherwise an error.
    pub void2_as_bf16: bool,
}

/// Options for `Gpu::save_with` (native) and [`Gpu::save_bytes_async`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// Deflate-compress `.npz` entries (`np.savez_compressed`); stored otherwise (`np.savez`).
    pub compress: bool,
}

/// The file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Npz,
    SafeTensors,
}

/// Writes the raw element bytes of the `i`th tensor being saved: natively straight from mapped
/// memory, in the browser from bytes read beforehand.
pub(crate) type WriteData<'a> = dyn FnMut(usize, &mut dyn Write) -> std::io::Result<()> + 'a;

/// The format a save is asked for: `name`'s extension, or `name` itself ("npz").
fn format_named(name: &str) -> Result<Format> {
    format_of(Path::new(name)).or_else(|e| {
        let bare = Path::new("x").with_extension(name);
        format_of(&bare).map_err(|_| e)
    })
}

/// Writes a whole file image of `tensors` in `format`: the one writer behind [`Gpu::save`],
/// [`Gpu::save_bytes`] and the browser's `gpu.save`, so all three give the same bytes.
fn write_image<W: Write + Seek>(
    path: &Path,
    format: Format,
    tensors: &[(&str, &Tensor)],
    opts: &SaveOptions,
    out: W,
    data: &mut WriteData<'_>,
) -> Result<W> {
    let io = |e: std::io::Error| Error::file_cause(path, e);
    match format {
        Format::Npy => match tensors {
            [(_, t)] => {
                let mut out = out;
                out.write_all(&npy::format_header(t.dtype(), t.shape()))
                    .map_err(io)?;
                data(0, &mut out).map_err(io)?;
                Ok(out)
            }
            _ => Err(Error::file(
                path,
                format!(
                    "an .npy file holds exactly one array, not {}; use .npz or .safetensors",
                    tensors.len()
                ),
            )),
        },
        Format::Npz => npz::write(out, tensors, opts.compress, data).map_err(io),
        Format::SafeTensors => {
            let mut out = out;
            safetensors::write(&mut out, tensors, data).map_err(io)?;
            Ok(out)
        }
    }
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy") => Ok(Format::Npy),
        Some("npz") => Ok(Format::Npz),
        Some("safetensors") => Ok(Format::SafeTensors),
        _ => Err(Error::file(
            path,
            "unknown file type: expected .npy, .npz or .safetensors",
        )),
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// Maps a whole file read-only.
fn map_file(path: &Path) -> Result<memmap2::Mmap> {
    let file = std::fs::File::open(path).map_err(|e| Error::file_cause(path, e))?;
    // SAFETY: the map is read-only and lives only for the load; tensorbridge copies out of it
    // at once. As with any mmap, another process truncating the file meanwhile is outside what
    // Rust can guard against (the same contract as numpy.load(mmap_mode='r')).
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::file_cause(path, e))
}

/// The layout of raw element bytes in a file.
pub(crate) struct RawLayout<'a> {
    pub dtype: DType,
    pub shape: &'a [usize],
    pub fortran: bool,
    pub big_endian: bool,
}

impl Gpu {
    /// Uploads raw file bytes of any supported layout: one host copy (transposing Fortran order
    /// during it), then an on-device byte swap for big-endian data.
    pub(crate) fn upload_raw(&self, data: &[u8], l: &RawLayout<'_>) -> Result<Tensor> {
        if !l.fortran || l.shape.len() < 2 {
            let t = self.upload_bytes(data, l.dtype, l.shape)?;
            if l.big_endian {
                t.swap_bytes_in_place()?;
            }
            return Ok(t);
        }
        if l.dtype == DType::Bool {
            crate::core::layout::cast_checked::<bool>(data, 0)?;
        }
        let t = Tensor::alloc(self, l.dtype, l.shape)?;
        let reversed: Vec<usize> = l.shape.iter().rev().copied().collect();
        // Fortran order is C order of the reversed shape; reversing the axes of that view gives
        // the array, which the gather reads in row-major order. Elements are byte arrays
        // (alignment 1), so the file's alignment never matters.
        macro_rules! gather {
            ($n:literal) => {{
                let elems: &[[u8; $n]] = bytemuck::cast_slice(data);
                let view = ArrayViewD::from_shape(IxDyn(&reversed), elems)
                    .map_err(|e| Error::gpu(e.to_string()))?
                    .reversed_axes();
                self.write_all(&[&t], &mut [Gather::new(view)])?
            }};
        }
        match l.dtype.size_in_bytes() {
            1 => gather!(1),
            2 => gather!(2),
            4 => gather!(4),
            _ => gather!(8),
        }
        if l.big_endian {
            t.swap_bytes_in_place()?;
        }
        Ok(t)
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Loads every array of a `.npy` (one entry named ""), `.npz` (names without `.npy`) or
    /// `.safetensors` file, by extension.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let dir = std::env::temp_dir().join(format!("tb-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let t = gpu.upload(&ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]))?;
    /// gpu.save(dir.join("w.safetensors"), &[("w", &t)])?;
    /// let loaded = gpu.load(dir.join("w.safetensors"))?;
    /// assert_eq!(loaded[0].0, "w");
    /// assert_eq!(loaded[0].1.to_array::<f32>()?, t.to_array::<f32>()?);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
        self.load_with(path, &LoadOptions::default())
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// [`Gpu::load`] with options.
    pub fn load_with(
        &self,
        path: impl AsRef<Path>,
        opts: &LoadOptions,
    ) -> Result<Vec<(String, Tensor)>> {
        let path = path.as_ref();
        let format = format_of(path)?;
        let map = map_file(path)?;
        self.load_image(path, format, &map, opts)
    }

    /// Loads every array of an `.npy`, `.npz` or `.safetensors` image held in memory, as
    /// `Gpu::load_with` loads a file: the same parsers, checks and errors, one copy of the
    /// data into GPU-visible memory. `name` gives the format by its extension (when it has
    /// none of the three, the bytes' magic decides) and names the image in errors. Works in the
    /// browser too.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    /// let dict = b"{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }";
    /// npy.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    /// npy.extend_from_slice(dict);
    /// npy.extend_from_slice(&[1, 0, 2, 0, 255, 255]);
    /// let t = &gpu.load_bytes("x.npy", &npy, &Default::default())?[0].1;
    /// assert_eq!(t.to_array::<i16>()?.as_slice().unwrap(), &[1, 2, -1]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn load_bytes(
        &self,
        name: &str,
        bytes: &[u8],
        opts: &LoadOptions,
    ) -> Result<Vec<(String, Tensor)>> {
        let path = Path::new(name);
        let format = match format_of(path) {
            Ok(f) => f,
            Err(_) if bytes.starts_with(b"\x93NUMPY") => Format::Npy,
            Err(_) if bytes.starts_with(b"PK") => Format::Npz,
            Err(_) => Format::SafeTensors,
        };
        self.load_image(path, format, bytes, opts)
    }

    /// Every array of an image in `format`.
    fn load_image(
        &self,
        path: &Path,
        format: Format,
        bytes: &[u8],
        opts: &LoadOptions,
    ) -> Result<Vec<(String, Tensor)>> {
        match format {
            Format::Npy => Ok(vec![(
                String::new(),
                self.load_npy_bytes(path, bytes, opts)?,
            )]),
            Format::Npz => npz::load(self, path, bytes, opts),
            Format::SafeTensors => safetensors::load(self, path, bytes),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Loads a `.npy` file as one tensor.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let path = std::env::temp_dir().join(format!("tb-doc-{}.npy", std::process::id()));
    /// gpu.upload(&ndarray::arr1(&[1u8, 2, 3]))?.save_npy(&path)?;
    /// let t = gpu.load_npy(&path)?;
    /// assert_eq!(t.to_array::<u8>()?.as_slice().unwrap(), &[1, 2, 3]);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn load_npy(&self, path: impl AsRef<Path>) -> Result<Tensor> {
        let path = path.as_ref();
        self.load_npy_bytes(path, &map_file(path)?, &LoadOptions::default())
    }

    /// One .npy image (a file, or an .npz entry) to a tensor.
    pub(crate) fn load_npy_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        opts: &LoadOptions,
    ) -> Result<Tensor> {
        let popts = npy::ParseOptions {
            void2_as_bf16: opts.void2_as_bf16,
        };
        let h = npy::parse_header(bytes, popts).map_err(|e| Error::file(path, e))?;
        let data = &bytes[h.data_offset.min(bytes.len())..];
        if data.len() < h.data_len {
            return Err(Error::file(
                path,
                format!(
                    "truncated data: shape {:?} of {} needs {} bytes, the file has {}",
                    h.shape,
                    h.dtype,
                    h.data_len,
                    data.len()
                ),
            ));
        }
        if data.len() > h.data_len {
            return Err(Error::file(
                path,
                format!(
                    "the header does not match the data: shape {:?} of {} is {} bytes, the file \
                     has {}",
                    h.shape,
                    h.dtype,
                    h.data_len,
                    data.len()
                ),
            ));
        }
        let layout = RawLayout {
            dtype: h.dtype,
            shape: &h.shape,
            fortran: h.fortran,
            big_endian: h.big_endian,
        };
        self.upload_raw(data, &layout).map_err(|e| match e {
            Error::InvalidBool { .. } => Error::file_cause(path, e),
            e => e,
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Saves tensors by extension: `.npy` (exactly one tensor), `.npz` (one entry per name,
    /// stored), `.safetensors`.
    pub fn save(&self, path: impl AsRef<Path>, tensors: &[(&str, &Tensor)]) -> Result<()> {
        self.save_with(path, tensors, &SaveOptions::default())
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// [`Gpu::save`] with options (e.g. a compressed .npz).
    pub fn save_with(
        &self,
        path: impl AsRef<Path>,
        tensors: &[(&str, &Tensor)],
        opts: &SaveOptions,
    ) -> Result<()> {
        let path = path.as_ref();
        for (_, t) in tensors {
            self.owns(t)?;
        }
        let format = format_of(path)?;
        let mut data = |i: usize, out: &mut dyn Write| tensors[i].1.write_data(out);
        write_atomic(path, |f| {
            write_image(path, format, tensors, opts, f, &mut data).map(drop)
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// The bytes [`Gpu::save_with`] would write to a file of `format` (`"npy"`, `"npz"`,
    /// `"safetensors"`, or a file name with one of those extensions), in memory.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1i32, 2]))?;
    /// let npy = gpu.save_bytes("npy", &[("x", &t)], &Default::default())?;
    /// assert!(npy.starts_with(b"\x93NUMPY"));
    /// assert_eq!(gpu.load_bytes("x.npy", &npy, &Default::default())?[0].1.to_array::<i32>()?,
    ///            t.to_array::<i32>()?);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn save_bytes(
        &self,
        format: &str,
        tensors: &[(&str, &Tensor)],
        opts: &SaveOptions,
    ) -> Result<Vec<u8>> {
        let mut data = |i: usize, out: &mut dyn Write| tensors[i].1.write_data(out);
        self.image_bytes(format, tensors, opts, &mut data)
    }

    /// `Gpu::save_bytes` (native) without blocking (also in the browser): reads every tensor back,
    /// then writes the same bytes `Gpu::save_with` writes to a file.
    pub async fn save_bytes_async(
        &self,
        format: &str,
        tensors: &[(&str, &Tensor)],
        opts: &SaveOptions,
    ) -> Result<Vec<u8>> {
        for (_, t) in tensors {
            self.owns(t)?;
        }
        format_named(format)?;
        let mut bytes = Vec::with_capacity(tensors.len());
        for (_, t) in tensors {
            bytes.push(t.read_bytes().await?);
        }
        let mut data = |i: usize, out: &mut dyn Write| out.write_all(&bytes[i]);
        self.image_bytes(format, tensors, opts, &mut data)
    }

    /// A file image of `format` in memory, each tensor's data written by `data`.
    fn image_bytes(
        &self,
        format: &str,
        tensors: &[(&str, &Tensor)],
        opts: &SaveOptions,
        data: &mut WriteData<'_>,
    ) -> Result<Vec<u8>> {
        for (_, t) in tensors {
            self.owns(t)?;
        }
        let f = format_named(format)?;
        let out = std::io::Cursor::new(Vec::new());
        Ok(write_image(Path::new(format), f, tensors, opts, out, data)?.into_inner())
    }
}

impl Tensor {
    #[cfg(not(target_arch = "wasm32"))]
    /// Saves the tensor as a `.npy` file (version 1.0, C order, little-endian; bf16 as '<V2').
    pub fn save_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        write_atomic(path, |f| {
            self.write_npy(f).map_err(|e| Error::file_cause(path, e))
        })
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Writes header and data, the data straight from mapped memory.
    fn write_npy(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(&npy::format_header(self.dtype(), self.shape()))?;
        self.write_data(out)
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Streams the raw element bytes from mapped memory into `out`.
    pub(crate) fn write_data(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let size = self.dtype().size_in_bytes();
        let mut io_error = None;
        let r = crate::runtime::sync::block_on("Tensor::save_npy", "", || {
            self.visit_mapped(|view, _, len| {
                out.write_all(&view[..len * size]).map_err(|e| {
                    let msg = e.to_string();
                    io_error = Some(e);
                    Error::gpu(msg)
                })
            })
        })
        .and_then(|r| r);
        match (r, io_error) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(std::io::Error::other(e)),
            (Ok(()), None) => Ok(()),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// Writes through `f` into a temporary file beside `path`, then renames it into place. On any
/// error the temporary file is removed and `path` is untouched.
fn write_atomic(path: &Path, f: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |e: std::io::Error| Error::file_cause(path, e);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    f(tmp.as_file_mut())?;
    tmp.as_file_mut().flush().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
