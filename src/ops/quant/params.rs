//! What the quantization kernels (`shaders/quant.wgsl`) take: their entry points, bindings,
//! uniform parameters and per-channel table rows.

use crate::runtime::kernels::{EntryPoint, KernelFamily, Module, WgslStruct, wgsl_struct};
use crate::{Gpu, Result};

wgsl_struct! {
    /// One channel's row of the per-channel table (`qp`), and the one channel of the
    /// `_tensor` entry points (`p.tensor`).
    pub(crate) struct QuantChannel {
        scale: f32,
        /// `1 / scale`, rounded to f32 once on the host.
        inv_scale: f32,
        /// The zero point, as an f32 (exact: at most 255 in magnitude).
        zero_point: f32,
        pad: f32,
    }
}

impl QuantChannel {
    /// The row of (scale, zero point).
    pub fn new(scale: f32, zero_point: i32) -> QuantChannel {
        QuantChannel {
            scale,
            inv_scale: 1.0 / scale,
            zero_point: zero_point as f32,
            pad: 0.0,
        }
    }
}

wgsl_struct! {
    /// The uniform parameters of every quantization entry point (`p`).
    pub(crate) struct QuantParams {
        /// Elements in this dispatch.
        n: u32,
        /// First element, counted in the bound source chunk.
        src_base: u32,
        /// First element, counted in the bound destination chunk.
        dst_base: u32,
        /// First element, counted in the whole tensor (for channels).
        first: u32,
        /// Elements per step of the quantization axis.
        inner: u32,
        channels: u32,
        qmin: i32,
        qmax: i32,
        /// Invocations per grid row.
        row: u32,
        /// 1 for int8 codes.
        signed_q: u32,
        /// Groups per invocation of the `_periodic` entry points.
        rows: u32,
        /// Groups per repeat of their channel pattern: lcm(inner * channels, 16) / 16.
        cols: u32,
        /// The one channel of the `_tensor` entry points.
        tensor: QuantChannel,
    }
}

const _: () = assert!(std::mem::size_of::<QuantParams>() == 64);

/// The bindings of `shaders/quant.wgsl`.
pub(crate) mod binding {
    /// The source as words (`src`), for the element-wise entry points.
    pub const SRC: u32 = 0;
    /// [`super::QuantParams`] (`p`).
    pub const PARAMS: u32 = 1;
    /// Per-channel min and max keys (`keys`), of the channel extremes.
    pub const KEYS: u32 = 2;
    /// The per-channel table of [`super::QuantChannel`] rows (`qp`).
    pub const TABLE: u32 = 3;
    /// The destination as words (`dst`), for the element-wise entry points.
    pub const DST: u32 = 4;
    /// The source as 16-byte units (`src_units`).
    pub const SRC_UNITS: u32 = 5;
    /// The destination as 16-byte units (`dst_units`).
    pub const DST_UNITS: u32 = 6;
}

/// What a quantization kernel computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    /// Per-channel min and max (NaN skipped).
    ChannelExtremes,
    /// f32 to 8-bit codes.
    Quantize,
    /// 8-bit codes to f32.
    Dequantize,
}

/// How a kernel walks the elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Form {
    /// One element (or one output word) per step: the elements after the last whole group.
    Elements,
    /// Whole 16-byte units, for channels long enough that a group touches at most two.
    Units,
    /// Whole 16-byte units for channels of fewer than 16 contiguous elements: a group's
    /// channels are looked up once for the groups where the channel pattern repeats.
    Periodic,
}

/// An entry point of `shaders/quant.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Entry {
    pub op: Op,
    pub form: Form,
    /// One channel, read from the parameters instead of the table (`_tensor`; quantize and
    /// dequantize over elements or units only).
    pub tensor: bool,
}

impl Entry {
    /// Whether the kernel binds source and destination as 16-byte units.
    pub fn units(self) -> bool {
        self.form != Form::Elements
    }

    /// Groups a [`Form::Periodic`] invocation does (`p.rows`): min and max flush 32 atomics per
    /// invocation, so they take more.
    pub fn rows(self) -> u64 {
        match self.op {
            Op::ChannelExtremes => 64,
            _ => 8,
        }
    }
}

impl EntryPoint for Entry {
    fn name(self) -> &'static str {
        use {Form::*, Op::*};
        match (self.op, self.form, self.tensor) {
            (ChannelExtremes, Elements, _) => "channel_extremes",
            (ChannelExtremes, Units, _) => "channel_extremes_units",
            (ChannelExtremes, Periodic, _) => "channel_extremes_units_periodic",
            (Quantize, Elements, false) => "quantize",
            (Quantize, Elements, true) => "quantize_tensor",
            (Quantize, Units, false) => "quantize_units",
            (Quantize, Units, true) => "quantize_tensor_units",
            (Quantize, Periodic, _) => "quantize_units_periodic",
            (Dequantize, Elements, false) => "dequantize",
            (Dequantize, Elements, true) => "dequantize_tensor",
            (Dequantize, Units, false) => "dequantize_units",
            (Dequantize, Units, true) => "dequantize_tensor_units",
            (Dequantize, Periodic, _) => "dequantize_units_periodic",
        }
    }
}

/// The quantization kernels of one device.
pub(crate) struct QuantKernels(pub Module<Entry>);

impl KernelFamily for QuantKernels {
    fn build(gpu: &Gpu) -> Result<Self> {
        let source = include_str!("../../../shaders/quant.wgsl");
        let structs = [QuantChannel::WGSL, QuantParams::WGSL];
        Ok(QuantKernels(Module::new(
            gpu,
            "tensorbridge quant",
            &structs,
            source,
        )))
    }
}
