//! The kernel registry and the plumbing of one dispatch.
//!
//! * A **kernel family** (casts, statistics, quantization, byte swap) is a type implementing
//!   [`KernelFamily`]; [`Gpu::kernels`] builds it on first use and keeps it for the device's
//!   life, so adding a family touches nothing here or in [`Gpu`].
//! * A family that is one WGSL module with several entry points keeps them in a [`Module`],
//!   keyed by an enum implementing [`EntryPoint`]: no string picks a kernel.
//! * Each family's uniform parameters are a `#[repr(C)]` Pod struct declared with
//!   [`wgsl_struct!`], which also writes the struct's WGSL twin, so the two cannot drift apart.
//! * [`Dispatches`] records dispatches into one encoder, each with its parameters in a pooled
//!   uniform buffer, and submits them at once.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use super::pool::give_all;
use super::timing::Span;
use crate::{DType, Gpu, Result};

/// A `#[repr(C)]` struct whose layout is also declared in WGSL.
pub(crate) trait WgslStruct: bytemuck::Pod {
    /// The WGSL declaration: `struct Name { field: type, ... }`, fields in the same order.
    const WGSL: &'static str;
}

/// Declares a `#[repr(C)]` Pod struct of 4-byte fields (`u32`, `i32`, `f32`, or another such
/// struct) and implements [`WgslStruct`] with its WGSL twin, written from the same tokens.
/// Field and type names are the same in both languages.
macro_rules! wgsl_struct {
    ($(#[$m:meta])* $vis:vis struct $name:ident {
        $($(#[$fm:meta])* $field:ident : $ty:ident),* $(,)?
    }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($(#[$fm])* pub $field: $ty),*
        }

        impl $crate::runtime::kernels::WgslStruct for $name {
            const WGSL: &'static str = concat!(
                "struct ", stringify!($name), " {\n",
                $("    ", stringify!($field), ": ", stringify!($ty), ",\n",)*
                "}\n"
            );
        }
    };
}
pub(crate) use wgsl_struct;

/// A set of kernels built once per device, on first use ([`Gpu::kernels`]).
pub(crate) trait KernelFamily: Sized + wgpu::WasmNotSendSync + 'static {
    /// Builds the family's shader modules (pipelines may still be compiled lazily).
    fn build(gpu: &Gpu) -> Result<Self>;
}

#[cfg(not(target_arch = "wasm32"))]
type AnyFamily = dyn Any + Send + Sync;
#[cfg(target_arch = "wasm32")]
type AnyFamily = dyn Any;

/// The families a device has built, by type; each entry holds an `Arc<F>`.
#[derive(Default)]
pub(crate) struct Registry {
    families: Mutex<HashMap<TypeId, Box<AnyFamily>>>,
}

impl Gpu {
    /// Kernel family `F` of this device, built on first use.
    pub(crate) fn kernels<F: KernelFamily>(&self) -> Result<Arc<F>> {
        let registry = self.registry();
        let mut families = registry.families.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = families.get(&TypeId::of::<F>()) {
            let family = f.downcast_ref::<Arc<F>>();
            return Ok(family.expect("the registry is keyed by type").clone());
        }
        let built = Arc::new(F::build(self)?);
        families.insert(TypeId::of::<F>(), Box::new(built.clone()));
        Ok(built)
    }
}

/// An entry point of a [`Module`]: an enum per family.
pub(crate) trait EntryPoint:
    Copy + Eq + Hash + std::fmt::Debug + Send + Sync + 'static
{
    /// The WGSL function name.
    fn name(self) -> &'static str;
}

/// One WGSL module and its pipelines, compiled on first use per (entry point, dtype), with
/// layouts derived from each entry point.
pub(crate) struct Module<E> {
    module: wgpu::ShaderModule,
    pipelines: Mutex<HashMap<(E, Option<DType>), wgpu::ComputePipeline>>,
}

impl<E: EntryPoint> Module<E> {
    /// Compiles the family's shader file `source`, after the WGSL of its parameter structs
    /// (`structs`, each a [`WgslStruct::WGSL`]).
    pub fn new(gpu: &Gpu, label: &'static str, structs: &[&str], source: &str) -> Self {
        let source = structs.concat() + source;
        Module {
            module: gpu
                .device()
                .create_shader_module(wgpu::ShaderModuleDescriptor {
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
        entry: E,
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
                            ("KIND", d.kind_code()),
                            ("EXP", exp as f64),
                            ("FRAC", frac as f64),
                        ]
                    }
                    None => Vec::new(),
                };
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry.name()),
                    layout: None,
                    module: &self.module,
                    entry_point: Some(entry.name()),
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

/// A 2-D grid of workgroups covering `workgroups`, balanced so neither side exceeds `max_dim`
/// and at most `y - 1` workgroups idle (`x = 65535, y = 2` style grids waste half a row).
pub(crate) fn grid(workgroups: u64, max_dim: u64) -> (u32, u32) {
    let y = workgroups.div_ceil(max_dim).max(1);
    let x = workgroups.div_ceil(y);
    (x as u32, y as u32)
}

/// A uniform buffer holding `params`, taken from the pool and filled with `queue.write_buffer`.
/// Give it back to the pool once the submission that reads it is made: the queue orders any
/// later write to it after that submission.
pub(crate) fn params_buffer<P: WgslStruct>(gpu: &Gpu, params: &P) -> Result<wgpu::Buffer> {
    let bytes = bytemuck::bytes_of(params);
    let pool = gpu.pool();
    let usage = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;
    let buffer = pool.take(gpu, "kernel params", pool.class(bytes.len() as u64), usage)?;
    gpu.queue().write_buffer(&buffer, 0, bytes);
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
            enc: gpu.device().create_command_encoder(&Default::default()),
            params: Vec::new(),
        }
    }

    /// The encoder, to record copies between the dispatches.
    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        &mut self.enc
    }

    /// Records one dispatch of `pipeline` on a `(x, y)` grid: `params` as a uniform buffer at
    /// binding `params_binding`, plus `bindings`.
    pub fn add<P: WgslStruct>(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        (params_binding, params): (u32, &P),
        bindings: &[(u32, wgpu::BindingResource<'_>)],
        (x, y): (u32, u32),
    ) -> Result<()> {
        let uniform = params_buffer(self.gpu, params)?;
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
            .device()
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
        self.gpu.queue().submit([self.enc.finish()]);
        give_all(self.gpu.pool(), self.params, true);
    }

    /// [`Dispatches::submit`], timed into `span` (see [`crate::Gpu::stats`]).
    pub fn submit_in(self, mut span: Span) {
        span.submit(self.gpu, [self.enc.finish()]);
        give_all(self.gpu.pool(), self.params, true);
    }
}

#[cfg(test)]
mod tests {
    use super::WgslStruct;

    wgsl_struct! {
        struct Inner { a: f32, b: f32 }
    }
    wgsl_struct! {
        /// A doc comment passes through.
        struct Outer {
            /// So does a field's.
            n: u32,
            m: i32,
            inner: Inner,
        }
    }

    #[test]
    fn wgsl_twin_lists_the_fields_in_order() {
        assert_eq!(
            Outer::WGSL,
            "struct Outer {\n    n: u32,\n    m: i32,\n    inner: Inner,\n}\n"
        );
        assert_eq!(std::mem::size_of::<Outer>(), 16);
    }

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
