//! Quantization on the device (seed 003's FP32 → INT8 for edge deployment):
//! [`Tensor::quantize`] and [`QTensor::dequantize`], with `shaders/quant.wgsl`.
//!
//! Split by concept: [`spec`] (what is asked and returned, with the formulas on
//! [`QuantSpec`]), [`params`] (what the kernels take) and [`launch`] (how a kernel is
//! dispatched); this file holds the `Tensor` and `QTensor` methods.

mod launch;
mod params;
mod spec;

use crate::runtime::sync::block_on;
use crate::{DType, Error, Gpu, Result, Tensor};
use launch::Launch;
use params::{Op, QuantChannel, binding};
pub use spec::{QScheme, QTensor, QType, QuantSpec, quant_params};

impl Tensor {
    /// (inner, channels) of a quantization axis, checked.
    fn channels(&self, axis: Option<usize>) -> Result<(u32, u32)> {
        let too_big = || Error::TooLarge {
            what: "quantized tensor",
            limit: "2^32 elements",
            requested: self.len() as u64,
            max: u32::MAX as u64,
        };
        if self.len() > u32::MAX as usize {
            return Err(too_big());
        }
        match axis {
            None => Ok((self.len().max(1) as u32, 1)),
            Some(k) if k < self.ndim() => {
                let inner: usize = self.shape()[k + 1..].iter().product();
                Ok((inner.max(1) as u32, self.shape()[k].max(1) as u32))
            }
            Some(k) => Err(Error::InvalidOption {
                name: "axis",
                value: k.to_string(),
                reason: format!("the tensor has {} axes", self.ndim()),
            }),
        }
    }

    /// Per-channel (min, max), NaN skipped, from the device (blocking, native only). Channels
    /// with no finite value report (0, 0).
    pub fn channel_min_max(&self, axis: Option<usize>) -> Result<Vec<(f32, f32)>> {
        block_on(
            "Tensor::channel_min_max",
            "Tensor::channel_min_max_async().await",
            || self.channel_min_max_async(axis),
        )?
    }

    /// [`Tensor::channel_min_max`] without blocking.
    pub async fn channel_min_max_async(&self, axis: Option<usize>) -> Result<Vec<(f32, f32)>> {
        let x = self.cast(DType::F32)?;
        let (inner, channels) = self.channels(axis)?;
        if channels == 1 {
            // One channel: the reductions' `extremes` pass, which reads 16-byte units and needs
            // no atomics.
            let mm = x.min_max_skipping_nan().await?;
            return Ok(vec![mm.map_or((0.0, 0.0), |(lo, hi)| {
                (lo.as_f64() as f32, hi.as_f64() as f32)
            })]);
        }
        let keys: Vec<u32> = (0..channels).flat_map(|_| [u32::MAX, 0]).collect();
        let keys = x.gpu().upload_single(&keys)?;
        if keys.buffers().len() > 1 {
            return Err(Error::TooLarge {
                what: "per-channel keys",
                limit: "max_chunk_bytes",
                requested: keys.size_in_bytes(),
                max: x.gpu().info().max_chunk_bytes,
            });
        }
        if !x.is_empty() {
            Launch {
                op: Op::ChannelExtremes,
                src: &x,
                extra: vec![(binding::KEYS, &keys.buffers()[0])],
                dst: None,
                inner,
                channels,
                qtype: QType::I8,
                per: 64,
                tensor: None,
            }
            .run(x.gpu())?;
        }
        let k = keys.read::<u32>().await?;
        let unkey = |k: u32| f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k });
        Ok(k.as_slice()
            .expect("standard layout")
            .chunks(2)
            .map(|c| {
                if c[0] > c[1] {
                    (0.0, 0.0)
                } else {
                    (unkey(c[0]), unkey(c[1]))
                }
            })
            .collect())
    }

    /// Quantizes to 8-bit codes on the device (float dtypes; others are cast to f32 first).
    /// With given parameters it does not block; computing min and max waits for them (native
    /// only: on the web use [`Tensor::quantize_async`]).
    ///
    /// ```
    /// use tensorbridge::{QuantSpec, QScheme, QType};
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let w = gpu.upload(&ndarray::arr2(&[[-1.0f32, 0.0, 0.5], [2.0, -4.0, 8.0]]))?;
    /// let q = w.quantize(&QuantSpec { axis: Some(0), ..QuantSpec::int8() })?;
    /// assert_eq!(q.scale.len(), 2);
    /// let back = q.dequantize()?.to_array::<f32>()?;
    /// let orig = w.to_array::<f32>()?;
    /// for (c, (a, b)) in orig.outer_iter().zip(back.outer_iter()).enumerate() {
    ///     for (x, y) in a.iter().zip(b.iter()) {
    ///         assert!((x - y).abs() <= q.scale[c] / 2.0 * 1.001);
    ///     }
    /// }
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn quantize(&self, spec: &QuantSpec) -> Result<QTensor> {
        let (x, given) = self.quantize_input(spec)?;
        let params = match given {
            Some(p) => p,
            None => block_on("Tensor::quantize", "Tensor::quantize_async().await", || {
                computed_params(&x, spec)
            })??,
        };
        quantize_with(&x, spec, params)
    }

    /// [`Tensor::quantize`] without blocking (it waits for min and max when they are computed).
    pub async fn quantize_async(&self, spec: &QuantSpec) -> Result<QTensor> {
        let (x, given) = self.quantize_input(spec)?;
        let params = match given {
            Some(p) => p,
            None => computed_params(&x, spec).await?,
        };
        quantize_with(&x, spec, params)
    }

    /// The tensor as f32 (cast once: min/max and the codes both read it; a clone when already
    /// f32) and the given parameters, checked.
    fn quantize_input(&self, spec: &QuantSpec) -> Result<(Tensor, Option<Params>)> {
        let (_, channels) = self.channels(spec.axis)?;
        let x = self.cast(DType::F32)?;
        let Some((s, z)) = &spec.params else {
            return Ok((x, None));
        };
        if s.len() != channels as usize || z.len() != channels as usize {
            return Err(Error::ShapeMismatch {
                expected: vec![channels as usize],
                got: vec![s.len(), z.len()],
            });
        }
        if s.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return Err(Error::InvalidOption {
                name: "scale",
                value: format!("{s:?}"),
                reason: "scales must be finite and positive".into(),
            });
        }
        Ok((x, Some((s.clone(), z.clone()))))
    }
}

