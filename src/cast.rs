//! On-device casts between any two of the 13 dtypes: [`Tensor::cast`] and friends.
//!
//! One kernel template (`shaders/cast.wgsl`, with `shaders/u64.wgsl`, `shaders/numeric.wgsl` and
//! its single-word fast path `shaders/num32.wgsl`) serves all 169 pairs; each pair is a pipeline
//! specialised by override constants, compiled on first use and cached.

use std::collections::HashMap;
use std::sync::Mutex;

use ndarray::{ArrayBase, ArrayD, Data, Dimension};
use wgpu::util::DeviceExt;

use crate::dtype::Kind;
use crate::{DType, Element, Error, Gpu, Result, Tensor};

/// The kernel source: whole files, concatenated in dependency order.
const SOURCE: &str = concat!(
    include_str!("../shaders/u64.wgsl"),
    include_str!("../shaders/numeric.wgsl"),
    include_str!("../shaders/num32.wgsl"),
    include_str!("../shaders/cast.wgsl"),
);

/// Output words per workgroup: `WG * ITER` in cast.wgsl.
const WORDS_PER_WORKGROUP: u64 = 256 * 8;

/// Elements one invocation converts: exactly one output word's worth (`PER` in cast.wgsl).
fn per_invocation(to: DType) -> u64 {
    (4 / to.size_in_bytes()).max(1) as u64
}
/// Most elements one dispatch covers, keeping `Params` fields inside u32.
const MAX_DISPATCH_ELEMS: usize = 1 << 30;

/// The casts `tensorbridge bench` and `benches/cast.rs` time: narrowing floats, narrowing ints,
/// and the int/float conversions of a typical input pipeline.
pub const BENCHMARKED_CASTS: [(DType, DType); 7] = [
    (DType::F64, DType::F32),
    (DType::F32, DType::F16),
    (DType::F32, DType::BF16),
    (DType::I64, DType::I32),
    (DType::U8, DType::F32),
    (DType::F32, DType::U8),
    (DType::I32, DType::F32),
];

/// Compiled cast kernels of one device.
pub(crate) struct CastKernels {
    module: wgpu::ShaderModule,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    /// Pipelines by (source, target), compiled lazily.
    pipelines: Mutex<HashMap<(DType, DType), wgpu::ComputePipeline>>,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    src_base: u32,
    dst_base: u32,
    row: u32,
}

