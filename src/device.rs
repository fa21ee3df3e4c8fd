//! [`Gpu`]: adapter choice, device creation with the adapter's real limits, error capture.

use std::sync::{Arc, Mutex};

use crate::cast::CastKernels;
use crate::pool::Pool;
use crate::{Error, Result};

/// How host memory reaches the device. Chosen automatically per adapter; see [`GpuInfo::path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferPath {
    /// Unified memory (CPU adapters, integrated GPUs) with `MAPPABLE_PRIMARY_BUFFERS`: tensors live
    /// in mappable storage buffers, written and read straight through the mapping. One host copy.
    Mapped,
    /// Reused mapped staging buffers plus `copy_buffer_to_buffer`, in chunks of
    /// [`Gpu::staging_chunk_bytes`], two in flight. One host copy plus one device copy.
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
    /// [`GpuInfo::native_casts`]). The results are the same bits either way.
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

/// Adapter name, backend, device type, features and limits of a [`Gpu`] (or of an adapter).
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
    /// The transfer path in use; `None` for an adapter not opened as a [`Gpu`].
    pub path: Option<TransferPath>,
    /// Largest single device buffer tensorbridge creates; bigger tensors are chunked.
    pub max_chunk_bytes: u64,
    /// The conversions the casts do with the adapter's own instructions ("int->f32",
    /// "f32->int", "f32->f16", and "f64->f32" and "int<->f64" where the device has
    /// SHADER_F64), because a probe at device creation showed them to give the
    /// same bits as the integer-only versions used everywhere else. Empty for an adapter not
    /// opened as a [`Gpu`], or with [`GpuOptions::integer_casts`].
    pub native_casts: Vec<&'static str>,
}

impl GpuInfo {
    fn from_adapter(adapter: &wgpu::Adapter) -> Self {
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
            max_chunk_bytes: chunk_limit(&limits, None),
            limits,
            path: None,
            native_casts: Vec::new(),
        }
    }
}

/// The largest buffer we create: under both binding and buffer limits, a multiple of 256 bytes
/// (so any dtype's chunk holds a multiple of 4 elements and words stay whole).
fn chunk_limit(limits: &wgpu::Limits, cap: Option<u64>) -> u64 {
    let lim = limits
        .max_buffer_size
        .min(limits.max_storage_buffer_binding_size)
        .min(cap.unwrap_or(u64::MAX));
    (lim & !255).max(256)
}

/// A GPU device: the entry point of tensorbridge. Cheap to clone (shared), `Send + Sync`.
///
/// Holds the device and queue, the buffer pool, and the compiled cast kernels.
#[derive(Clone)]
pub struct Gpu {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: GpuInfo,
    pub path: TransferPath,
    pub max_chunk_bytes: u64,
    pub pool: Pool,
    pub kernels: CastKernels,
    /// The in-place byte-swap kernel, compiled on first use (for big-endian files).
    #[cfg(not(target_arch = "wasm32"))]
    pub byteswap: std::sync::OnceLock<crate::kernels::Kernels>,
    /// The statistics kernels, compiled on first use.
    pub reduce: std::sync::OnceLock<crate::kernels::Kernels>,
    /// The quantization kernels, compiled on first use.
    pub quant: std::sync::OnceLock<crate::kernels::Kernels>,
    /// Set by the device-lost callback; every call checks it first.
    pub lost: Arc<Mutex<Option<String>>>,
    /// Errors no scope caught (wgpu would otherwise panic on them), converted at capture time
    /// (`wgpu::Error` is not `Send` on the web).
    pub uncaptured: Arc<Mutex<Option<Error>>>,
    /// Phase times of every transfer and cast ([`Gpu::stats`]).
    pub stats: crate::stats::Recorder,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("name", &self.shared.info.name)
            .field("backend", &self.shared.info.backend)
            .field("path", &self.shared.path)
            .finish()
    }
}

fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let ty = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::BrowserWebGpu => 1,
        _ => 2,
    };
    (ty, backend)
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

