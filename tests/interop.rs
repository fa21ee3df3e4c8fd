//! Native interop: a `Gpu` on a caller's wgpu device, adopted buffers, and tensors handed to a
//! caller's buffers (`copy_to_buffer`, `upload_into`), on every adapter.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{Rng, bytes_of, cast_inputs, from_bits};
use ndarray::{Array1, ArrayD, IxDyn, s};
use tensorbridge::wgpu;
use tensorbridge::{BufferProblem, DType, Element, Error, Gpu, GpuOptions, QuantSpec, Tensor};

const ALL: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Every adapter on the machine, each as a caller's (adapter, device, queue) with `limits` and
/// no optional features.
fn caller_devices(limits: wgpu::Limits) -> Vec<(String, wgpu::Adapter, wgpu::Device, wgpu::Queue)> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    assert!(!adapters.is_empty(), "no adapter");
    adapters
        .into_iter()
        .map(|adapter| {
            let desc = wgpu::DeviceDescriptor {
                label: Some("the caller's device"),
                required_limits: limits.clone(),
                ..Default::default()
            };
            let (device, queue) = pollster::block_on(adapter.request_device(&desc)).unwrap();
            let name = format!(
                "{:?} {}",
                adapter.get_info().backend,
                adapter.get_info().name
            );
            (name, adapter, device, queue)
        })
        .collect()
}

fn buffer(gpu: &Gpu, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller's buffer"),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// Every byte of `b` (which has STORAGE and COPY_SRC usage).
fn contents(gpu: &Gpu, b: &wgpu::Buffer) -> Vec<u8> {
    let n = b.size() as usize;
    Tensor::from_wgpu_buffer(gpu, b.clone(), 0, DType::U8, &[n])
        .unwrap()
        .to_bytes()
        .unwrap()
}

#[test]
fn a_gpu_on_a_default_limits_device_transfers_casts_and_chunks() {
    for (name, adapter, device, queue) in caller_devices(wgpu::Limits::default()) {
        let gpu = Gpu::from_wgpu(adapter, device.clone(), queue).unwrap();
        let info = gpu.info();
        assert_eq!(
            info.limits.max_buffer_size,
            device.limits().max_buffer_size,
            "{name}"
        );
        assert_eq!(
            info.max_chunk_bytes,
            128 << 20,
            "{name}: the device's binding limit"
        );
        // No MAPPABLE_PRIMARY_BUFFERS was asked for, so the staged path.
        assert_eq!(
            info.path,
            Some(tensorbridge::TransferPath::Staged),
            "{name}"
        );
        assert!(gpu.instance().is_none());
        let mut rng = Rng(3);
        let a: Array1<f32> = (0..5000)
            .map(|_| f32::from_bits(rng.next() as u32 & 0x7f7f_ffff))
            .collect();
        let t = gpu.upload(&a.slice(s![..;-1])).unwrap();
        assert_eq!(
            t.to_array::<f32>().unwrap(),
            a.slice(s![..;-1]).into_dyn(),
            "{name}"
        );
        let h = t
            .cast(DType::F16)
            .unwrap()
            .to_array::<tensorbridge::f16>()
            .unwrap();
        let want: Vec<_> = a
            .iter()
            .rev()
            .map(|&x| tensorbridge::f16::from_f32(x))
            .collect();
        assert_eq!(h.as_slice().unwrap(), &want[..], "{name}");
        let summary = t.summary().unwrap();
        let max = a.iter().copied().fold(f32::MIN, f32::max);
        assert_eq!(summary.max.as_f64(), max as f64, "{name}");
    }
}

#[test]
fn a_gpu_on_a_device_with_small_limits_chunks_above_them() {
    // A caller's device with limits below wgpu's defaults: tensors above its bindings are
    // chunked, and casts and statistics still match the CPU.
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: 64 << 10,
        max_buffer_size: 256 << 10,
        ..wgpu::Limits::default()
    };
    for (name, adapter, device, queue) in caller_devices(limits) {
        let gpu = Gpu::from_wgpu(adapter, device, queue).unwrap();
        assert_eq!(gpu.info().max_chunk_bytes, 64 << 10, "{name}");
        let n = 100_003;
        let a: Array1<i32> = (0..n).map(|i| i * 7919 - 400_000_000).collect();
        let t = gpu.upload(&a).unwrap();
        assert!(t.buffers().len() > 1, "{name}: 400 KB over 64 KiB chunks");
        assert_eq!(t.to_array::<i32>().unwrap(), a.clone().into_dyn(), "{name}");
        let f = t.cast(DType::F64).unwrap().to_array::<f64>().unwrap();
        assert_eq!(f, a.mapv(|x| x as f64).into_dyn(), "{name}");
        let sum: i64 = a.iter().map(|&x| x as i64).sum();
        assert_eq!(t.sum().unwrap(), tensorbridge::Scalar::Int(sum), "{name}");
        let u8s = t.cast(DType::U8).unwrap().to_array::<u8>().unwrap();
        assert_eq!(u8s, a.mapv(|x| x as u8).into_dyn(), "{name}");
    }
}

