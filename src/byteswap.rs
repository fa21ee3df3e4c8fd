//! Byte order on the device: big-endian data (e.g. a `'>f4'` .npy) is uploaded as-is in the one
//! host copy, then swapped in place by `shaders/byteswap.wgsl`.

use wgpu::util::DeviceExt;

use crate::{Gpu, Result, Tensor};

/// The compiled kernel of one device, built on first use.
pub(crate) struct ByteSwap {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

impl ByteSwap {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("tensorbridge byteswap"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../shaders/byteswap.wgsl").into()),
        });
        let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tensorbridge byteswap"),
            entries: &[
                entry(0, wgpu::BufferBindingType::Storage { read_only: false }),
                entry(1, wgpu::BufferBindingType::Uniform),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("tensorbridge byteswap"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("tensorbridge byteswap"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        ByteSwap { layout, pipeline }
    }
}

impl Tensor {
    /// Reverses the bytes of every element in place (no-op for 1-byte dtypes).
    pub(crate) fn swap_bytes_in_place(&self) -> Result<()> {
        let size = self.dtype().size_in_bytes() as u32;
        if size == 1 || self.is_empty() {
            return Ok(());
        }
        let gpu: &Gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let kernel = gpu
            .shared
            .byteswap
            .get_or_init(|| ByteSwap::new(&gpu.shared.device));
        let device = &gpu.shared.device;
        let max_dim = gpu.shared.info.limits.max_compute_workgroups_per_dimension as u64;
        let inner = &self.inner;
        let mut enc = device.create_command_encoder(&Default::default());
        let mut uniforms = Vec::new();
        for p in self.pieces(u64::MAX) {
            let words = p.padded_bytes(inner) / 4;
            let n = if size == 8 { words / 2 } else { words };
            let (x, y) = crate::cast::grid(n.div_ceil(256), max_dim);
            let params = [n as u32, x * 256, size, 0];
            let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("tensorbridge byteswap params"),
                contents: bytemuck::cast_slice(&params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &kernel.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: self.binding(p.chunk),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: uniform.as_entire_binding(),
                    },
                ],
            });
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(x, y, 1);
            drop(pass);
            uniforms.push(uniform);
        }
        gpu.queue().submit([enc.finish()]);
        gpu.check()
    }
}
