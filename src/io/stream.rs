//! Files that arrive in pieces (a network response, a reader): [`LoadStream`] parses the
//! headers as they complete and writes each array's data to the GPU as it arrives, so the
//! whole file is never held in memory. The parsers and errors are those of the in-memory
//! loaders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::SafeTensorError;
use safetensors::tensor::{Metadata, TensorInfo};

use super::npy::{self, MAX_HEADER_LEN, NpyHeader};
use super::{Format, LoadOptions, RawLayout};
use crate::transfer::fill::Fill;
use crate::{Error, Gpu, Result, Tensor};

/// The safetensors crate's limit on the JSON header.
const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// Moves up to `need - buf.len()` bytes from the front of `input` into `buf`; true once `buf`
/// holds `need` bytes.
fn take_into(buf: &mut Vec<u8>, need: usize, input: &mut &[u8]) -> bool {
    let n = need.saturating_sub(buf.len()).min(input.len());
    buf.extend_from_slice(&input[..n]);
    *input = &input[n..];
    buf.len() >= need
}

/// A file loaded from a stream of byte chunks: [`Gpu::load_stream`], then
/// [`LoadStream::push`] for each chunk as it arrives and [`LoadStream::finish`] at the end.
///
/// The result is what [`Gpu::load_bytes`] gives for the same bytes, with the same errors,
/// except that a header announcing more data than the device can hold fails when the array is
/// allocated (before its data arrives) rather than as a truncated file. Memory held: the
/// headers, and at most the chunk being pushed; a Fortran-order array is the exception, as it
/// is gathered whole (it is transposed during its one host copy).
///
/// ```
/// let gpu = tensorbridge::Gpu::new()?;
/// let mut npy = b"\x93NUMPY\x01\x00".to_vec();
/// let dict = b"{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }";
/// npy.extend_from_slice(&(dict.len() as u16).to_le_bytes());
/// npy.extend_from_slice(dict);
/// npy.extend_from_slice(&[1, 0, 2, 0, 3, 0]);
/// let mut stream = gpu.load_stream("x.npy", &Default::default());
/// for piece in npy.chunks(5) {
///     stream.push(piece)?;
/// }
/// let t = &stream.finish()?[0].1;
/// assert_eq!(t.to_array::<u16>()?.as_slice().unwrap(), &[1, 2, 3]);
/// # Ok::<(), tensorbridge::Error>(())
/// ```
pub struct LoadStream {
    gpu: Gpu,
    path: PathBuf,
    opts: LoadOptions,
    state: State,
    out: Vec<(String, Tensor)>,
    received: u64,
    /// The file's length, when known.
    total: Option<u64>,
}

enum State {
    /// The format is told by the first bytes.
    Sniff(Vec<u8>),
    Npy(NpyStream),
    SafeTensors(SafeStream),
    Npz(Box<NpzStream>),
    Failed,
}

impl std::fmt::Debug for LoadStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadStream")
            .field("path", &self.path)
            .field("received", &self.received)
            .field("arrays", &self.out.len())
            .finish()
    }
}

impl Gpu {
    /// Starts loading an `.npy`, `.npz` or `.safetensors` file that arrives in chunks (see
    /// [`LoadStream`]). `name` gives the format by its extension, as for [`Gpu::load_bytes`];
    /// without one of the three, the first bytes decide.
    pub fn load_stream(&self, name: &str, opts: &LoadOptions) -> LoadStream {
        let path = PathBuf::from(name);
        let state = match super::format_of(&path) {
            Ok(format) => State::start(format),
            Err(_) => State::Sniff(Vec::new()),
        };
        LoadStream {
            gpu: self.clone(),
            path,
            opts: *opts,
            state,
            out: Vec::new(),
            received: 0,
            total: None,
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Loads a file from any reader (a socket, a pipe, stdin), writing each array to the GPU as
    /// its bytes are read, through one reused 1 MiB buffer. `name` gives the format as for
    /// [`Gpu::load_stream`].
    pub fn load_reader(
        &self,
        name: &str,
        mut reader: impl std::io::Read,
        opts: &LoadOptions,
    ) -> Result<Vec<(String, Tensor)>> {
        let mut stream = self.load_stream(name, opts);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::file_cause(Path::new(name), e)),
            };
            stream.push(&buf[..n])?;
        }
        stream.finish()
    }
}

