//! The bottom layer: what an element is ([`dtype`]), what can go wrong ([`error`]), how a host
//! array of any layout is read and written in row-major order ([`layout`]), and fresh host
//! buffers for readback ([`fresh`]). Nothing here touches a device.

pub(crate) mod dtype;
pub(crate) mod error;
pub(crate) mod fresh;
pub(crate) mod layout;
