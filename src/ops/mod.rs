//! Work on the device, as WGSL compute kernels: [`cast`] (all 169 dtype pairs, bit-exact),
//! [`stats`] (min, max, sum, mean, histogram), [`quant`] (int8/uint8 quantization) and
//! [`byteswap`] (big-endian files). Each family registers its own kernels with the runtime
//! ([`crate::runtime::kernels`]).

pub(crate) mod byteswap;
pub(crate) mod cast;
pub(crate) mod quant;
pub(crate) mod stats;
