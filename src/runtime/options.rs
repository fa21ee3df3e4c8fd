//! How to open a [`crate::Gpu`]: which adapter, which transfer path, which limits.

use crate::{Error, Result};

/// How host memory reaches the device. Chosen automatically per adapter; see [`crate::GpuInfo::path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferPath {
    /// Unified memory (CPU adapters, integrated GPUs) with `MAPPABLE_PRIMARY_BUFFERS`: tensors live
    /// in mappable storage buffers, written and read straight through the mapping. One host copy.
    Mapped,
    /// Reused mapped staging buffers plus `copy_buffer_to_buffer`, in chunks of
    /// [`crate::Gpu::staging_chunk_bytes`], two in flight. One host copy plus one device copy.
    Staged,
    /// The web: `queue.writeBuffer` from JS memory, copy + `mapAsync` to read.
    Web,
}

/// What to pick and how to set it up. [`GpuOptions::from_env`] reads the environment.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Only adapters of this backend (`TENSORBRIDGE_BACKEND=vulkan|metal|dx12|gl`).
    pub backend: Option<wgpu::Backend>,
    /// Only adapters whose name contains this, case-insensitively (`TENSORBRIDGE_ADAPTER`).
    pub adapter_name: Option<String>,
    /// Cap the bytes of one device buffer below the adapter's limits. Tensors above it are split
    /// into chunks; tests use a small value to exercise chunking cheaply.
    pub max_chunk_bytes: Option<u64>,
    /// Cap on live tensor bytes; an allocation over it is [`Error::TooLarge`] naming
    /// `memory_budget`.
    pub memory_budget: Option<u64>,
    /// Bytes the buffer pool may keep for reuse (default 1 GiB).
    pub pool_bytes: Option<u64>,
    /// Force a transfer path (for tests and benchmarks); `Mapped` needs an adapter with
    /// `MAPPABLE_PRIMARY_BUFFERS`.
    pub path: Option<TransferPath>,
    /// Cast with the integer-only conversions alone, never the adapter's conversion
    /// instructions, even where the probe at device creation found them exact (see
    /// [`crate::GpuInfo::native_casts`]). The results are the same bits either way.
    pub integer_casts: bool,
}

impl GpuOptions {
    /// Options from `TENSORBRIDGE_BACKEND` and `TENSORBRIDGE_ADAPTER`.
    pub fn from_env() -> Result<Self> {
        let mut o = GpuOptions::default();
        if let Some(v) = std::env::var("TENSORBRIDGE_BACKEND")
            .ok()
            .filter(|v| !v.is_empty())
        {
            o.backend = Some(parse_backend(&v)?);
        }
        o.adapter_name = std::env::var("TENSORBRIDGE_ADAPTER")
            .ok()
            .filter(|v| !v.is_empty());
        Ok(o)
    }
}

/// Parses "vulkan", "metal", "dx12", "gl" (or "gles", "webgpu").
pub fn parse_backend(name: &str) -> Result<wgpu::Backend> {
    match name.trim().to_ascii_lowercase().as_str() {
        "vulkan" | "vk" => Ok(wgpu::Backend::Vulkan),
        "metal" | "mtl" => Ok(wgpu::Backend::Metal),
        "dx12" | "d3d12" => Ok(wgpu::Backend::Dx12),
        "gl" | "gles" | "opengl" => Ok(wgpu::Backend::Gl),
        "webgpu" | "browser" => Ok(wgpu::Backend::BrowserWebGpu),
        _ => Err(Error::InvalidOption {
            name: "TENSORBRIDGE_BACKEND",
            value: name.to_string(),
            reason: "expected vulkan, metal, dx12 or gl".into(),
        }),
    }
}