/// The KIND override of a dtype: 0 bool, 1 unsigned, 2 signed, 3 float.
pub(crate) fn kind_code(d: DType) -> f64 {
    match d.kind() {
        Kind::Bool => 0.0,
        Kind::UInt => 1.0,
        Kind::SInt => 2.0,
        Kind::Float => 3.0,
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl CastKernels {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("tensorbridge cast"),
            source: wgpu::ShaderSource::Wgsl(SOURCE.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tensorbridge cast"),
            entries: &[
                storage_entry(0, true),
                storage_entry(1, false),
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("tensorbridge cast"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        CastKernels {
            module,
            layout,
            pipeline_layout,
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    fn pipeline(&self, gpu: &Gpu, from: DType, to: DType) -> Result<wgpu::ComputePipeline> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&(from, to)) {
            return Ok(p.clone());
        }
        let (se, sf) = from.float_format();
        let (de, df) = to.float_format();
        let constants = [
            ("SRC_KIND", kind_code(from)),
            ("SRC_BITS", from.bits() as f64),
            ("SRC_EXP", se as f64),
            ("SRC_FRAC", sf as f64),
            ("DST_KIND", kind_code(to)),
            ("DST_BITS", to.bits() as f64),
            ("DST_EXP", de as f64),
            ("DST_FRAC", df as f64),
            ("PER", per_invocation(to) as f64),
        ];
        let device = &gpu.shared.device;
        let scope = (!cfg!(target_arch = "wasm32"))
            .then(|| device.push_error_scope(wgpu::ErrorFilter::Validation));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("tensorbridge cast"),
            layout: Some(&self.pipeline_layout),
            module: &self.module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        if let Some(scope) = scope
            && let Some(e) = crate::sync::block_on("cast", "", || scope.pop())?
        {
            {
                return Err(Error::Gpu(format!(
                    "compiling the {from} -> {to} cast kernel: {e}"
                )));
            }
        }
        cache.insert((from, to), pipeline.clone());
        Ok(pipeline)
    }
}

/// A 2-D grid of workgroups covering `workgroups`, balanced so neither side exceeds 65535 and
/// at most `y - 1` workgroups idle.
pub(crate) fn grid(workgroups: u64, max_dim: u64) -> (u32, u32) {
    let y = workgroups.div_ceil(max_dim).max(1);
    let x = workgroups.div_ceil(y);
    (x as u32, y as u32)
}

impl Tensor {
    /// Casts on the device to `dtype`, with NumPy `astype(casting="unsafe")` semantics, bit-exact
    /// on every adapter:
    ///
    /// | from → to | rule |
    /// |---|---|
    /// | int → int | wraps modulo 2^n (two's complement) |
    /// | int → float, float → narrower float | round to nearest, ties to even, once, from the exact value (f64 → f16 does not go through f32) |
    /// | float → wider float | exact |
    /// | float → int | truncates toward zero; NaN → 0, ±inf and out-of-range values saturate (Rust `as`, where NumPy is undefined) |
    /// | anything → bool | `x != 0` (NaN → true, -0.0 → false) |
    /// | bool → anything | 0 or 1 |
    ///
    /// Subnormals are kept (never flushed), -0.0 keeps its sign. A NaN stays NaN: its sign is
    /// kept, the quiet bit is set, and its payload is truncated (narrowing) or zero-extended
    /// (widening), as x86 hardware and the `half` crate do. bf16 is bfloat16 (8 exponent, 7
    /// fraction bits).
    ///
    /// Casting to the tensor's own dtype returns a clone sharing the buffers. Tensors of any size
    /// work: the dispatch is split at chunk boundaries, each on a balanced 2-D grid.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1.5f32, -2.7, 300.0, f32::NAN]))?;
    /// let u = t.cast(tensorbridge::DType::U8)?;
    /// assert_eq!(u.to_array::<u8>()?.as_slice().unwrap(), &[1, 0, 255, 0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        let gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let out = Tensor::alloc(gpu, dtype, self.shape())?;
        if self.is_empty() {
            return Ok(out);
        }
        let pipeline = gpu.shared.kernels.pipeline(gpu, from, dtype)?;
        let (si, di) = (&self.inner, &out.inner);
        let limits = &gpu.shared.info.limits;
        let stride = (limits.min_uniform_buffer_offset_alignment as usize).max(16);
        let max_dim = limits.max_compute_workgroups_per_dimension as u64;

        // Split the element range at both tensors' chunk boundaries.
        let mut dispatches = Vec::new();
        let mut start = 0;
        while start < self.len() {
            let (sc, dc) = (start / si.chunk_elems, start / di.chunk_elems);
            let end = self
                .len()
                .min((sc + 1) * si.chunk_elems)
                .min((dc + 1) * di.chunk_elems)
                .min(start + MAX_DISPATCH_ELEMS);
            let n = end - start;
            let wgs = (n as u64).div_ceil(per_invocation(dtype) * WORDS_PER_WORKGROUP);
            let (x, y) = grid(wgs, max_dim);
            let params = Params {
                n: n as u32,
                src_base: (start - sc * si.chunk_elems) as u32,
                dst_base: (start - dc * di.chunk_elems) as u32,
                row: x,
            };
            dispatches.push((sc, dc, x, y, params));
            start = end;
        }
        let mut uniform = vec![0u8; stride * dispatches.len()];
        for (i, d) in dispatches.iter().enumerate() {
            uniform[i * stride..i * stride + 16].copy_from_slice(bytemuck::bytes_of(&d.4));
        }
        let device = &gpu.shared.device;
        let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("tensorbridge cast params"),
            contents: &uniform,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut enc = device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            for (i, &(sc, dc, x, y, _)) in dispatches.iter().enumerate() {
                let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &gpu.shared.kernels.layout,
                    entries: &[
                        wgpu::BindGroupEntry {
                            binding: 0,
                            resource: self.binding(sc),
                        },
                        wgpu::BindGroupEntry {
                            binding: 1,
                            resource: out.binding(dc),
                        },
                        wgpu::BindGroupEntry {
                            binding: 2,
                            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                buffer: &params,
                                offset: (i * stride) as u64,
                                size: wgpu::BufferSize::new(16),
                            }),
                        },
                    ],
                });
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(x, y, 1);
            }
        }
        gpu.span(crate::stats::Op::Cast, out.size_in_bytes())
            .submit(gpu, [enc.finish()]);
        gpu.check()?;
        Ok(out)
    }

    /// Casts on the device to `T`'s dtype, then reads back (without blocking).
    pub async fn read_as<T: Element>(&self) -> Result<ArrayD<T>> {
        self.cast(T::DTYPE)?.read::<T>().await
    }

    /// Casts on the device to `T`'s dtype, then reads back (blocking, native only).
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1u8, 2, 255]))?;
    /// let f = t.to_array_as::<f32>()?;
    /// assert_eq!(f.as_slice().unwrap(), &[1.0, 2.0, 255.0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn to_array_as<T: Element>(&self) -> Result<ArrayD<T>> {
        self.cast(T::DTYPE)?.to_array::<T>()
    }
}

impl Gpu {
    /// Uploads the raw bytes, then casts to `dtype` on the device; the raw tensor's buffers go
    /// back to the pool as soon as the cast is submitted.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload_as(&ndarray::arr1(&[1i32, -1]), tensorbridge::DType::F16)?;
    /// assert_eq!(t.dtype(), tensorbridge::DType::F16);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn upload_as<S, D, T>(&self, array: &ArrayBase<S, D>, dtype: DType) -> Result<Tensor>
    where
        S: Data<Elem = T>,
        D: Dimension,
        T: Element,
    {
        self.upload(array)?.cast(dtype)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn grid_is_balanced_and_within_limits() {
        for wgs in [1u64, 65535, 65536, 131071, 131072, 200_000, 4_000_000] {
            let (x, y) = super::grid(wgs, 65535);
            assert!(x <= 65535 && y <= 65535);
            assert!(x as u64 * y as u64 >= wgs);
            assert!(x as u64 * y as u64 - wgs < y as u64, "{wgs}: {x} x {y}");
        }
    }
}
