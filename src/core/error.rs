//! The one error type of tensorbridge.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::DType;

/// The error underneath an [`Error`], returned by [`std::error::Error::source`]: an
/// [`std::io::Error`], or the wgpu error the device or a mapping reported.
///
/// Shared, so that [`Error`] stays `Clone`. Two causes compare equal when their messages do.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    /// Wraps `e`.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Cause {
        Cause(Arc::new(e))
    }
}

// No `Error` impl: `source()` hands out the error inside, so callers can downcast it.
impl std::ops::Deref for Cause {
    type Target = dyn std::error::Error + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

/// Why a caller's buffer was refused ([`Error::Buffer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BufferProblem {
    /// It lacks a usage flag the operation needs.
    Usage,
    /// The range asked for does not fit inside it.
    Range,
    /// The offset is not aligned as the device requires.
    Alignment,
    /// It belongs to another device.
    OtherDevice,
}

/// A wgpu error scope's error. `wgpu::Error` itself is not `Sync` (and not `Send` on the web),
/// so it is kept as its kind and full message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct DeviceError {
    /// "validation", "out of memory" or "internal".
    pub kind: &'static str,
    /// wgpu's description, with its own sources.
    pub message: String,
}

impl From<wgpu::Error> for DeviceError {
    fn from(e: wgpu::Error) -> DeviceError {
        let kind = match e {
            wgpu::Error::OutOfMemory { .. } => "out of memory",
            wgpu::Error::Validation { .. } => "validation",
            _ => "internal",
        };
        let mut message = e.to_string();
        let mut next = std::error::Error::source(&e);
        while let Some(s) = next {
            message = format!("{message}: {s}");
            next = s.source();
        }
        DeviceError { kind, message }
    }
}