#[test]
fn the_parts_of_a_gpu_build_another_engine() {
    let gpu = Gpu::new().unwrap();
    assert!(gpu.instance().is_some());
    let again = Gpu::from_wgpu(
        gpu.adapter().clone(),
        gpu.device().clone(),
        gpu.queue().clone(),
    )
    .unwrap();
    let t = again.upload(&ndarray::arr1(&[1.0f32, 2.0])).unwrap();
    // The same device: the first Gpu's kernels and buffers work on the second's tensors.
    let (b, off) = t.wgpu_buffer().unwrap();
    let adopted = Tensor::from_wgpu_buffer(&gpu, b.clone(), off, DType::F32, &[2]).unwrap();
    assert_eq!(
        adopted.to_array::<f32>().unwrap().as_slice().unwrap(),
        &[1.0, 2.0]
    );
}

#[test]
fn adopted_buffers_are_read_cast_and_written_in_place() {
    for (name, gpu) in common::gpus() {
        let align = gpu.info().limits.min_storage_buffer_offset_alignment as u64;
        let theirs = buffer(&gpu, 4096, ALL);
        let values: Vec<f32> = (0..50).map(|i| i as f32 * 1.25 - 20.0).collect();
        let offset = 4 * align;
        gpu.queue()
            .write_buffer(&theirs, offset, bytemuck::cast_slice(&values));
        let t =
            Tensor::from_wgpu_buffer(&gpu, theirs.clone(), offset, DType::F32, &[5, 10]).unwrap();
        let want = ArrayD::from_shape_vec(IxDyn(&[5, 10]), values.clone()).unwrap();
        assert_eq!(t.to_array::<f32>().unwrap(), want, "{name}");
        assert_eq!(t.byte_offset(), offset);
        assert_eq!(t.wgpu_buffer().unwrap().1, offset);
        // Casts, statistics and quantization read it in place.
        let i = t.cast(DType::I16).unwrap().to_array::<i16>().unwrap();
        assert_eq!(i, want.mapv(|x| x as i16), "{name}");
        assert_eq!(t.min().unwrap().as_f64(), -20.0, "{name}");
        let q = t.quantize(&QuantSpec::int8()).unwrap();
        assert_eq!(q.codes.shape(), &[5, 10]);
        // Written in place: an upload into the same bytes shows through the adopted tensor.
        let next = want.mapv(|x| -x);
        gpu.upload_into(&next, &theirs, offset).unwrap();
        assert_eq!(t.to_array::<f32>().unwrap(), next, "{name}");
        // Saving works too.
        let dir = common::scratch("interop-save");
        let path = dir.join(format!("adopted-{}.npy", name.len()));
        t.save_npy(&path).unwrap();
        assert_eq!(
            gpu.load_npy(&path).unwrap().to_array::<f32>().unwrap(),
            next
        );
        // Dropping the tensor leaves the buffer alive and its bytes as they were.
        let before = contents(&gpu, &theirs);
        drop((t, q));
        gpu.trim();
        assert_eq!(contents(&gpu, &theirs), before, "{name}");
    }
}