/// Per-channel scales and zero points.
type Params = (Vec<f32>, Vec<i32>);

/// Scales and zero points from the per-channel min and max of `x` (f32).
async fn computed_params(x: &Tensor, spec: &QuantSpec) -> Result<Params> {
    Ok(x.channel_min_max_async(spec.axis)
        .await?
        .into_iter()
        .map(|(lo, hi)| quant_params(spec.qtype, spec.scheme, lo, hi))
        .unzip())
}

/// The codes of `x` (f32) with the given parameters.
fn quantize_with(x: &Tensor, spec: &QuantSpec, (scale, zero_point): Params) -> Result<QTensor> {
    let (dtype, axis) = (spec.qtype.dtype(), spec.axis);
    let codes = map_codes(
        Op::Quantize,
        x,
        dtype,
        spec.qtype,
        (&scale, &zero_point),
        axis,
    )?;
    Ok(QTensor {
        codes,
        scale,
        zero_point,
        axis: spec.axis,
    })
}

/// Runs `op` (quantize or dequantize) from `src` into a new tensor of `dtype`, with the
/// per-channel `(scale, zero_point)` along `axis`.
fn map_codes(
    op: Op,
    src: &Tensor,
    dtype: DType,
    qtype: QType,
    (scale, zero_point): (&[f32], &[i32]),
    axis: Option<usize>,
) -> Result<Tensor> {
    let (inner, channels) = src.channels(axis)?;
    let gpu = src.gpu();
    let table = channel_table(gpu, scale, zero_point)?;
    let out = Tensor::alloc(gpu, dtype, src.shape())?;
    if !src.is_empty() {
        Launch {
            op,
            src,
            extra: vec![(binding::TABLE, &table)],
            dst: Some(&out),
            inner,
            channels,
            qtype,
            // Quantize writes a word of four codes per invocation.
            per: if op == Op::Quantize { 4 } else { 1 },
            tensor: one_channel(scale, zero_point),
        }
        .run(gpu)?;
    }
    gpu.pool().give(table);
    Ok(out)
}

/// The row of a single channel's parameters, for the kernels' `_tensor` variants; `None` for
/// several channels.
fn one_channel(scale: &[f32], zp: &[i32]) -> Option<QuantChannel> {
    match (scale, zp) {
        ([s], [z]) => Some(QuantChannel::new(*s, *z)),
        _ => None,
    }
}

/// The per-channel parameter table the kernels read, a [`QuantChannel`] row per channel, in a pooled
/// buffer filled with `queue.write_buffer`. Give it back to the pool once the launch that reads
/// it is submitted: the queue orders any later write to it after that submission.
fn channel_table(gpu: &Gpu, scale: &[f32], zp: &[i32]) -> Result<wgpu::Buffer> {
    let rows: Vec<QuantChannel> = scale
        .iter()
        .zip(zp)
        .map(|(&s, &z)| QuantChannel::new(s, z))
        .collect();
    let bytes: &[u8] = bytemuck::cast_slice(&rows);
    let limit = gpu.limits().max_storage_buffer_binding_size;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: "per-channel parameters",
            limit: "max_storage_buffer_binding_size",
            requested: bytes.len() as u64,
            max: limit,
        });
    }
    let pool = gpu.pool();
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
    let table = pool.take(
        gpu,
        "tensorbridge quant channels",
        pool.class(bytes.len() as u64),
        usage,
    )?;
    gpu.queue().write_buffer(&table, 0, bytes);
    Ok(table)
}

impl QTensor {
    /// Back to f32 on the device: `f32(q - zero_point) * scale`.
    pub fn dequantize(&self) -> Result<Tensor> {
        let q = &self.codes;
        let qtype = if q.dtype() == DType::I8 {
            QType::I8
        } else {
            QType::U8
        };
        let params = (&self.scale[..], &self.zero_point[..]);
        map_codes(Op::Dequantize, q, DType::F32, qtype, params, self.axis)
    }

    /// The codes read back (blocking, native only), as i32 whatever the code type.
    pub fn codes_i32(&self) -> Result<ndarray::ArrayD<i32>> {
        block_on("QTensor::codes_i32", "", || self.codes.read_as::<i32>())?
    }
}
