//! Compiled cast kernels of one device: per (source, target) pair, a vector pipeline (generated
//! by [`super::vector`]) and a word pipeline for leftovers, both compiled on first use and cached.

use std::collections::HashMap;
use std::sync::Mutex;

use super::CastParams;
use super::vector::{self, Shape};
use crate::runtime::kernels::{KernelFamily, WgslStruct};
use crate::runtime::native::Native;
use crate::{DType, Error, Gpu, Result};

/// The bindings of both cast kernels.
pub(crate) mod binding {
    /// The source tensor (`src`).
    pub const SRC: u32 = 0;
    /// The destination tensor (`dst`).
    pub const DST: u32 = 1;
    /// [`super::CastParams`] (`p`).
    pub const PARAMS: u32 = 2;
}

/// The conversion template and its helpers in dependency order, then `$extra` files.
macro_rules! template {
    ($($extra:expr),*) => {
        concat!(
            include_str!("../../../shaders/u64.wgsl"),
            include_str!("../../../shaders/numeric.wgsl"),
            include_str!("../../../shaders/num32.wgsl"),
            include_str!("../../../shaders/cast.wgsl"),
            $($extra),*
        )
    };
}

/// The word kernel's shader file, to follow the template.
const WORDS: &str = include_str!("../../../shaders/cast_words.wgsl");

/// Output words per workgroup of the word kernel: `WG * ITER` in cast_words.wgsl.
pub(crate) const WORDS_PER_WORKGROUP: u64 = 256 * 8;

/// Invocations per workgroup of the vector kernel.
pub(crate) const VECTOR_WORKGROUP: u64 = 256;

/// Which kernel of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// The word kernel, for the elements that do not fill a vector invocation.
    Words,
    /// The vector kernel.
    Vector,
    /// The vector kernel with the conversion left out (`Tensor::cast_floor`).
    #[cfg(feature = "profiling")]
    Floor,
}

impl Kernel {
    /// Whether this is the vector kernel's floor.
    fn is_floor(self) -> bool {
        #[cfg(feature = "profiling")]
        if self == Kernel::Floor {
            return true;
        }
        false
    }
}

pub(crate) struct CastKernels {
    words: wgpu::ShaderModule,
    pipeline_layout: wgpu::PipelineLayout,
    /// Whether the vector kernel may use `u64` words.
    int64: bool,
    /// The native conversions the vector kernels use, from the device's probe.
    native: Native,
    /// Pipelines by (source, target, kernel), compiled on first use.
    pipelines: Mutex<HashMap<(DType, DType, Kernel), wgpu::ComputePipeline>>,
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

/// The override constants describing both dtypes.
fn constants(from: DType, to: DType) -> Vec<(&'static str, f64)> {
    let (se, sf) = from.float_format();
    let (de, df) = to.float_format();
    vec![
        ("SRC_KIND", from.kind_code()),
        ("SRC_BITS", from.bits() as f64),
        ("SRC_EXP", se as f64),
        ("SRC_FRAC", sf as f64),
        ("DST_KIND", to.kind_code()),
        ("DST_BITS", to.bits() as f64),
        ("DST_EXP", de as f64),
        ("DST_FRAC", df as f64),
    ]
}

/// The template every cast kernel starts with: the parameter struct, then the conversion
/// files.
fn template() -> String {
    format!("{}{}", CastParams::WGSL, template!())
}

impl KernelFamily for CastKernels {
    fn build(gpu: &Gpu) -> Result<Self> {
        let device = gpu.device();
        let words = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("tensorbridge cast words"),
            source: wgpu::ShaderSource::Wgsl((template() + WORDS).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tensorbridge cast"),
            entries: &[
                storage_entry(binding::SRC, true),
                storage_entry(binding::DST, false),
                wgpu::BindGroupLayoutEntry {
                    binding: binding::PARAMS,
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
        Ok(CastKernels {
            words,
            pipeline_layout,
            int64: device.features().contains(wgpu::Features::SHADER_INT64),
            native: gpu.native(),
            pipelines: Mutex::new(HashMap::new()),
        })
    }
}

impl CastKernels {
    /// How the vector kernel of `from -> to` covers its elements.
    pub fn shape(&self, from: DType, to: DType) -> Shape {
        Shape::new(from, to, self.int64, self.native)
    }

    /// The `kernel` of `from -> to`, compiled on first use.
    pub fn pipeline(
        &self,
        gpu: &Gpu,
        from: DType,
        to: DType,
        kernel: Kernel,
    ) -> Result<wgpu::ComputePipeline> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&(from, to, kernel)) {
            return Ok(p.clone());
        }
        let device = gpu.device();
        let scope = (!cfg!(target_arch = "wasm32"))
            .then(|| device.push_error_scope(wgpu::ErrorFilter::Validation));
        let mut constants = constants(from, to);
        let pipeline = if kernel != Kernel::Words {
            let floor = kernel.is_floor();
            let source =
                template() + &vector::source(from, to, self.shape(from, to), self.native, floor);
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("tensorbridge cast vector"),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            self.compile(device, &module, &constants)
        } else {
            constants.push(("PER", (4 / to.size_in_bytes()).max(1) as f64));
            self.compile(device, &self.words, &constants)
        };
        if let Some(scope) = scope
            && let Some(e) = crate::runtime::sync::block_on("cast", "", || scope.pop())?
        {
            return Err(Error::scope(
                format_args!("compiling the {from} -> {to} cast kernel"),
                e,
            ));
        }
        cache.insert((from, to, kernel), pipeline.clone());
        Ok(pipeline)
    }

    fn compile(
        &self,
        device: &wgpu::Device,
        module: &wgpu::ShaderModule,
        constants: &[(&str, f64)],
    ) -> wgpu::ComputePipeline {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("tensorbridge cast"),
            layout: Some(&self.pipeline_layout),
            module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        })
    }
}
