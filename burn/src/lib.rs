//! tensorbridge ⇄ Burn, on one shared wgpu device.
//!
//! [`Bridge::new`] registers a tensorbridge [`Gpu`]'s adapter, device and queue with Burn's wgpu
//! runtime, so both engines work on the same device and queue and tensors move between them on
//! the device:
//!
//! * **into Burn**: [`Bridge::to_burn`] copies a tensorbridge tensor into a tensor Burn
//!   allocated (one device copy; Burn cannot adopt a buffer it did not create), after a cast on
//!   the device where Burn does not hold the dtype; [`Bridge::upload`] puts an ndarray straight
//!   into a Burn tensor (one host copy into staging, one device copy);
//! * **out of Burn**: [`Bridge::from_burn`] adopts a Burn tensor's buffer without copying: the
//!   returned tensorbridge tensor keeps the Burn tensor alive, and `to_array`, `read_into`,
//!   `cast`, `summary` and `save` all work on it.
//!
//! Burn batches its work and submits it lazily; the bridge flushes Burn's pending work before
//! every hand-off, so on the shared queue each side sees the other's results with no wait by
//! the caller.
//!
//! ```no_run
//! use burn::tensor::Tensor as BurnTensor;
//! use tensorbridge::{DType, Gpu};
//! use tensorbridge_burn::Bridge;
//!
//! let gpu = Gpu::new()?;
//! let bridge = Bridge::new(&gpu)?;
//! let w = gpu.load("weights.safetensors")?;            // bf16, say
//! let x: BurnTensor<2> = bridge.to_burn(&w[0].1.cast(DType::F32)?)?;
//! let y = x.clone().matmul(x.transpose());              // a Burn op
//! let back = bridge.from_burn(y)?.to_array::<f32>()?;  // read back by tensorbridge
//! # Ok::<(), tensorbridge_burn::Error>(())
//! ```
#![warn(missing_docs)]

use std::fmt;

use burn::backend::wgpu::CubeTensor;
use burn::tensor::wgpu::{WgpuSetup, wgpu};
use burn::tensor::{Device, Tensor as BurnTensor};
use cubecl_wgpu::{AutoCompiler, WgpuServer};
use ndarray::{ArrayBase, Data, Dimension};
use tensorbridge::{DType, Element, Gpu, Tensor};

#[cfg(feature = "profiling")]
pub mod compare;
mod kinds;

pub use kinds::Kind;

/// Errors of the bridge: tensorbridge's, or Burn's runtime refusing something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// tensorbridge failed (see its [`tensorbridge::Error`]).
    #[error(transparent)]
    Tensorbridge(#[from] tensorbridge::Error),
    /// Burn's wgpu runtime refused the device, or a tensor of another backend was passed.
    #[error("burn: {0}")]
    Burn(String),
    /// The dtype has no Burn counterpart here, or does not match the tensor kind asked for.
    #[error("dtype {dtype} cannot go to a Burn {kind} tensor: {reason}")]
    DType {
        /// The tensorbridge dtype.
        dtype: DType,
        /// "float", "int" or "bool".
        kind: &'static str,
        /// Why.
        reason: String,
    },
}

/// `Result` with the bridge's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn burn_error(e: impl fmt::Display) -> Error {
    Error::Burn(e.to_string())
}

/// The Burn backend the bridge talks to: CubeCL on wgpu, without fusion (a fused tensor has no
/// buffer of its own until its stream runs).
pub type Backend = burn::backend::Wgpu;

/// A tensorbridge [`Gpu`] and the Burn [`Device`] registered on the same wgpu device.
#[derive(Clone)]
pub struct Bridge {
    gpu: Gpu,
    device: Device,
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridge").field("gpu", &self.gpu).finish()
    }
}

impl Bridge {
    /// Registers `gpu`'s instance, adapter, device and queue with Burn's wgpu runtime. Call it
    /// once per `Gpu` and clone the bridge: each registration is a new Burn runtime.
    ///
    /// The `Gpu` must own its instance ([`Gpu::new`] and friends; a `Gpu` made with
    /// [`Gpu::from_wgpu`] has none to give).
    pub fn new(gpu: &Gpu) -> Result<Bridge> {
        let instance = gpu.instance().cloned().ok_or_else(|| {
            Error::Burn("this Gpu came from Gpu::from_wgpu and has no wgpu instance".into())
        })?;
        let setup = WgpuSetup {
            instance,
            adapter: gpu.adapter().clone(),
            device: gpu.device().clone(),
            queue: gpu.queue().clone(),
            backend: gpu.info().backend,
        };
        let device = Device::wgpu_options()
            .setup(setup)
            .init()
            .map_err(burn_error)?;
        Ok(Bridge {
            gpu: gpu.clone(),
            device,
        })
    }