impl State {
    fn start(format: Format) -> State {
        match format {
            Format::Npy => State::Npy(NpyStream::new()),
            Format::SafeTensors => State::SafeTensors(SafeStream::Preamble(Vec::new())),
            Format::Npz => State::Npz(Box::default()),
        }
    }
}

impl LoadStream {
    /// Tells the stream the file's whole length (a `Content-Length`, a file's size), before
    /// the first push. Then a header that announces more (or less) data than the file holds
    /// fails at once, as the in-memory loader fails on it, before anything is allocated;
    /// without it such a file fails when its array is allocated or when the stream ends early.
    pub fn set_len(&mut self, total: u64) {
        self.total = Some(total);
    }

    /// Bytes pushed so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Takes the next bytes of the file. An error leaves the stream failed: later calls fail
    /// too, and the arrays loaded so far are dropped.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        self.received += bytes.len() as u64;
        let r = self.step(bytes);
        if r.is_err() {
            self.state = State::Failed;
            self.out.clear();
        }
        r
    }

    /// Takes the arrays whose data has all arrived so far, in file order, so that work on them
    /// (a cast, a hand-over to another framework) can start while the rest of the file is
    /// still arriving. [`LoadStream::finish`] then returns only the arrays not taken. An
    /// `.npy` file's one array is complete only at `finish`.
    pub fn take_loaded(&mut self) -> Vec<(String, Tensor)> {
        std::mem::take(&mut self.out)
    }

    /// Ends the stream: the arrays by name, in file order (an `.npy` file's one array is named
    /// `""`), or the error a truncated file gives. Arrays taken by
    /// [`LoadStream::take_loaded`] are not returned again.
    pub fn finish(mut self) -> Result<Vec<(String, Tensor)>> {
        let path = self.path.clone();
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Sniff(buf) => {
                // Shorter than a magic: let the in-memory loader say what is wrong.
                let name = path.to_string_lossy().into_owned();
                self.gpu.load_bytes(&name, &buf, &self.opts)
            }
            State::Npy(s) => {
                let t = s.finish(&self.gpu, &path)?;
                Ok(vec![(String::new(), t)])
            }
            State::SafeTensors(s) => {
                s.finish(&path)?;
                Ok(self.out)
            }
            State::Npz(z) => {
                z.finish(&path)?;
                Ok(self.out)
            }
            State::Failed => Err(Error::file(&path, "the stream failed earlier")),
        }
    }

    fn step(&mut self, mut input: &[u8]) -> Result<()> {
        if let State::Sniff(buf) = &mut self.state {
            if !take_into(buf, 8, &mut input) {
                return Ok(());
            }
            let head = std::mem::take(buf);
            let format = if head.starts_with(b"\x93NUMPY") {
                Format::Npy
            } else if head.starts_with(b"PK") {
                Format::Npz
            } else {
                Format::SafeTensors
            };
            self.state = State::start(format);
            self.step(&head)?;
        }
        let (gpu, path, opts) = (&self.gpu, self.path.as_path(), &self.opts);
        match &mut self.state {
            State::Sniff(_) => unreachable!("handled above"),
            State::Npy(s) => {
                s.push(gpu, path, opts, self.total, &mut input)?;
                if !input.is_empty() {
                    return Err(s.longer(path, input.len()));
                }
                Ok(())
            }
            State::SafeTensors(s) => s.push(gpu, path, self.total, &mut input, &mut self.out),
            State::Npz(z) => z.push(gpu, path, opts, &mut input, &mut self.out),
            State::Failed => Err(Error::file(path, "the stream failed earlier")),
        }
    }
}

/// One `.npy` image arriving in order: preamble and header, then data.
enum NpyStream {
    Header(Vec<u8>),
    Data { h: NpyHeader, sink: Sink },
}

/// What the first bytes of an .npy image say about where its header ends.
enum HeaderEnd {
    /// More bytes are needed to tell: this many in all.
    Need(usize),
    /// The header ends here.
    At(usize),
    /// Not a readable preamble.
    Bad,
}

