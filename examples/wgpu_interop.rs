//! Your own wgpu compute shader on a tensor tensorbridge uploaded: it reads the tensor's buffer,
//! writes into a buffer you made, and tensorbridge reads the result back. No host round trip
//! between the steps, and no wait: everything is ordered on the one queue.
//!
//! `cargo run --release --example wgpu_interop`
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use ndarray::Array2;
use tensorbridge::{DType, Gpu, Tensor, wgpu};

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x < arrayLength(&y)) {
        y[g.x] = sqrt(abs(x[g.x])) * sign(x[g.x]);
    }
}
"#;

fn main() -> tensorbridge::Result<()> {
    // Your device, as you would make it for your own pipeline.
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .map_err(|e| tensorbridge::Error::gpu(e.to_string()))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))
        .map_err(|e| tensorbridge::Error::gpu(e.to_string()))?;
    // tensorbridge on the same device and queue.
    let gpu = Gpu::from_wgpu(adapter, device.clone(), queue.clone())?;
    println!(
        "{} via {:?}, {:?} path",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().path
    );

    // An array of any layout (here, a transposed view) becomes a tensor in one copy.
    let a = Array2::from_shape_fn((300, 200), |(i, j)| (i as f32 - 150.0) * (j as f32 + 0.5));
    let t = gpu.upload(&a.t())?;
    let n = t.len();
    let (tensor_buffer, offset) = t.wgpu_buffer().expect("one buffer at this size");

    // Your buffer and your kernel.
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("my output"),
        size: (n * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("my kernel"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("my kernel"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: tensor_buffer,
                    offset,
                    size: wgpu::BufferSize::new(t.size_in_bytes()),
                }),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(n.div_ceil(64) as u32, 1, 1);
    }
    queue.submit([enc.finish()]);

    // tensorbridge adopts your buffer (no copy) and reads it back: the readback is ordered after
    // your submission on the shared queue.
    let y = Tensor::from_wgpu_buffer(&gpu, out, 0, DType::F32, &[200, 300])?;
    let back = y.to_array::<f32>()?;
    let want = a.t().mapv(|x| x.abs().sqrt() * x.signum());
    let worst = back
        .iter()
        .zip(want.iter())
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0f32, f32::max);
    println!("{n} elements through my kernel; largest relative error against the CPU: {worst:e}");
    assert!(worst < 1e-6, "the kernel's output differs from the CPU");
    // And on to the rest of tensorbridge: a cast and a summary of your kernel's output.
    let h = y.cast(DType::F16)?;
    println!("as f16: {:?}", h.summary()?);
    Ok(())
}
