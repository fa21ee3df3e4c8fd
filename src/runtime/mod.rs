//! The device layer: opening a device ([`gpu`], [`options`], [`info`]), what its conversion
//! instructions do ([`native`]), reusing its buffers ([`pool`]), waiting and mapping
//! ([`sync`]), timing every phase ([`timing`]), building kernels ([`kernels`]), and the
//! buffers a [`tensor`] lives in. Everything above reaches the device through [`crate::Gpu`]'s
//! methods; its internals stay here.

pub(crate) mod gpu;
pub(crate) mod info;
pub(crate) mod kernels;
pub(crate) mod native;
pub(crate) mod options;
pub(crate) mod pool;
pub(crate) mod sync;
pub(crate) mod tensor;
pub(crate) mod timing;