/// Where an array's data goes as it arrives.
enum Sink {
    /// Straight into the tensor.
    Fill(Fill),
    /// Fortran order: gathered, then transposed in its one host copy.
    Gather(Vec<u8>),
}

impl NpyStream {
    fn new() -> NpyStream {
        NpyStream::Header(Vec::new())
    }

    /// How far the header reaches, as far as the bytes so far tell.
    fn header_end(buf: &[u8]) -> HeaderEnd {
        if buf.len() < 10 {
            return HeaderEnd::Need(10);
        }
        if !buf.starts_with(b"\x93NUMPY") {
            return HeaderEnd::Bad;
        }
        let (len, start) = match buf[6] {
            1 => (u16::from_le_bytes([buf[8], buf[9]]) as usize, 10),
            2 | 3 if buf.len() < 12 => return HeaderEnd::Need(12),
            2 | 3 => (
                u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize,
                12,
            ),
            _ => return HeaderEnd::Bad,
        };
        if len > MAX_HEADER_LEN {
            return HeaderEnd::Bad;
        }
        HeaderEnd::At(start + len)
    }

    /// Consumes header and data bytes from `input`, leaving what lies after the array. `limit`
    /// is the image's length when known: a header that disagrees with it fails before the
    /// array is allocated.
    fn push(
        &mut self,
        gpu: &Gpu,
        path: &Path,
        opts: &LoadOptions,
        limit: Option<u64>,
        input: &mut &[u8],
    ) -> Result<()> {
        if let NpyStream::Header(buf) = self {
            let parse = |buf: &[u8]| {
                let popts = npy::ParseOptions {
                    void2_as_bf16: opts.void2_as_bf16,
                };
                npy::parse_header(buf, popts).map_err(|e| Error::file(path, e))
            };
            loop {
                let need = match Self::header_end(buf) {
                    HeaderEnd::Need(n) | HeaderEnd::At(n) => n,
                    // A bad magic, version or length: the parser's own error.
                    HeaderEnd::Bad => {
                        let e = parse(buf).err();
                        return Err(e.unwrap_or_else(|| Error::file(path, "bad .npy preamble")));
                    }
                };
                if !take_into(buf, need, input) {
                    return Ok(());
                }
                if matches!(Self::header_end(buf), HeaderEnd::At(end) if end == buf.len()) {
                    break;
                }
            }
            let h = parse(buf)?;
            if let Some(limit) = limit {
                let has = limit.saturating_sub(h.data_offset as u64);
                if (h.data_len as u64) < has {
                    let extra = (has - h.data_len as u64) as usize;
                    return Err(Self::mismatch(path, &h, extra));
                }
                if (h.data_len as u64) > has {
                    return Err(Self::truncated(path, &h, has));
                }
            }
            let sink = if h.fortran && h.shape.len() >= 2 {
                Sink::Gather(Vec::new())
            } else {
                Sink::Fill(Fill::new(Tensor::alloc(gpu, h.dtype, &h.shape)?))
            };
            *self = NpyStream::Data { h, sink };
        }
        let NpyStream::Data { h, sink } = self else {
            unreachable!("the header was parsed above")
        };
        match sink {
            Sink::Fill(fill) => {
                let n = (fill.remaining() as usize).min(input.len());
                fill.push(&input[..n]).map_err(|e| match e {
                    Error::InvalidBool { .. } => Error::file_cause(path, e),
                    e => e,
                })?;
                *input = &input[n..];
            }
            Sink::Gather(data) => {
                take_into(data, h.data_len, input);
            }
        }
        Ok(())
    }

    /// Whether the whole array has arrived.
    fn is_done(&self) -> bool {
        match self {
            NpyStream::Header(_) => false,
            NpyStream::Data {
                sink: Sink::Fill(f),
                ..
            } => f.remaining() == 0,
            NpyStream::Data {
                h,
                sink: Sink::Gather(d),
            } => d.len() == h.data_len,
        }
    }

    /// The error for `extra` bytes after the array's data.
    fn longer(&self, path: &Path, extra: usize) -> Error {
        match self {
            NpyStream::Data { h, .. } => Self::mismatch(path, h, extra),
            NpyStream::Header(_) => Error::file(path, "data before the header ended"),
        }
    }

