//! Running a reduction pass: each chunk's whole 16-byte units in one dispatch, then the
//! elements after the last whole unit in one workgroup, every dispatch writing its own partials
//! (or adding to the histogram's bins).

use super::params::{Pass, ReduceKernels, binding};
use crate::runtime::kernels::Dispatches;
use crate::runtime::sync::validated;
use crate::{DType, Error, Gpu, Result, Tensor};

/// Workgroups per dispatch at most; each invocation loops over its share.
const MAX_GROUPS: u64 = 1024;
/// [`MAX_GROUPS`] on CPU adapters, a few per core: there each workgroup's final tree of
/// barriers costs about as much as reading tens of thousands of units.
const MAX_GROUPS_CPU: u64 = 64;
/// Units (or elements) an invocation handles at least, before more workgroups are used.
const PER_INVOCATION: u64 = 8;

impl Tensor {
    /// Runs `pass` over every chunk; returns its output: `pass.words()` u32 per workgroup, or
    /// the bin counts of a histogram. `edges` is the f64 histogram's edge keys.
    fn launch(&self, pass: Pass, edges: Option<&Tensor>) -> Result<Tensor> {
        let gpu: &Gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let kernels = gpu.kernels::<ReduceKernels>()?;
        let (entry, units_entry) = pass.entries();
        let device = gpu.device();
        let pipeline = kernels.0.pipeline(device, entry, Some(self.dtype()));
        let units_pipeline = kernels.0.pipeline(device, units_entry, Some(self.dtype()));
        let per_unit = 16 / self.dtype().size_in_bytes();
        let max_groups = match gpu.info().device_type {
            wgpu::DeviceType::Cpu => MAX_GROUPS_CPU,
            _ => MAX_GROUPS,
        };
        let groups = |units: usize| {
            (units as u64)
                .div_ceil(256 * PER_INVOCATION)
                .clamp(1, max_groups) as u32
        };
        let plan: Vec<_> = self
            .pieces(u64::MAX)
            .map(|p| {
                let units = p.len / per_unit;
                let tail = p.len - units * per_unit;
                (p, units, (units > 0).then(|| groups(units)), tail > 0)
            })
            .collect();
        let out = match pass {
            Pass::Histogram { count, .. } | Pass::HistogramF64 { count } => {
                gpu.upload_single(&vec![0u32; count as usize])?
            }
            _ => {
                let total: usize = plan
                    .iter()
                    .map(|&(_, _, g, tail)| g.unwrap_or(0) as usize + tail as usize)
                    .sum();
                Tensor::alloc_single(gpu, DType::U32, &[total * pass.words()])?
            }
        };
        if out.inner.chunks.len() > 1 {
            return Err(Error::TooLarge {
                what: "reduction output",
                limit: "max_storage_buffer_binding_size",
                requested: out.size_in_bytes(),
                max: gpu.limits().max_storage_buffer_binding_size,
            });
        }
        let out_binding = match pass {
            Pass::Histogram { .. } | Pass::HistogramF64 { .. } => binding::HIST,
            _ => binding::PARTIALS,
        };
        let mut dispatches = Dispatches::new(gpu);
        let mut out_base = 0u32;
        for (p, units, unit_groups, tail) in plan {
            // (source binding, pipeline, count, first element, workgroups)
            let unit_part = unit_groups.map(|g| (binding::UNITS, &units_pipeline, units, 0, g));
            let tail_part = tail.then(|| {
                let n = p.len - units * per_unit;
                (binding::SRC, &pipeline, n, units * per_unit, 1)
            });
            for (src_binding, pipeline, n, base, g) in unit_part.into_iter().chain(tail_part) {
                let params = pass.params(n as u32, base as u32, out_base);
                let mut bindings = vec![
                    (src_binding, self.binding(p.chunk)),
                    (out_binding, out.inner.chunks[0].as_entire_binding()),
                ];
                if let Some(e) = edges {
                    bindings.push((binding::EDGES, e.binding(0)));
                }
                dispatches.add(pipeline, (binding::PARAMS, &params), &bindings, (g, 1))?;
                out_base += g;
            }
        }
        dispatches.submit();
        gpu.check()?;
        Ok(out)
    }

    /// Runs `pass` and reads its output, in a validation error scope (see [`validated`]).
    pub(super) async fn launch_and_read(
        &self,
        pass: Pass,
        edges: Option<&Tensor>,
    ) -> Result<Vec<u32>> {
        let what = format!("the {:?} kernel", pass.entries().0);
        validated(self.gpu(), &what, || async {
            let out = self.launch(pass, edges)?;
            Ok(out.read::<u32>().await?.iter().copied().collect())
        })
        .await
    }
}