/// Everything that can go wrong in tensorbridge.
///
/// Every fallible call returns [`Result`]. Bad input never panics and never silently changes
/// data: it gets one of these variants, with the fields needed to say what was wrong.
///
/// Where an underlying error exists (an io error, a wgpu error), [`std::error::Error::source`]
/// returns it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter matched the request (or none exists at all).
    #[error("no GPU adapter found: {reason}")]
    NoAdapter {
        /// What was searched for and what was found.
        reason: String,
        /// wgpu's `RequestAdapterError`, when wgpu was asked and refused.
        source: Option<Cause>,
    },
    /// The adapter refused to create a device.
    #[error("adapter {adapter:?} refused to create a device: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// wgpu's message.
        reason: String,
        /// wgpu's `RequestDeviceError`.
        source: Cause,
    },
    /// A tensor was read (or cast) as an element type other than its own.
    #[error("dtype mismatch: the tensor holds {actual}, but {requested} was requested")]
    DTypeMismatch {
        /// The tensor's dtype.
        actual: DType,
        /// The dtype asked for.
        requested: DType,
    },
    /// A destination or shape argument does not fit the tensor.
    #[error("shape mismatch: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The shape the operation needs.
        expected: Vec<usize>,
        /// The shape it was given.
        got: Vec<usize>,
    },
    /// A size exceeds a device limit (or the configured memory budget).
    #[error("{what} needs {requested} bytes, over the limit {limit} = {max} bytes")]
    TooLarge {
        /// What was being allocated.
        what: &'static str,
        /// The name of the limit, e.g. `max_buffer_size` or `memory_budget`.
        limit: &'static str,
        /// Bytes requested.
        requested: u64,
        /// The limit's value.
        max: u64,
    },
    /// The device ran out of memory (reported by a wgpu error scope).
    #[error("out of device memory while allocating {bytes} bytes for {what}")]
    OutOfMemory {
        /// What was being allocated.
        what: &'static str,
        /// Bytes requested.
        bytes: u64,
    },
    /// The device was lost (driver reset, `Gpu::destroy`, ...). Every later call fails too.
    #[error("the GPU device was lost: {reason}")]
    DeviceLost {
        /// Why, as reported by wgpu.
        reason: String,
    },
    /// A dtype name that is not one of the 13 supported ones.
    #[error(
        "unknown dtype {name:?}; expected one of bool, uint8, int8, uint16, int16, uint32, int32, uint64, int64, float16, bfloat16, float32, float64 (or u8, i32, f16, bf16, ...)"
    )]
    UnknownDType {
        /// The name given.
        name: String,
    },
    /// A bool tensor held a byte other than 0 or 1 (can only come from foreign data).
    #[error("bool tensor holds byte {value} at element {index}; bool must be 0 or 1")]
    InvalidBool {
        /// Element index.
        index: usize,
        /// The byte found.
        value: u8,
    },
    /// A blocking call was made where blocking is impossible (wasm32).
    #[error("{call} blocks, which is not possible on this target; use {alternative}")]
    BlockingUnsupported {
        /// The call made.
        call: &'static str,
        /// The async call to use instead.
        alternative: &'static str,
    },
    /// An option (or environment variable) has a value that cannot be used.
    #[error("invalid option {name}={value:?}: {reason}")]
    InvalidOption {
        /// Option or variable name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor was passed to a [`crate::Gpu`] other than the one it lives on.
    #[error("a tensor on {tensor:?} was passed to a Gpu on {gpu:?}; tensors belong to one Gpu")]
    WrongDevice {
        /// Adapter of the tensor's `Gpu`.
        tensor: String,
        /// Adapter of the `Gpu` called.
        gpu: String,
    },
    /// The tensor cannot be used now, e.g. it is mapped for a zero-copy view.
    #[error("tensor busy: {reason}")]
    Busy {
        /// Why, and what to do.
        reason: String,
    },
    /// A reduction with no identity (min, max) over an empty tensor, as NumPy refuses too.
    #[error("{what} of an empty tensor is undefined")]
    Empty {
        /// The operation.
        what: &'static str,
    },
    /// A caller's wgpu buffer cannot be used as asked ([`crate::Tensor::from_wgpu_buffer`],
    /// [`crate::Tensor::copy_to_buffer`], [`crate::Gpu::upload_into`]).
    #[error("the wgpu buffer cannot be used ({problem:?}): {reason}")]
    Buffer {
        /// Which check failed.
        problem: BufferProblem,
        /// What was wrong, with the numbers.
        reason: String,
    },
    /// A file could not be read or written: missing, truncated, malformed, unsupported.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file (for an .npz entry, the archive path joined with the entry name).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The io, zip or safetensors error, when one was the cause.
        source: Option<Cause>,
    },
    /// Mapping a buffer for host access failed.
    #[error("mapping a GPU buffer failed: {reason}")]
    Map {
        /// What failed.
        reason: String,
        /// wgpu's `BufferAsyncError` or `MapRangeError`, when wgpu reported one.
        source: Option<Cause>,
    },
    /// Any other error wgpu reported (validation or internal), or a failure tensorbridge
    /// found on the device.
    #[error("GPU error: {message}")]
    Gpu {
        /// What went wrong.
        message: String,
        /// The [`DeviceError`] a wgpu error scope caught, or wgpu's `PollError`.
        source: Option<Cause>,
    },
}

impl Error {
    /// [`Error::Gpu`] with a message and no underlying error.
    pub fn gpu(message: impl Into<String>) -> Error {
        Error::Gpu {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Gpu`] (or [`Error::OutOfMemory`]) from an error a wgpu error scope caught
    /// while doing `what`, allocating `bytes`.
    pub(crate) fn device(what: &'static str, bytes: u64, e: wgpu::Error) -> Error {
        let e = DeviceError::from(e);
        match e.kind {
            "out of memory" => Error::OutOfMemory { what, bytes },
            _ => Error::Gpu {
                message: format!("{what}: {}", e.message),
                source: Some(Cause::new(e)),
            },
        }
    }

    /// [`Error::Gpu`] from an error a wgpu validation scope caught while doing `what`.
    pub(crate) fn scope(what: impl std::fmt::Display, e: wgpu::Error) -> Error {
        let e = DeviceError::from(e);
        Error::Gpu {
            message: format!("{what}: {e}"),
            source: Some(Cause::new(e)),
        }
    }

    /// [`Error::Map`] from wgpu's error.
    pub(crate) fn map(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Map {
            reason: e.to_string(),
            source: Some(Cause::new(e)),
        }
    }

    /// [`Error::File`] naming `path`, with no underlying error.
    pub fn file(path: &Path, reason: impl std::fmt::Display) -> Error {
        Error::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
            source: None,
        }
    }

    /// [`Error::File`] naming `path`, caused by `e` (an io, zip or safetensors error).
    pub fn file_cause(path: &Path, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
            source: Some(Cause::new(e)),
        }
    }
}

/// `Result` with tensorbridge's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