    /// The in-memory loader's error for a file with `extra` bytes after the data.
    fn mismatch(path: &Path, h: &NpyHeader, extra: usize) -> Error {
        Error::file(
            path,
            format!(
                "the header does not match the data: shape {:?} of {} is {} bytes, the file has \
                 {}",
                h.shape,
                h.dtype,
                h.data_len,
                h.data_len + extra
            ),
        )
    }

    /// The in-memory loader's error for a file with only `got` bytes of data.
    fn truncated(path: &Path, h: &NpyHeader, got: u64) -> Error {
        Error::file(
            path,
            format!(
                "truncated data: shape {:?} of {} needs {} bytes, the file has {}",
                h.shape, h.dtype, h.data_len, got
            ),
        )
    }

    /// The tensor, or the error of a file that ended early.
    fn finish(self, gpu: &Gpu, path: &Path) -> Result<Tensor> {
        let truncated = |h: &NpyHeader, got: u64| Self::truncated(path, h, got);
        match self {
            NpyStream::Header(buf) => Err(npy::parse_header(&buf, Default::default())
                .err()
                .map(|e| Error::file(path, e))
                .unwrap_or_else(|| Error::file(path, "truncated header"))),
            NpyStream::Data {
                h,
                sink: Sink::Fill(fill),
            } => {
                if fill.remaining() > 0 {
                    return Err(truncated(&h, h.data_len as u64 - fill.remaining()));
                }
                let t = fill.finish()?;
                if h.big_endian {
                    t.swap_bytes_in_place()?;
                }
                Ok(t)
            }
            NpyStream::Data {
                h,
                sink: Sink::Gather(data),
            } => {
                if data.len() < h.data_len {
                    return Err(truncated(&h, data.len() as u64));
                }
                let layout = RawLayout {
                    dtype: h.dtype,
                    shape: &h.shape,
                    fortran: h.fortran,
                    big_endian: h.big_endian,
                };
                gpu.upload_raw(&data, &layout).map_err(|e| match e {
                    Error::InvalidBool { .. } => Error::file_cause(path, e),
                    e => e,
                })
            }
        }
    }
}

/// A safetensors file arriving in order.
enum SafeStream {
    /// The 8-byte header length, then the JSON header.
    Preamble(Vec<u8>),
    Data {
        /// Tensors in file order, the next one first.
        todo: std::collections::VecDeque<(String, TensorInfo)>,
        current: Option<(String, Fill)>,
        /// Data bytes still expected in all.
        left: u64,
    },
}

impl SafeStream {
    fn push(
        &mut self,
        gpu: &Gpu,
        path: &Path,
        total: Option<u64>,
        input: &mut &[u8],
        out: &mut Vec<(String, Tensor)>,
    ) -> Result<()> {
        let err = |e: SafeTensorError| Error::file_cause(path, e);
        if let SafeStream::Preamble(buf) = self {
            if !take_into(buf, 8, input) {
                return Ok(());
            }
            let n = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
            if n > MAX_SAFETENSORS_HEADER {
                return Err(err(SafeTensorError::HeaderTooLarge));
            }
            if !take_into(buf, 8 + n as usize, input) {
                return Ok(());
            }
            let metadata = parse_metadata(&buf[8..]).map_err(err)?;
            if total.is_some_and(|t| t != 8 + n + metadata.data_len() as u64) {
                return Err(err(SafeTensorError::MetadataIncompleteBuffer));
            }
            let mut todo = std::collections::VecDeque::new();
            for name in metadata.offset_keys() {
                let info = metadata.info(&name).expect("a key of the metadata").clone();
                super::safetensors::dtype_of(info.dtype).ok_or_else(|| {
                    Error::file(
                        path,
                        format!(
                            "tensor {name:?} has dtype {:?}, which tensorbridge lacks",
                            info.dtype
                        ),
                    )
                })?;
                todo.push_back((name, info));
            }
            *self = SafeStream::Data {
                todo,
                current: None,
                left: metadata.data_len() as u64,
            };
        }
        let SafeStream::Data {
            todo,
            current,
            left,
        } = self
        else {
            unreachable!("the header was parsed above")
        };
        loop {
            if current.is_none() {
                let Some((name, info)) = todo.pop_front() else {
                    break;
                };
                let dtype = super::safetensors::dtype_of(info.dtype).expect("checked above");
                let t = Tensor::alloc(gpu, dtype, &info.shape)?;
                *current = Some((name, Fill::new(t)));
            }
            let (name, fill) = current.as_mut().expect("set above");
            let n = (fill.remaining() as usize).min(input.len());
            fill.push(&input[..n]).map_err(|e| match e {
                Error::InvalidBool { .. } => Error::file(path, format!("{name:?}: {e}")),
                e => e,
            })?;
            *input = &input[n..];
            *left -= n as u64;
            if fill.remaining() > 0 {
                return Ok(());
            }
            let (name, fill) = current.take().expect("set above");
            out.push((name, fill.finish()?));
        }
        if !input.is_empty() {
            return Err(err(SafeTensorError::MetadataIncompleteBuffer));
        }
        Ok(())
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self {
            SafeStream::Preamble(buf) if buf.len() < 8 => {
                Err(Error::file_cause(path, SafeTensorError::HeaderTooSmall))
            }
            SafeStream::Preamble(_) => Err(Error::file_cause(
                path,
                SafeTensorError::InvalidHeaderLength,
            )),
            SafeStream::Data { left: 0, .. } => Ok(()),
            SafeStream::Data { .. } => Err(Error::file_cause(
                path,
                SafeTensorError::MetadataIncompleteBuffer,
            )),
        }
    }
}

