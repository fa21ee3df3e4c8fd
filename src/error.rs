//! The one error type of tensorbridge.

use crate::DType;

/// Everything that can go wrong in tensorbridge.
///
/// Every fallible call returns [`Result`]. Bad input never panics and never silently changes
/// data: it gets one of these variants, with the fields needed to say what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter matched the request (or none exists at all).
    #[error("no GPU adapter found: {reason}")]
    NoAdapter {
        /// What was searched for and what was found.
        reason: String,
    },
    /// The adapter refused to create a device.
    #[error("adapter {adapter:?} refused to create a device: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// wgpu's message.
        reason: String,
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
    /// A file could not be read or written: missing, truncated, malformed, unsupported.
    #[error("{path}: {reason}")]
    File {
        /// The file (for an .npz entry, the archive path joined with the entry name).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Mapping a buffer for host access failed.
    #[error("mapping a GPU buffer failed: {0}")]
    Map(String),
    /// Any other error wgpu reported (validation or internal).
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// `Result` with tensorbridge's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
