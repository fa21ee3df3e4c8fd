//! One quantization kernel launch over the element range of a source (and a destination),
//! split at both tensors' chunk boundaries: whole groups go to the kernels over 16-byte units,
//! the rest to the element-wise ones.

use super::params::{Entry, Form, Op, QuantChannel, QuantKernels, QuantParams, binding};
use super::spec::QType;
use crate::runtime::kernels::{Dispatches, grid};
use crate::{Gpu, Result, Tensor};

/// One launch of `op`.
pub(super) struct Launch<'a> {
    pub op: Op,
    pub src: &'a Tensor,
    /// (binding, buffer) extras: the keys or the channel table.
    pub extra: Vec<(u32, &'a wgpu::Buffer)>,
    pub dst: Option<&'a Tensor>,
    /// Elements per step of the quantization axis, and the number of channels.
    pub inner: u32,
    pub channels: u32,
    pub qtype: QType,
    /// Elements per invocation of the element-wise kernel (grid size); for the channel
    /// extremes, also the run over units a [`Form::Units`] invocation reads.
    pub per: u64,
    /// With one channel, its row of the table: the `_tensor` variants then read it from the
    /// parameters instead of the table.
    pub tensor: Option<QuantChannel>,
}

impl Launch<'_> {
    /// The entry point over whole units: from 16 contiguous elements per channel (`per` for
    /// the extremes) a group touches at most two channels; below, the periodic kernels reuse a
    /// group's channels for the groups where the channel pattern repeats.
    fn units_entry(&self, elements: Entry) -> Entry {
        let long = match self.op {
            Op::ChannelExtremes => self.inner as u64 >= self.per,
            _ => self.inner >= 16,
        };
        let form = if long || elements.tensor {
            Form::Units
        } else {
            Form::Periodic
        };
        Entry { form, ..elements }
    }

    pub fn run(&self, gpu: &Gpu) -> Result<()> {
        let kernels = gpu.kernels::<QuantKernels>()?;
        let elements = Entry {
            op: self.op,
            form: Form::Elements,
            tensor: self.tensor.is_some() && self.op != Op::ChannelExtremes,
        };
        let units_entry = self.units_entry(elements);
        let _in_use = self.src.lock_for_gpu()?;
        let max_dim = gpu.limits().max_compute_workgroups_per_dimension as u64;
        let si = &self.src.inner;
        let dst_chunk = self.dst.map_or(usize::MAX, |d| d.inner.chunk_elems);
        let (qmin, qmax) = self.qtype.range();
        // Groups of 16 per repeat of the channel pattern: lcm(inner * channels, 16) / 16.
        let pattern = self.inner as u64 * self.channels as u64;
        let cols = pattern >> pattern.trailing_zeros().min(4);
        let group = match (self.op, units_entry.form) {
            (Op::ChannelExtremes, Form::Units) => self.per,
            _ => 16,
        };
        let mut dispatches = Dispatches::new(gpu);
        let mut start = 0;
        while start < self.src.len() {
            let (sc, dc) = (start / si.chunk_elems, start / dst_chunk);
            let end = self
                .src
                .len()
                .min((sc + 1) * si.chunk_elems)
                .min((dc + 1).saturating_mul(dst_chunk));
            let n = (end - start) as u64;
            let units = n / group * group;
            let unit_part = (units > 0).then(|| {
                let invocations = match units_entry.form {
                    // Every group of a repeat, for each `rows` repeats touched.
                    Form::Periodic => {
                        let repeats = (units / 16).div_ceil(cols);
                        cols * repeats.div_ceil(units_entry.rows())
                    }
                    _ => units / group,
                };
                (units_entry, 0, units, invocations)
            });
            let rest = n - units;
            let rest_part = (rest > 0).then_some((elements, units, rest, rest.div_ceil(self.per)));
            for (entry, skip, count, invocations) in unit_part.into_iter().chain(rest_part) {
                let (x, y) = grid(invocations.div_ceil(256), max_dim);
                let at = start + skip as usize;
                let params = QuantParams {
                    n: count as u32,
                    src_base: (at - sc * si.chunk_elems) as u32,
                    dst_base: (at - dc.saturating_mul(dst_chunk).min(start)) as u32,
                    first: at as u32,
                    inner: self.inner,
                    channels: self.channels,
                    qmin,
                    qmax,
                    row: x * 256,
                    signed_q: (self.qtype == QType::I8) as u32,
                    rows: entry.rows() as u32,
                    cols: cols as u32,
                    tensor: self.tensor.unwrap_or_default(),
                };
                let (src_binding, dst_binding) = if entry.units() {
                    (binding::SRC_UNITS, binding::DST_UNITS)
                } else {
                    (binding::SRC, binding::DST)
                };
                let mut bindings = vec![(src_binding, self.src.binding(sc))];
                bindings.extend(
                    self.extra
                        .iter()
                        .map(|&(binding, buffer)| (binding, buffer.as_entire_binding())),
                );
                if let Some(d) = self.dst {
                    bindings.push((dst_binding, d.binding(dc)));
                }
                let pipeline = kernels.0.pipeline(gpu.device(), entry, None);
                dispatches.add(&pipeline, (binding::PARAMS, &params), &bindings, (x, y))?;
            }
            start = end;
        }
        dispatches.submit();
        gpu.check()
    }
}