#[test]
fn bad_buffers_each_give_their_error() {
    let gpu = Gpu::new().unwrap();
    let align = gpu.info().limits.min_storage_buffer_offset_alignment as u64;
    let problem = |r: Result<Tensor, Error>| match r {
        Err(Error::Buffer { problem, reason }) => {
            assert!(!reason.is_empty());
            problem
        }
        other => panic!("expected Error::Buffer, got {other:?}"),
    };
    let adopt = |b: &wgpu::Buffer, off, shape: &[usize]| {
        Tensor::from_wgpu_buffer(&gpu, b.clone(), off, DType::F32, shape)
    };
    let uniform = buffer(
        &gpu,
        256,
        wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    );
    assert_eq!(problem(adopt(&uniform, 0, &[4])), BufferProblem::Usage);
    let b = buffer(&gpu, 1024, ALL);
    assert_eq!(problem(adopt(&b, 0, &[257])), BufferProblem::Range);
    assert_eq!(problem(adopt(&b, 1024, &[1])), BufferProblem::Range);
    assert_eq!(problem(adopt(&b, u64::MAX - 3, &[1])), BufferProblem::Range);
    assert_eq!(problem(adopt(&b, 2, &[1])), BufferProblem::Alignment);
    if align > 4 {
        assert_eq!(problem(adopt(&b, 4, &[1])), BufferProblem::Alignment);
    }
    let other = Gpu::with_options(GpuOptions {
        backend: Some(gpu.info().backend),
        adapter_name: Some(gpu.info().name.clone()),
        ..Default::default()
    })
    .unwrap();
    let foreign = buffer(&other, 1024, ALL);
    assert_eq!(
        problem(adopt(&foreign, 0, &[4])),
        BufferProblem::OtherDevice
    );
    let t = gpu.upload(&ndarray::arr1(&[1u8, 2, 3])).unwrap();
    let unit = |r: Result<(), Error>| problem(r.map(|()| t.clone()));
    assert_eq!(
        unit(t.copy_to_buffer(&foreign, 0)),
        BufferProblem::OtherDevice
    );
    assert_eq!(unit(t.copy_to_buffer(&b, 2)), BufferProblem::Alignment);
    assert_eq!(unit(t.copy_to_buffer(&b, 1024)), BufferProblem::Range);
    // Three bytes end inside a word: the merge kernel needs STORAGE.
    let copy_only = buffer(&gpu, 64, wgpu::BufferUsages::COPY_DST);
    assert_eq!(unit(t.copy_to_buffer(&copy_only, 0)), BufferProblem::Usage);
    let four = gpu.upload(&ndarray::arr1(&[1u8, 2, 3, 4])).unwrap();
    four.copy_to_buffer(&copy_only, 0).unwrap();
    let arr = ndarray::arr1(&[1u8, 2, 3]);
    assert_eq!(
        unit(gpu.upload_into(&arr, &copy_only, 0)),
        BufferProblem::Usage
    );
    assert_eq!(
        unit(gpu.upload_into(&arr, &foreign, 0)),
        BufferProblem::OtherDevice
    );
    let four_bytes = ndarray::arr1(&[1u8, 2, 3, 4]);
    assert_eq!(
        unit(gpu.upload_into(&four_bytes, &uniform, 300)),
        BufferProblem::Range
    );
}

/// `upload_into` and `copy_to_buffer` of `n` elements of `T` at `offset` into a buffer full of
/// 0xA5: exactly the element bytes change, including inside a last shared word.
fn hand_off<T: Element>(name: &str, gpu: &Gpu, n: usize, offset: u64) {
    let d = T::DTYPE;
    let bits = cast_inputs(d, n as u64 * 31 + offset);
    let values: Vec<T> = from_bits(&bits[..n]);
    let expected = bytes_of(d, &bits[..n]);
    let size = 256u64;
    let fill = vec![0xA5u8; size as usize];
    for route in ["upload_into", "copy_to_buffer"] {
        let theirs = buffer(gpu, size, ALL);
        gpu.queue().write_buffer(&theirs, 0, &fill);
        let a = Array1::from(values.clone());
        match route {
            "upload_into" => gpu.upload_into(&a, &theirs, offset).unwrap(),
            _ => gpu
                .upload(&a)
                .unwrap()
                .copy_to_buffer(&theirs, offset)
                .unwrap(),
        }
        let got = contents(gpu, &theirs);
        let (o, e) = (offset as usize, offset as usize + expected.len());
        assert_eq!(&got[o..e], &expected[..], "{name} {route} {d} n={n}");
        assert!(
            got[..o].iter().all(|&b| b == 0xA5),
            "{name} {route} {d}: before"
        );
        assert!(
            got[e..].iter().all(|&b| b == 0xA5),
            "{name} {route} {d} n={n}: after"
        );
    }
}