    /// The tensorbridge side.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The Burn device on the same wgpu device: create models and tensors on it.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A copy of `t` as a Burn tensor of kind `K` (`Float`, `Int` or `Bool`), made on the
    /// device in a tensor Burn allocated: one `copy_buffer_to_buffer` where Burn's tensor holds
    /// `t`'s dtype, else a cast written straight into Burn's buffer ([`Tensor::cast_into`]):
    /// floats and integers to f32 for `Float`, to i32 for `Int` (wrapping and truncating, as
    /// `astype` does), bool to Burn's u32 bools. See [`Kind`].
    pub fn to_burn<const D: usize, K: Kind>(&self, t: &Tensor) -> Result<BurnTensor<D, K>> {
        self.check_rank::<D>(t.shape())?;
        let target = K::dtype_for(t.dtype())?;
        let out = BurnTensor::<D, K>::empty(t.shape().to_vec(), &self.device);
        let (buffer, offset) = resource(&K::cube(out.clone())?)?;
        if t.dtype() == target {
            t.copy_to_buffer(&buffer, offset)?;
        } else {
            // Cast straight into Burn's buffer: no intermediate tensor, no second copy.
            let dst = Tensor::from_wgpu_buffer(&self.gpu, buffer, offset, target, t.shape())?;
            t.cast_into(&dst)?;
        }
        Ok(out)
    }

    /// An ndarray straight into a new Burn tensor of kind `K`: one host copy into staging and
    /// one device copy into Burn's buffer ([`Gpu::upload_into`]). The element type must be
    /// the one Burn's tensor holds (f32, i32 or bool as Burn stores it); for others, upload
    /// with tensorbridge and use [`Bridge::to_burn`].
    pub fn upload<const D: usize, K: Kind, S, Dim, T>(
        &self,
        array: &ArrayBase<S, Dim>,
    ) -> Result<BurnTensor<D, K>>
    where
        S: Data<Elem = T>,
        Dim: Dimension,
        T: Element,
    {
        self.check_rank::<D>(array.shape())?;
        if K::dtype_for(T::DTYPE)? != T::DTYPE {
            return Err(Error::DType {
                dtype: T::DTYPE,
                kind: K::NAME,
                reason: format!(
                    "Burn's tensor holds {}; upload with tensorbridge, then Bridge::to_burn",
                    K::dtype_for(T::DTYPE)?
                ),
            });
        }
        let out = BurnTensor::<D, K>::empty(array.shape().to_vec(), &self.device);
        let (buffer, offset) = resource(&K::cube(out.clone())?)?;
        self.gpu.upload_into(array, &buffer, offset)?;
        Ok(out)
    }

    /// A Burn tensor as a tensorbridge tensor, without copying: the tensorbridge tensor reads
    /// Burn's buffer in place and keeps the Burn tensor alive until it is dropped (Burn does
    /// not write to a tensor another handle shares). A strided Burn tensor is made contiguous
    /// by Burn first. Burn's pending work is flushed, so reads see its results.
    pub fn from_burn<const D: usize, K: Kind>(&self, t: BurnTensor<D, K>) -> Result<Tensor> {
        let dtype = K::from_burn_dtype(t.dtype())?;
        let shape = t.shape().to_vec();
        let cube = burn_cubecl::kernel::into_contiguous(K::cube(t)?);
        let (buffer, offset) = resource(&cube)?;
        let kept = Tensor::from_wgpu_buffer_kept(&self.gpu, buffer, offset, dtype, &shape, cube);
        Ok(kept?)
    }

    fn check_rank<const D: usize>(&self, shape: &[usize]) -> Result<()> {
        if shape.len() == D {
            return Ok(());
        }
        Err(tensorbridge::Error::ShapeMismatch {
            expected: vec![0; D],
            got: shape.to_vec(),
        }
        .into())
    }
}

/// The wgpu buffer and byte offset of a Burn tensor's data, after flushing Burn's pending work
/// to the shared queue.
fn resource(cube: &CubeTensor) -> Result<(wgpu::Buffer, u64)> {
    cube.client.flush().map_err(burn_error)?;
    let resource = cube
        .client
        .get_resource::<WgpuServer<AutoCompiler>>(cube.handle.clone())
        .map_err(burn_error)?;
    let r = resource.resource();
    Ok((r.buffer.clone(), r.offset))
}