/// The header as the safetensors crate reads it: UTF-8 JSON of tensor infos (and an optional
/// `__metadata__` map), validated by [`Metadata::new`] in offset order.
fn parse_metadata(header: &[u8]) -> std::result::Result<Metadata, SafeTensorError> {
    let text = std::str::from_utf8(header).map_err(SafeTensorError::InvalidHeader)?;
    let json = SafeTensorError::InvalidHeaderDeserialization;
    let map: HashMap<String, serde_json::Value> = serde_json::from_str(text).map_err(json)?;
    let mut extra = None;
    let mut tensors = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key == "__metadata__" {
            extra = Some(serde_json::from_value(value).map_err(json)?);
        } else {
            tensors.push((
                key,
                serde_json::from_value::<TensorInfo>(value).map_err(json)?,
            ));
        }
    }
    tensors.sort_by_key(|(_, info)| info.data_offsets);
    Metadata::new(extra, tensors)
}

/// An `.npz` (zip) archive arriving in order, read by its local headers.
#[derive(Default)]
struct NpzStream {
    stage: ZipStage,
}

#[derive(Default)]
enum ZipStage {
    /// The next record's signature and fixed fields.
    #[default]
    Start,
    Record(Vec<u8>),
    /// An entry's name and extra fields, `fixed` holding the 30-byte local header.
    Names {
        fixed: Vec<u8>,
        rest: Vec<u8>,
    },
    Entry(Box<Entry>),
    /// The entry's data descriptor, `len` bytes of it.
    Descriptor {
        buf: Vec<u8>,
        zip64: bool,
    },
    /// The central directory: the entries are all read, the rest is ignored.
    Directory,
}

/// One entry's data: stored or deflated bytes of an `.npy` image.
struct Entry {
    name: String,
    path: PathBuf,
    npy: NpyStream,
    /// Compressed bytes still to come, when the header says (and for deflate, the inflater).
    left: Option<u64>,
    inflate: Option<flate2::Decompress>,
    /// The deflate stream has ended (bytes the header counts after it are skipped).
    ended: bool,
    /// The .npy image's length, when the local header gives it.
    image_len: Option<u64>,
    /// Bit 3: a data descriptor follows the data.
    descriptor: bool,
    zip64: bool,
}

