//! The compute kernels besides the casts (statistics, quantization, byte swap): one shader
//! module per WGSL file, pipelines compiled on first use per (entry point, dtype), and the
//! plumbing of one dispatch (uniform parameters, bind group, pass).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{DType, Gpu, Result};

/// One WGSL file's module and its pipelines, with layouts derived from each entry point.
pub(crate) struct Kernels {
    module: wgpu::ShaderModule,
    pipelines: Mutex<HashMap<(&'static str, Option<DType>), wgpu::ComputePipeline>>,
}

impl Kernels {
    pub fn new(device: &wgpu::Device, label: &'static str, source: &'static str) -> Self {
        Kernels {
            module: device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            }),
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// The pipeline of `entry`; with a dtype, specialised by the overrides BITS, KIND, EXP and
    /// FRAC describing it.
    pub fn pipeline(
        &self,
        device: &wgpu::Device,
        entry: &'static str,
        dtype: Option<DType>,
    ) -> wgpu::ComputePipeline {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((entry, dtype))
            .or_insert_with(|| {
                let constants: Vec<(&str, f64)> = match dtype {
                    Some(d) => {
                        let (exp, frac) = d.float_format();
                        vec![
                            ("BITS", d.bits() as f64),
                            ("KIND", crate::cast::kind_code(d)),
                            ("EXP", exp as f64),
                            ("FRAC", frac as f64),
                        ]
                    }
                    None => Vec::new(),
                };
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: None,
                    module: &self.module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &constants,
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                })
            })
            .clone()
    }
}

/// A uniform buffer holding `bytes`, taken from the pool and filled with `queue.write_buffer`.
/// Give it back to the pool once the submission that reads it is made: the queue orders any
/// later write to it after that submission.
pub(crate) fn params_buffer(gpu: &Gpu, bytes: &[u8]) -> Result<wgpu::Buffer> {
    let pool = &gpu.shared.pool;
    let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
    let buffer = pool.take(gpu, "kernel params", pool.class(bytes.len() as u64), usage)?;
    gpu.shared.queue.write_buffer(&buffer, 0, bytes);
    Ok(buffer)
}

/// Dispatches recorded into one command encoder, each with its parameters in a pooled uniform
/// buffer; [`Dispatches::submit`] sends them and gives the buffers back.
pub(crate) struct Dispatches<'g> {
    gpu: &'g Gpu,
    enc: wgpu::CommandEncoder,
    params: Vec<wgpu::Buffer>,
}

impl<'g> Dispatches<'g> {
    pub fn new(gpu: &'g Gpu) -> Self {
        Dispatches {
            gpu,
            enc: gpu
                .shared
                .device
                .create_command_encoder(&Default::default()),
            params: Vec::new(),
        }
    }

    /// Records one dispatch of `pipeline` on a `(x, y)` grid: `params` as a uniform buffer at
    /// binding `params_binding`, plus `bindings`.
    pub fn add(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        (params_binding, params): (u32, &[u32]),
        bindings: &[(u32, wgpu::BindingResource<'_>)],
        (x, y): (u32, u32),
    ) -> Result<()> {
        let uniform = params_buffer(self.gpu, bytemuck::cast_slice(params))?;
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: params_binding,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(
            bindings
                .iter()
                .map(|(binding, resource)| wgpu::BindGroupEntry {
                    binding: *binding,
                    resource: resource.clone(),
                }),
        );
        let bind = self
            .gpu
            .shared
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        self.params.push(uniform);
        let mut pass = self.enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(x, y, 1);
        Ok(())
    }

    /// Submits the dispatches and returns the parameter buffers to the pool.
    pub fn submit(self) {
        self.gpu.shared.queue.submit([self.enc.finish()]);
        crate::pool::give_all(&self.gpu.shared.pool, self.params, true);
    }

    /// [`Dispatches::submit`], timed into `span` (see [`crate::Gpu::stats`]).
    pub fn submit_in(self, mut span: crate::stats::Span) {
        span.submit(self.gpu, [self.enc.finish()]);
        crate::pool::give_all(&self.gpu.shared.pool, self.params, true);
    }
}
