//! The bottom layer: what an element is ([`dtype`]), what can go wrong ([`error`]), and how a
//! host array of any layout is read and written in row-major order ([`layout`]). Nothing here
//! touches a device.

pub(crate) mod dtype;
pub(crate) mod error;
pub(crate) mod layout;