const LOCAL: [u8; 4] = *b"PK\x03\x04";
const CENTRAL: [u8; 4] = *b"PK\x01\x02";
const END: [u8; 4] = *b"PK\x05\x06";
const DESCRIPTOR: [u8; 4] = *b"PK\x07\x08";

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl NpzStream {
    fn push(
        &mut self,
        gpu: &Gpu,
        path: &Path,
        opts: &LoadOptions,
        input: &mut &[u8],
        out: &mut Vec<(String, Tensor)>,
    ) -> Result<()> {
        let bad = |what: &str| Error::file(path, format!("invalid Zip archive: {what}"));
        loop {
            match &mut self.stage {
                ZipStage::Directory => {
                    *input = &[];
                    return Ok(());
                }
                _ if input.is_empty() => return Ok(()),
                ZipStage::Start => self.stage = ZipStage::Record(Vec::with_capacity(30)),
                ZipStage::Record(buf) => {
                    if !take_into(buf, 4, input) {
                        return Ok(());
                    }
                    let sig: [u8; 4] = buf[..4].try_into().expect("4 bytes");
                    if sig == CENTRAL || sig == END {
                        self.stage = ZipStage::Directory;
                        continue;
                    }
                    if sig != LOCAL {
                        return Err(bad("no local file header where one should be"));
                    }
                    if !take_into(buf, 30, input) {
                        return Ok(());
                    }
                    let fixed = std::mem::take(buf);
                    self.stage = ZipStage::Names {
                        fixed,
                        rest: Vec::new(),
                    };
                }
                ZipStage::Names { fixed, rest } => {
                    let need = u16_at(fixed, 26) as usize + u16_at(fixed, 28) as usize;
                    if !take_into(rest, need, input) {
                        return Ok(());
                    }
                    let entry = Entry::new(path, fixed, rest)?;
                    self.stage = ZipStage::Entry(Box::new(entry));
                }
                ZipStage::Entry(entry) => {
                    if !entry.push(gpu, opts, input)? {
                        return Ok(());
                    }
                    let ZipStage::Entry(entry) = std::mem::take(&mut self.stage) else {
                        unreachable!("matched above")
                    };
                    let (descriptor, zip64) = (entry.descriptor, entry.zip64);
                    let name = entry.name.clone();
                    out.push((name, entry.finish(gpu)?));
                    self.stage = if descriptor {
                        ZipStage::Descriptor {
                            buf: Vec::new(),
                            zip64,
                        }
                    } else {
                        ZipStage::Start
                    };
                }
                ZipStage::Descriptor { buf, zip64 } => {
                    // crc and two sizes (4 or 8 bytes each), after an optional signature.
                    let body = if *zip64 { 20 } else { 12 };
                    if !take_into(buf, 4, input) {
                        return Ok(());
                    }
                    let need = if buf[..4] == DESCRIPTOR {
                        4 + body
                    } else {
                        body
                    };
                    if !take_into(buf, need, input) {
                        return Ok(());
                    }
                    self.stage = ZipStage::Start;
                }
            }
        }
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self.stage {
            ZipStage::Directory => Ok(()),
            ZipStage::Entry(e) => Err(e.truncated()),
            _ => Err(Error::file(
                path,
                "invalid Zip archive: it ends before its central directory",
            )),
        }
    }
}

impl Entry {
    /// An entry from its 30-byte local header and the name and extra fields after it.
    fn new(path: &Path, fixed: &[u8], rest: &[u8]) -> Result<Entry> {
        let name_len = u16_at(fixed, 26) as usize;
        let name = String::from_utf8_lossy(&rest[..name_len]).into_owned();
        let entry_path = path.join(&name);
        let Some(stem) = name.strip_suffix(".npy") else {
            return Err(Error::file(
                &entry_path,
                "an .npz entry that is not an .npy file",
            ));
        };
        let flags = u16_at(fixed, 6);
        if flags & 1 != 0 {
            return Err(Error::file(
                &entry_path,
                "encrypted entries are not supported",
            ));
        }
        let descriptor = flags & 8 != 0;
        let mut compressed = u32_at(fixed, 18) as u64;
        let mut image_len = u32_at(fixed, 22) as u64;
        // A zip64 extra field holds the sizes the 32-bit fields cannot.
        let mut zip64 = false;
        let mut extra = &rest[name_len..];
        while extra.len() >= 4 {
            let (id, len) = (u16_at(extra, 0), u16_at(extra, 2) as usize);
            let body = extra.get(4..4 + len).unwrap_or(&[]);
            if id == 1 {
                zip64 = true;
                // Uncompressed, then compressed size, each present only where its 32-bit
                // field is all ones.
                let mut at = 0;
                for size in [&mut image_len, &mut compressed] {
                    if *size == u32::MAX as u64 && body.len() >= at + 8 {
                        *size = u64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
                        at += 8;
                    }
                }
            }
            extra = extra.get(4 + len..).unwrap_or(&[]);
        }
        let inflate = match u16_at(fixed, 8) {
            0 => None,
            8 => Some(flate2::Decompress::new(false)),
            m => {
                return Err(Error::file(
                    &entry_path,
                    format!("compression method {m} is not supported (only stored and deflated)"),
                ));
            }
        };
        Ok(Entry {
            name: stem.to_string(),
            path: entry_path,
            npy: NpyStream::new(),
            left: (!descriptor).then_some(compressed),
            image_len: (!descriptor).then_some(image_len),
            inflate,
            ended: false,
            descriptor,
            zip64,
        })
    }

