//! The compute kernels besides the casts (statistics, quantization, byte swap): one shader
//! module per WGSL file, pipelines compiled on first use per (entry point, dtype), and the
//! plumbing of one dispatch (uniform parameters, bind group, pass).

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::DType;

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

/// Records one dispatch of `pipeline` on a `(x, y)` grid: `params` as a uniform buffer at
/// binding `params_binding`, plus `bindings`.
pub(crate) fn dispatch(
    device: &wgpu::Device,
    enc: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    (params_binding, params): (u32, &[u32]),
    bindings: &[(u32, wgpu::BindingResource<'_>)],
    (x, y): (u32, u32),
) {
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("tensorbridge kernel params"),
        contents: bytemuck::cast_slice(params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
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
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut pass = enc.begin_compute_pass(&Default::default());
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, &bind, &[]);
    pass.dispatch_workgroups(x, y, 1);
}
