//! [`GpuInfo`]: what an adapter or an opened device is and can do.

use super::options::TransferPath;

/// Adapter name, backend, device type, features and limits of a [`crate::Gpu`] (or of an adapter).
#[derive(Debug, Clone)]
pub struct GpuInfo {
    /// Adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Driver name and version info.
    pub driver: String,
    /// Backend: Vulkan, Metal, Dx12, Gl, BrowserWebGpu.
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: wgpu::DeviceType,
    /// Features of the adapter (the device enables only what tensorbridge uses).
    pub features: wgpu::Features,
    /// Limits in force (the adapter's own, not wgpu's defaults).
    pub limits: wgpu::Limits,
    /// The transfer path in use; `None` for an adapter not opened as a [`crate::Gpu`].
    pub path: Option<TransferPath>,
    /// Largest single device buffer tensorbridge creates; bigger tensors are chunked.
    pub max_chunk_bytes: u64,
    /// The conversions the casts do with the adapter's own instructions ("int->f32",
    /// "f32->int", "f32->f16", "f16->f32", and "f64->f32" and "int<->f64" where the device has
    /// SHADER_F64), because a probe at device creation showed them to give the
    /// same bits as the integer-only versions used everywhere else. Empty for an adapter not
    /// opened as a [`crate::Gpu`], or with [`crate::GpuOptions::integer_casts`].
    pub native_casts: Vec<&'static str>,
}

impl GpuInfo {
    pub(crate) fn from_adapter(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        GpuInfo {
            name: info.name,
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            backend: info.backend,
            device_type: info.device_type,
            features: adapter.features(),
            max_chunk_bytes: super::gpu::chunk_limit(&limits, None),
            limits,
            path: None,
            native_casts: Vec::new(),
        }
    }
}