    /// Takes the entry's bytes from `input`; true once the entry's data is complete.
    fn push(&mut self, gpu: &Gpu, opts: &LoadOptions, input: &mut &[u8]) -> Result<bool> {
        let avail = match self.left {
            Some(left) => (left as usize).min(input.len()),
            None => input.len(),
        };
        let mut data = &input[..avail];
        let done = match &mut self.inflate {
            None => {
                let before = data.len();
                self.npy
                    .push(gpu, &self.path, opts, self.image_len, &mut data)?;
                let used = before - data.len();
                self.consume(input, used);
                if self.npy.is_done() {
                    if self.left.is_some_and(|l| l > 0) {
                        // The entry is longer than its header says.
                        return Err(self.npy.longer(&self.path, self.left.unwrap() as usize));
                    }
                    true
                } else {
                    self.left == Some(0)
                }
            }
            Some(_) if self.ended => {
                self.consume(input, avail);
                self.left.is_none_or(|l| l == 0)
            }
            Some(_) => self.inflate_from(gpu, opts, input, avail)?,
        };
        Ok(done)
    }

    fn consume(&mut self, input: &mut &[u8], n: usize) {
        *input = &input[n..];
        if let Some(left) = &mut self.left {
            *left -= n as u64;
        }
    }

    /// Inflates from the first `avail` bytes of `input` into the .npy parser. True at the end
    /// of the deflate stream.
    fn inflate_from(
        &mut self,
        gpu: &Gpu,
        opts: &LoadOptions,
        input: &mut &[u8],
        avail: usize,
    ) -> Result<bool> {
        let mut out = [0u8; 64 << 10];
        let mut data = &input[..avail];
        let io = |path: &Path, e: flate2::DecompressError| {
            Error::file_cause(path, std::io::Error::other(e))
        };
        loop {
            let z = self.inflate.as_mut().expect("a deflated entry");
            let (in0, out0) = (z.total_in(), z.total_out());
            let status = z
                .decompress(data, &mut out, flate2::FlushDecompress::None)
                .map_err(|e| io(&self.path, e))?;
            let used = (z.total_in() - in0) as usize;
            let made = (z.total_out() - out0) as usize;
            data = &data[used..];
            self.consume(input, used);
            let mut produced = &out[..made];
            if !produced.is_empty() {
                if self.npy.is_done() {
                    return Err(self.npy.longer(&self.path, produced.len()));
                }
                self.npy
                    .push(gpu, &self.path, opts, self.image_len, &mut produced)?;
                if !produced.is_empty() {
                    return Err(self.npy.longer(&self.path, produced.len()));
                }
            }
            match status {
                flate2::Status::StreamEnd => {
                    // Skip what the header counts beyond the deflate stream's end.
                    self.ended = true;
                    let skip = self.left.map_or(0, |l| (l as usize).min(input.len()));
                    self.consume(input, skip);
                    return Ok(self.left.is_none_or(|l| l == 0));
                }
                _ if used == 0 && made == 0 => return Ok(false),
                _ => {}
            }
        }
    }

    fn truncated(self) -> Error {
        Error::file(
            &self.path,
            "invalid Zip archive: the entry's data ends early",
        )
    }

    fn finish(self, gpu: &Gpu) -> Result<Tensor> {
        self.npy.finish(gpu, &self.path)
    }
}