impl Gpu {
    /// Opens the best adapter (discrete > integrated > CPU; Vulkan/Metal/DX12 before GL), honouring
    /// `TENSORBRIDGE_BACKEND` and `TENSORBRIDGE_ADAPTER`. Blocking; native only (on wasm it returns
    /// [`Error::BlockingUnsupported`]; use [`Gpu::new_async`]).
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// println!("{} via {:?}", gpu.info().name, gpu.info().backend);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn new() -> Result<Gpu> {
        Self::with_options(GpuOptions::from_env()?)
    }

    /// [`Gpu::new`] without blocking; works natively and on wasm (WebGPU).
    pub async fn new_async() -> Result<Gpu> {
        Self::with_options_async(GpuOptions::from_env()?).await
    }

    /// Opens an adapter chosen by `options` (blocking, native only).
    pub fn with_options(options: GpuOptions) -> Result<Gpu> {
        crate::sync::block_on("Gpu::with_options", "Gpu::with_options_async", || {
            Self::with_options_async(options)
        })?
    }

    /// Opens an adapter chosen by `options`.
    pub async fn with_options_async(options: GpuOptions) -> Result<Gpu> {
        let instance = instance();
        let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        let found: Vec<String> = adapters
            .iter()
            .map(|a| format!("{} ({:?})", a.get_info().name, a.get_info().backend))
            .collect();
        let want_name = options.adapter_name.as_ref().map(|s| s.to_lowercase());
        let adapter = adapters
            .into_iter()
            .filter(|a| {
                let info = a.get_info();
                options.backend.is_none_or(|b| b == info.backend)
                    && want_name
                        .as_ref()
                        .is_none_or(|n| info.name.to_lowercase().contains(n))
            })
            .min_by_key(|a| rank(&a.get_info()));
        let adapter = match adapter {
            Some(a) => a,
            // enumerate_adapters is empty on the web: ask for the default adapter there.
            None if found.is_empty() => instance
                .request_adapter(&wgpu::RequestAdapterOptions::default())
                .await
                .map_err(|e| Error::NoAdapter {
                    reason: e.to_string(),
                })?,
            None => {
                return Err(Error::NoAdapter {
                    reason: format!(
                        "none matches backend={:?} name={:?}; found: {}",
                        options.backend,
                        options.adapter_name,
                        found.join(", ")
                    ),
                });
            }
        };
        Self::open(adapter, &options).await
    }

    async fn open(adapter: wgpu::Adapter, options: &GpuOptions) -> Result<Gpu> {
        let mut info = GpuInfo::from_adapter(&adapter);
        let unified = matches!(
            info.device_type,
            wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
        );
        let mappable = info
            .features
            .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
        let path = match options.path {
            Some(TransferPath::Mapped) if !mappable => {
                return Err(Error::InvalidOption {
                    name: "path",
                    value: "Mapped".into(),
                    reason: format!("{} lacks MAPPABLE_PRIMARY_BUFFERS", info.name),
                });
            }
            Some(p) => p,
            None if info.backend == wgpu::Backend::BrowserWebGpu => TransferPath::Web,
            None if unified && mappable => TransferPath::Mapped,
            None => TransferPath::Staged,
        };
        let mut features = wgpu::Features::empty();
        if path == TransferPath::Mapped {
            features |= wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
        }
        // The cast kernels move u64 words where they can: on CPU adapters a load or store costs
        // about the same whatever its width. Only loads, stores, shifts and masks use them.
        features |= info.features & wgpu::Features::SHADER_INT64;
        // f64 only for the native f64 conversions, where their probes find them exact.
        if features.contains(wgpu::Features::SHADER_INT64) {
            features |= info.features & wgpu::Features::SHADER_F64;
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("tensorbridge"),
                required_features: features,
                required_limits: info.limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::RequestDevice {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;
        let lost = Arc::new(Mutex::new(None));
        let lost_cb = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut l) = lost_cb.lock() {
                *l = Some(format!("{reason:?}: {msg}"));
            }
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let unc = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut u) = unc.lock() {
                u.get_or_insert(wgpu_error("GPU operation", 0, e));
            }
        }));
        let max_chunk_bytes = chunk_limit(&info.limits, options.max_chunk_bytes);
        info.max_chunk_bytes = max_chunk_bytes;
        info.path = Some(path);
        let kernels = CastKernels::new(&device);
        let pool = Pool::new(
            options.pool_bytes.unwrap_or(1 << 30),
            options.memory_budget,
            max_chunk_bytes,
        );
        let mut gpu = Gpu {
            shared: Arc::new(Shared {
                device,
                queue,
                info,
                path,
                max_chunk_bytes,
                pool,
                kernels,
                #[cfg(not(target_arch = "wasm32"))]
                byteswap: Default::default(),
                reduce: Default::default(),
                quant: Default::default(),
                lost,
                uncaptured,
                stats: Default::default(),
            }),
        };
        if !options.integer_casts {
            let native = crate::cast::native::probe(&gpu).await;
            // Nothing else holds the device yet.
            if let Some(shared) = Arc::get_mut(&mut gpu.shared) {
                shared.kernels.native = native;
                shared.info.native_casts = native.names();
            }
        }
        Ok(gpu)
    }

    /// Every adapter wgpu finds on this machine, with features and limits (blocking, native).
    pub fn adapters() -> Vec<GpuInfo> {
        let instance = instance();
        crate::sync::block_on("Gpu::adapters", "Gpu::new_async", || {
            instance.enumerate_adapters(wgpu::Backends::all())
        })
        .map(|v| v.iter().map(GpuInfo::from_adapter).collect())
        .unwrap_or_default()
    }

    /// Adapter name, backend, device type, features, limits and the transfer path chosen.
    pub fn info(&self) -> &GpuInfo {
        &self.shared.info
    }

    /// The underlying wgpu device, for interop with your own kernels.
    pub fn device(&self) -> &wgpu::Device {
        &self.shared.device
    }

    /// The underlying wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.shared.queue
    }

    /// Bytes of one staging chunk on the [`TransferPath::Staged`] path (16 MiB, or less when the
    /// device's buffers are smaller): wgpu and drivers reuse host blocks up to about this size.
    pub fn staging_chunk_bytes(&self) -> u64 {
        (16 << 20).min(self.shared.max_chunk_bytes)
    }

    /// Waits until all submitted GPU work has finished (blocking, native only).
    pub fn synchronize(&self) -> Result<()> {
        if cfg!(target_arch = "wasm32") {
            return Err(Error::BlockingUnsupported {
                call: "Gpu::synchronize",
                alternative: "Gpu::synchronize_async().await",
            });
        }
        self.check()?;
        self.shared
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| self.lost_or(e.to_string()))?;
        self.check()
    }

    /// Waits until all submitted GPU work has finished, without blocking (native and wasm).
    pub async fn synchronize_async(&self) -> Result<()> {
        if cfg!(not(target_arch = "wasm32")) {
            return self.synchronize();
        }
        self.check()?;
        let (tx, rx) = futures_channel::oneshot::channel();
        self.shared.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        rx.await
            .map_err(|_| self.lost_or("the work-done callback was dropped".into()))?;
        self.check()
    }

    /// Destroys the device. Every later call on this `Gpu` or its tensors is
    /// [`Error::DeviceLost`].
    pub fn destroy(&self) {
        self.shared.pool.trim();
        self.shared.device.destroy();
        if let Ok(mut l) = self.shared.lost.lock() {
            l.get_or_insert_with(|| "destroyed by Gpu::destroy".into());
        }
    }

    /// Device lost, or an uncaptured GPU error pending: report it.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(reason) = self.shared.lost.lock().ok().and_then(|l| l.clone()) {
            return Err(Error::DeviceLost { reason });
        }
        if let Some(e) = self
            .shared
            .uncaptured
            .lock()
            .ok()
            .and_then(|mut u| u.take())
        {
            return Err(e);
        }
        Ok(())
    }

    /// Converts a failure message into `DeviceLost` when the device is gone.
    pub(crate) fn lost_or(&self, msg: String) -> Error {
        match self.check() {
            Err(e @ Error::DeviceLost { .. }) => e,
            _ => Error::Gpu(msg),
        }
    }

    /// Creates a buffer inside an out-of-memory error scope.
    pub(crate) fn create_buffer(
        &self,
        what: &'static str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer> {
        self.check()?;
        let desc = wgpu::BufferDescriptor {
            label: Some(what),
            size,
            usage,
            mapped_at_creation: false,
        };
        self.shared.pool.count_created();
        if cfg!(target_arch = "wasm32") {
            // Scopes resolve asynchronously on the web; errors reach the uncaptured handler.
            return Ok(self.shared.device.create_buffer(&desc));
        }
        let scope = self
            .shared
            .device
            .push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.shared.device.create_buffer(&desc);
        let err = crate::sync::block_on("create_buffer", "", || scope.pop())?;
        match err {
            Some(e) => Err(wgpu_error(what, size, e)),
            None => Ok(buffer),
        }
    }
}

pub(crate) fn wgpu_error(what: &'static str, bytes: u64, e: wgpu::Error) -> Error {
    match e {
        wgpu::Error::OutOfMemory { .. } => Error::OutOfMemory { what, bytes },
        other => Error::Gpu(other.to_string()),
    }
}