#[test]
fn handing_off_every_dtype_leaves_the_neighbouring_bytes_alone() {
    for (name, gpu) in common::gpus() {
        for n in [0, 1, 2, 3, 5, 7, 13] {
            for offset in [0, 4, 8, 20] {
                hand_off::<bool>(&name, &gpu, n, offset);
                hand_off::<u8>(&name, &gpu, n, offset);
                hand_off::<i8>(&name, &gpu, n, offset);
                hand_off::<u16>(&name, &gpu, n, offset);
                hand_off::<i16>(&name, &gpu, n, offset);
                hand_off::<tensorbridge::f16>(&name, &gpu, n, offset);
                hand_off::<tensorbridge::bf16>(&name, &gpu, n, offset);
            }
            hand_off::<u32>(&name, &gpu, n, 4);
            hand_off::<i32>(&name, &gpu, n, 8);
            hand_off::<f32>(&name, &gpu, n, 12);
            hand_off::<u64>(&name, &gpu, n, 16);
            hand_off::<i64>(&name, &gpu, n, 4);
            hand_off::<f64>(&name, &gpu, n, 8);
        }
    }
}

#[test]
fn a_callers_kernel_runs_between_an_upload_and_a_readback_with_no_wait() {
    let src = r#"
        @group(0) @binding(0) var<storage, read> x: array<f32>;
        @group(0) @binding(1) var<storage, read_write> y: array<f32>;
        @compute @workgroup_size(64)
        fn main(@builtin(global_invocation_id) g: vec3<u32>) {
            if (g.x < arrayLength(&x)) { y[g.x] = x[g.x] * 2.0 + 1.0; }
        }
    "#;
    for (name, gpu) in common::gpus() {
        let device = gpu.device();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: None,
            source: wgpu::ShaderSource::Wgsl(src.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: None,
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let n = 1000usize;
        let a: Array1<f32> = (0..n).map(|i| i as f32 / 3.0).collect();
        let t = gpu.upload(&a).unwrap();
        let out = buffer(&gpu, (n * 4) as u64, ALL);
        // A tensor split into chunks (the tiny-chunk configurations) has no one buffer to bind.
        let Some((tb, toff)) = t.wgpu_buffer() else {
            assert!(t.buffers().len() > 1, "{name}");
            continue;
        };
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: tb,
                        offset: toff,
                        size: wgpu::BufferSize::new((n * 4) as u64),
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
        gpu.queue().submit([enc.finish()]);
        // No wait: the readback is ordered after the caller's submission on the shared queue.
        let y = Tensor::from_wgpu_buffer(&gpu, out, 0, DType::F32, &[n]).unwrap();
        let want = a.mapv(|x| x * 2.0 + 1.0).into_dyn();
        assert_eq!(y.to_array::<f32>().unwrap(), want, "{name}");
    }
}

#[test]
fn a_steady_loop_of_hand_offs_creates_no_buffers() {
    for (name, gpu) in common::gpus() {
        let theirs = buffer(&gpu, 4096, ALL);
        let a = Array1::from_shape_fn(999, |i| i as u8);
        let mut created = Vec::new();
        for _ in 0..5 {
            gpu.upload_into(&a, &theirs, 8).unwrap();
            let t = Tensor::from_wgpu_buffer(&gpu, theirs.clone(), 0, DType::U8, &[1007]).unwrap();
            t.cast(DType::F32).unwrap().to_array::<f32>().unwrap();
            created.push(gpu.memory().num_created);
        }
        assert_eq!(created[4], created[2], "{name}: {created:?}");
    }
}
