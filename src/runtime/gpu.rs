//! [`Gpu`]: adapter choice, device creation with the adapter's real limits, error capture,
//! and the per-device state every layer above reaches through accessors.

use std::sync::{Arc, Mutex};

use super::info::GpuInfo;
use super::kernels::Registry;
use super::native::Native;
use super::options::{GpuOptions, TransferPath};
use super::pool::Pool;
use super::sync::block_on;
use super::timing::Recorder;
use crate::core::error::Cause;
use crate::{Error, Result};

/// A GPU device: the entry point of tensorbridge. Cheap to clone (shared), `Send + Sync`.
///
/// Holds the device and queue, the buffer pool, and the compiled kernels.
#[derive(Clone)]
pub struct Gpu {
    shared: Arc<Shared>,
}

/// What one device holds. Private to the runtime: the layers above use [`Gpu`]'s methods.
struct Shared {
    /// The instance the adapter came from, when tensorbridge created it.
    instance: Option<wgpu::Instance>,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: GpuInfo,
    path: TransferPath,
    max_chunk_bytes: u64,
    pool: Pool,
    /// Which of the adapter's conversion instructions the casts may use.
    native: Native,
    /// Kernel families, each compiled on first use.
    kernels: Registry,
    /// Set by the device-lost callback; every call checks it first.
    lost: Arc<Mutex<Option<String>>>,
    /// Errors no scope caught (wgpu would otherwise panic on them), converted at capture time
    /// (`wgpu::Error` is not `Send` on the web).
    uncaptured: Arc<Mutex<Option<Error>>>,
    /// Phase times of every transfer and cast ([`Gpu::stats`]).
    stats: Recorder,
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
        block_on("Gpu::with_options", "Gpu::with_options_async", || {
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
                    source: Some(Cause::new(e)),
                })?,
            None => {
                return Err(Error::NoAdapter {
                    source: None,
                    reason: format!(
                        "none matches backend={:?} name={:?}; found: {}",
                        options.backend,
                        options.adapter_name,
                        found.join(", ")
                    ),
                });
            }
        };
        Self::open(Some(instance), adapter, &options).await
    }

    /// A `Gpu` on a caller's adapter, device and queue (wgpu 30 handles; pass clones, and keep
    /// using your own). Blocking, native only; see [`Gpu::from_wgpu_async`].
    ///
    /// The transfer path, chunk size and native casts follow the **device's** features and
    /// limits, not the adapter's: a device requested with `wgpu::Limits::default()` and no
    /// optional features works, on the staged path, chunking tensors above its 128 MiB
    /// bindings. The cast probes run on the device as [`Gpu::new`]'s do.
    ///
    /// tensorbridge installs its device-lost callback and uncaptured-error handler on the
    /// device (wgpu keeps one of each); a caller that sets its own afterwards replaces them,
    /// and tensorbridge then reports errors only through its error scopes.
    ///
    /// **The shared queue.** Everything tensorbridge does is submitted to this queue, in call
    /// order, when the call returns (uploads, casts, kernels, device copies); readbacks then
    /// wait for what they read. So work the caller submits after a tensorbridge call is ordered
    /// after it, and a tensorbridge call made after the caller's `queue.submit` sees that
    /// work's results: no flush or wait is needed in either direction. Only host-side mapping
    /// of a tensorbridge buffer by the caller needs the usual `map_async` and poll.
    ///
    /// ```
    /// use tensorbridge::wgpu;
    /// let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
    ///     backends: wgpu::Backends::all(),
    ///     ..wgpu::InstanceDescriptor::new_without_display_handle()
    /// });
    /// let adapter = pollster::block_on(instance.request_adapter(&Default::default())).unwrap();
    /// let (device, queue) =
    ///     pollster::block_on(adapter.request_device(&Default::default())).unwrap();
    /// let gpu = tensorbridge::Gpu::from_wgpu(adapter, device.clone(), queue.clone())?;
    /// assert_eq!(gpu.info().limits.max_buffer_size, device.limits().max_buffer_size);
    /// let t = gpu.upload(&ndarray::arr1(&[1u8, 2, 3]))?;
    /// assert_eq!(t.to_array_as::<f32>()?.as_slice().unwrap(), &[1.0, 2.0, 3.0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn from_wgpu(
        adapter: wgpu::Adapter,
        device: wgpu::Device,
        queue: wgpu::Queue,
    ) -> Result<Gpu> {
        Self::from_wgpu_with(adapter, device, queue, GpuOptions::default())
    }

    /// [`Gpu::from_wgpu`] with options (a chunk cap, a memory budget, integer-only casts; a
    /// forced path must be one the device allows). Blocking, native only.
    pub fn from_wgpu_with(
        adapter: wgpu::Adapter,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: GpuOptions,
    ) -> Result<Gpu> {
        block_on("Gpu::from_wgpu", "Gpu::from_wgpu_async", || {
            Self::from_wgpu_async(adapter, device, queue, options)
        })?
    }

    /// [`Gpu::from_wgpu_with`] without blocking (native and wasm).
    pub async fn from_wgpu_async(
        adapter: wgpu::Adapter,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: GpuOptions,
    ) -> Result<Gpu> {
        let info = GpuInfo::from_adapter(&adapter);
        Self::assemble(None, adapter, info, device, queue, &options).await
    }

    /// Requests a device from `adapter` with the adapter's own limits and the features
    /// tensorbridge uses, then sets it up.
    async fn open(
        instance: Option<wgpu::Instance>,
        adapter: wgpu::Adapter,
        options: &GpuOptions,
    ) -> Result<Gpu> {
        let info = GpuInfo::from_adapter(&adapter);
        let path = choose_path(&info, info.features, options)?;
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
                source: Cause::new(e),
            })?;
        Self::assemble(instance, adapter, info, device, queue, options).await
    }

    /// Sets up a `Gpu` on `device`: the transfer path, chunk size and native casts follow the
    /// **device's** features and limits (which may be below the adapter's), and the cast
    /// probes run on it.
    async fn assemble(
        instance: Option<wgpu::Instance>,
        adapter: wgpu::Adapter,
        mut info: GpuInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: &GpuOptions,
    ) -> Result<Gpu> {
        info.limits = device.limits();
        let path = choose_path(&info, device.features(), options)?;
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
                u.get_or_insert(Error::device("GPU operation", 0, e));
            }
        }));
        let max_chunk_bytes = chunk_limit(&info.limits, options.max_chunk_bytes);
        info.max_chunk_bytes = max_chunk_bytes;
        info.path = Some(path);
        let pool = Pool::new(
            options.pool_bytes.unwrap_or(1 << 30),
            options.memory_budget,
            max_chunk_bytes,
        );
        let mut gpu = Gpu {
            shared: Arc::new(Shared {
                instance,
                adapter,
                device,
                queue,
                info,
                path,
                max_chunk_bytes,
                pool,
                native: Native::default(),
                kernels: Registry::default(),
                lost,
                uncaptured,
                stats: Default::default(),
            }),
        };
        if !options.integer_casts {
            let native = super::native::probe(&gpu).await;
            // Nothing else holds the device yet.
            if let Some(shared) = Arc::get_mut(&mut gpu.shared) {
                shared.native = native;
                shared.info.native_casts = native.names();
            }
        }
        Ok(gpu)
    }

    /// Every adapter wgpu finds on this machine, with features and limits (blocking, native).
    pub fn adapters() -> Vec<GpuInfo> {
        let instance = instance();
        block_on("Gpu::adapters", "Gpu::new_async", || {
            instance.enumerate_adapters(wgpu::Backends::all())
        })
        .map(|v| v.iter().map(GpuInfo::from_adapter).collect())
        .unwrap_or_default()
    }

    /// Adapter name, backend, device type, features, limits and the transfer path chosen.
    pub fn info(&self) -> &GpuInfo {
        &self.shared.info
    }

    /// The wgpu instance, when tensorbridge created it (`None` for [`Gpu::from_wgpu`]).
    pub fn instance(&self) -> Option<&wgpu::Instance> {
        self.shared.instance.as_ref()
    }

    /// The wgpu adapter, for creating another engine on the same device.
    pub fn adapter(&self) -> &wgpu::Adapter {
        &self.shared.adapter
    }

    /// The underlying wgpu device, for interop with your own kernels. Submissions on
    /// [`Gpu::queue`] are ordered with tensorbridge's (see [`Gpu::from_wgpu`]).
    pub fn device(&self) -> &wgpu::Device {
        &self.shared.device
    }

    /// The underlying wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.shared.queue
    }

    /// The transfer path in use.
    pub(crate) fn path(&self) -> TransferPath {
        self.shared.path
    }

    /// Largest single device buffer a tensor chunk uses.
    pub(crate) fn max_chunk_bytes(&self) -> u64 {
        self.shared.max_chunk_bytes
    }

    /// The device limits in force.
    pub(crate) fn limits(&self) -> &wgpu::Limits {
        &self.shared.info.limits
    }

    /// The buffer pool.
    pub(crate) fn pool(&self) -> &Pool {
        &self.shared.pool
    }

    /// Which of the adapter's conversion instructions the casts may use.
    pub(crate) fn native(&self) -> Native {
        self.shared.native
    }

    /// The kernel registry (see [`Gpu::kernels`]).
    pub(crate) fn registry(&self) -> &Registry {
        &self.shared.kernels
    }

    /// The running phase-time totals.
    pub(crate) fn recorder(&self) -> &Recorder {
        &self.shared.stats
    }

    /// Whether `other` is this same device (clones of one `Gpu`).
    pub(crate) fn same(&self, other: &Gpu) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
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
            .map_err(|e| self.lost_because(e))?;
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
            _ => Error::gpu(msg),
        }
    }

    /// [`Gpu::lost_or`] for a wgpu error, kept as the cause.
    pub(crate) fn lost_because(&self, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        match self.check() {
            Err(lost @ Error::DeviceLost { .. }) => lost,
            _ => Error::Gpu {
                message: e.to_string(),
                source: Some(Cause::new(e)),
            },
        }
    }

    /// Checks a caller's `buffer` for an operation on `bytes` bytes from `offset`: `needs`
    /// usage, a 4-byte aligned offset, the range (rounded up to a word) inside the buffer, and
    /// this device (a copy recorded in a validation scope, never submitted).
    pub(crate) fn check_buffer(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        bytes: u64,
        needs: wgpu::BufferUsages,
    ) -> Result<()> {
        use crate::BufferProblem;
        self.check()?;
        let fail = |problem, reason: String| Err(Error::Buffer { problem, reason });
        if !buffer.usage().contains(needs) {
            let missing = needs - buffer.usage();
            return fail(
                BufferProblem::Usage,
                format!("it lacks usage {missing:?} (it has {:?})", buffer.usage()),
            );
        }
        if !offset.is_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT) {
            return fail(
                BufferProblem::Alignment,
                format!("byte offset {offset} is not a multiple of 4"),
            );
        }
        let end = offset.checked_add(bytes.next_multiple_of(4));
        if end.is_none_or(|e| e > buffer.size()) {
            return fail(
                BufferProblem::Range,
                format!(
                    "{bytes} bytes from offset {offset} (rounded up to whole words) do not fit \
                     its {} bytes",
                    buffer.size()
                ),
            );
        }
        // A buffer of another device fails validation when a command uses it. (Error scopes
        // resolve only asynchronously on the web; there the first command using it fails.)
        if cfg!(target_arch = "wasm32") {
            return Ok(());
        }
        // A pooled 256-byte target, so a steady loop of hand-offs creates no buffer.
        let probe = self
            .pool()
            .take(self, "device check", 256, wgpu::BufferUsages::COPY_DST)?;
        let scope = self
            .device()
            .push_error_scope(wgpu::ErrorFilter::Validation);
        let mut enc = self.device().create_command_encoder(&Default::default());
        let usable = buffer.usage().contains(wgpu::BufferUsages::COPY_SRC);
        if usable && buffer.size() >= 4 {
            enc.copy_buffer_to_buffer(buffer, 0, &probe, 0, 4);
        } else {
            enc.clear_buffer(buffer, 0, Some(0));
        }
        drop(enc.finish());
        let err = block_on("Gpu::check_buffer", "", || scope.pop())?;
        self.pool().give(probe);
        match err {
            Some(e) => fail(
                BufferProblem::OtherDevice,
                format!(
                    "wgpu refused to use it on this device: {}",
                    crate::core::error::DeviceError::from(e)
                ),
            ),
            None => Ok(()),
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
        let err = block_on("create_buffer", "", || scope.pop())?;
        match err {
            Some(e) => Err(Error::device(what, size, e)),
            None => Ok(buffer),
        }
    }
}

/// The transfer path: the one asked for, else mapped on unified memory with
/// MAPPABLE_PRIMARY_BUFFERS in `features`, queue writes in the browser, staged otherwise.
fn choose_path(
    info: &GpuInfo,
    features: wgpu::Features,
    options: &GpuOptions,
) -> Result<TransferPath> {
    let unified = matches!(
        info.device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
    );
    let mappable = features.contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
    Ok(match options.path {
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
    })
}

/// The largest buffer we create: under both binding and buffer limits, a multiple of 256 bytes
/// (so any dtype's chunk holds a multiple of 4 elements and words stay whole).
pub(crate) fn chunk_limit(limits: &wgpu::Limits, cap: Option<u64>) -> u64 {
    let lim = limits
        .max_buffer_size
        .min(limits.max_storage_buffer_binding_size)
        .min(cap.unwrap_or(u64::MAX));
    (lim & !255).max(256)
}
