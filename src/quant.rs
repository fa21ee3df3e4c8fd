//! Quantization on the device (seed 003's FP32 → INT8 for edge deployment):
//! [`Tensor::quantize`] and [`QTensor::dequantize`], with `shaders/quant.wgsl`.
//!
//! The formulas and error bounds are documented on [`QuantSpec`].

use crate::kernels::{Dispatches, Kernels};
use crate::sync::block_on;
use crate::{DType, Error, Gpu, Result, Tensor};

/// Signed or unsigned 8-bit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    /// int8, codes -128..=127.
    I8,
    /// uint8, codes 0..=255.
    U8,
}

/// Affine (scale and zero point) or symmetric (zero point fixed at the code for 0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QScheme {
    /// `x ≈ (q - zero_point) * scale`, the range [min, max] (widened to include 0).
    Affine,
    /// `x ≈ (q - zero_point) * scale` with zero_point 0 (int8) or 128 (uint8).
    Symmetric,
}

/// How to quantize: code type, scheme, per-tensor or per-axis, and optional given parameters.
///
/// The formulas, all in f32 with correctly rounded operations, so the CPU reference in the
/// tests matches bit for bit:
///
/// * **Range.** min and max per tensor or per channel, NaN skipped, computed on the device
///   (a reduction with atomics). Affine ranges are widened to include 0.
/// * **Parameters** (from the device's min and max, a few f32 operations per channel on the
///   host, since WGSL division need not be correctly rounded):
///   - affine: `scale = (max - min) / (qmax - qmin)`, `zero_point = clamp(qmin -
///     round_half_even(min / scale), qmin, qmax)`
///   - symmetric: `scale = max(|min|, |max|) / 127`, `zero_point` 0 (int8) or 128 (uint8); codes
///     stay within zero_point ± 127.
///   - a scale of 0 (a constant-zero channel) becomes 1.
/// * **Quantize:** `q = clamp(round_half_even(x * inv_scale) + zero_point, qmin, qmax)` with
///   `inv_scale = 1 / scale` rounded to f32 once; NaN → zero_point, ±inf saturate.
/// * **Dequantize:** `x' = f32(q - zero_point) * scale`.
///
/// Error bound: for x inside the channel's range, `|x - x'| <= scale / 2` plus a few f32
/// rounding steps (at most about `2^-22 * |x|`). Outside the range, values saturate to the
/// range end.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantSpec {
    /// int8 or uint8.
    pub qtype: QType,
    /// Affine or symmetric.
    pub scheme: QScheme,
    /// `None`: one scale for the tensor. `Some(k)`: one per index along axis k.
    pub axis: Option<usize>,
    /// Given (scale, zero_point) per channel instead of computing them from min and max.
    pub params: Option<(Vec<f32>, Vec<i32>)>,
}

impl QuantSpec {
    /// Per-tensor int8 affine: the common default.
    pub fn int8() -> Self {
        QuantSpec {
            qtype: QType::I8,
            scheme: QScheme::Affine,
            axis: None,
            params: None,
        }
    }
}

/// A quantized tensor: 8-bit codes on the device plus per-channel scale and zero point.
#[derive(Debug, Clone)]
pub struct QTensor {
    /// The codes (dtype i8 or u8), same shape as the source.
    pub codes: Tensor,
    /// One scale per channel (one for per-tensor).
    pub scale: Vec<f32>,
    /// One zero point per channel.
    pub zero_point: Vec<i32>,
    /// The quantization axis, or `None` for per-tensor.
    pub axis: Option<usize>,
}

impl QType {
    /// (qmin, qmax).
    pub fn range(self) -> (i32, i32) {
        match self {
            QType::I8 => (-128, 127),
            QType::U8 => (0, 255),
        }
    }

    fn dtype(self) -> DType {
        match self {
            QType::I8 => DType::I8,
            QType::U8 => DType::U8,
        }
    }
}

/// Scale and zero point from a channel's min and max, exactly as documented above.
pub fn quant_params(qtype: QType, scheme: QScheme, min: f32, max: f32) -> (f32, i32) {
    let (qmin, qmax) = qtype.range();
    // A scale of 0 (constant-zero channel) or beyond f32 becomes 1.
    let usable = |s: f32| if s > 0.0 && s.is_finite() { s } else { 1.0 };
    let (scale, zp) = match scheme {
        QScheme::Affine => {
            let (lo, hi) = (min.min(0.0), max.max(0.0));
            let scale = usable((hi - lo) / (qmax - qmin) as f32);
            let zp = (qmin as f32 - (lo / scale).round_ties_even()).clamp(qmin as f32, qmax as f32);
            (scale, zp as i32)
        }
        QScheme::Symmetric => {
            let amax = min.abs().max(max.abs());
            let scale = usable(amax / 127.0);
            (scale, if qtype == QType::I8 { 0 } else { 128 })
        }
    };
    (scale, zp)
}

/// Groups a `_periodic` invocation does, one per pattern (`p.rows` in `shaders/quant.wgsl`).
/// Min and max flush 32 atomics per invocation, so they take more.
fn periodic_rows(entry: &str) -> u64 {
    if entry.starts_with("channel_extremes") {
        64
    } else {
        8
    }
}

/// The entry point of `entry` over whole 16-byte units, for channels of `inner` contiguous
/// elements: from 16 on (`per` for min and max) a group touches at most two channels; below,
/// the `_periodic` kernels reuse a group's channels for the groups where the channel pattern
/// repeats.
fn units_entry(entry: &'static str, inner: u32, per: u64) -> &'static str {
    let short = (inner as u64) < 16;
    match entry {
        "quantize_tensor" => "quantize_tensor_units",
        "dequantize_tensor" => "dequantize_tensor_units",
        "channel_extremes" if inner as u64 >= per => "channel_extremes_units",
        "channel_extremes" => "channel_extremes_units_periodic",
        "quantize" if short => "quantize_units_periodic",
        "quantize" => "quantize_units",
        _ if short => "dequantize_units_periodic",
        _ => "dequantize_units",
    }
}

/// One kernel launch over the element range of a source and a destination tensor, split at both
/// tensors' chunk boundaries.
struct Launch<'a> {
    entry: &'static str,
    src: &'a Tensor,
    /// (binding, buffer) extras: the keys or the channel parameters.
    extra: Vec<(u32, &'a wgpu::Buffer)>,
    dst: Option<&'a Tensor>,
    inner: u32,
    channels: u32,
    qtype: QType,
    /// Elements per invocation (grid size).
    per: u64,
    /// With one channel, its row of the table: the `_tensor` variant of `entry` then reads it
    /// from the parameters instead of the table.
    tensor: Option<[f32; 4]>,
}

impl Launch<'_> {
    fn run(&self, gpu: &Gpu) -> Result<()> {
        let device = &gpu.shared.device;
        let kernels = gpu.shared.quant.get_or_init(|| {
            Kernels::new(
                device,
                "tensorbridge quant",
                include_str!("../shaders/quant.wgsl"),
            )
        });
        let entry = match (self.entry, self.tensor.is_some()) {
            ("quantize", true) => "quantize_tensor",
            ("dequantize", true) => "dequantize_tensor",
            (entry, _) => entry,
        };
        let _in_use = self.src.lock_for_gpu()?;
        let max_dim = gpu.shared.info.limits.max_compute_workgroups_per_dimension as u64;
        let si = &self.src.inner;
        let dst_chunk = self.dst.map_or(usize::MAX, |d| d.inner.chunk_elems);
        let (qmin, qmax) = self.qtype.range();
        // Groups of 16 per repeat of the channel pattern: lcm(inner * channels, 16) / 16.
        let pattern = self.inner as u64 * self.channels as u64;
        let cols = pattern >> pattern.trailing_zeros().min(4);
        let mut dispatches = Dispatches::new(gpu);
        let mut start = 0;
        while start < self.src.len() {
            let (sc, dc) = (start / si.chunk_elems, start / dst_chunk);
            let end = self
                .src
                .len()
                .min((sc + 1) * si.chunk_elems)
                .min((dc + 1).saturating_mul(dst_chunk));
            let n = (end - start) as u64;
            // Whole groups of elements go to the kernels over 16-byte units (16 elements per
            // invocation and repeat; for min and max of long channels, runs of `per`), the rest
            // to the element-wise ones.
            let unit_entry = units_entry(entry, self.inner, self.per);
            let group = match unit_entry {
                "channel_extremes_units" => self.per,
                _ => 16,
            };
            let units = n / group * group;
            let unit_part = (units > 0).then(|| {
                let invocations = if unit_entry.ends_with("_periodic") {
                    // Every group of a repeat, for each `rows` repeats touched.
                    let repeats = (units / 16).div_ceil(cols);
                    cols * repeats.div_ceil(periodic_rows(unit_entry))
                } else {
                    units / group
                };
                (unit_entry, 0, units, invocations)
            });
            let rest = n - units;
            let rest_part = (rest > 0).then_some((entry, units, rest, rest.div_ceil(self.per)));
            for (entry, skip, count, invocations) in unit_part.into_iter().chain(rest_part) {
                let (x, y) = crate::cast::grid(invocations.div_ceil(256), max_dim);
                let t = self.tensor.unwrap_or_default().map(f32::to_bits);
                let skip = skip as usize;
                let params: [u32; 16] = [
                    count as u32,
                    (start + skip - sc * si.chunk_elems) as u32,
                    (start + skip - dc.saturating_mul(dst_chunk).min(start)) as u32,
                    (start + skip) as u32,
                    self.inner,
                    self.channels,
                    qmin as u32,
                    qmax as u32,
                    x * 256,
                    (self.qtype == QType::I8) as u32,
                    periodic_rows(entry) as u32,
                    cols as u32,
                    t[0],
                    t[1],
                    t[2],
                    t[3],
                ];
                // The unit kernels bind source and destination as 16-byte units.
                let unit = entry.contains("_units");
                let (src_binding, dst_binding) = if unit { (5, 6) } else { (0, 4) };
                let mut bindings = vec![(src_binding, self.src.binding(sc))];
                bindings.extend(
                    self.extra
                        .iter()
                        .map(|&(binding, buffer)| (binding, buffer.as_entire_binding())),
                );
                if let Some(d) = self.dst {
                    bindings.push((dst_binding, d.binding(dc)));
                }
                let pipeline = kernels.pipeline(device, entry, None);
                dispatches.add(&pipeline, (1, &params), &bindings, (x, y))?;
            }
            start = end;
        }
        dispatches.submit();
        gpu.check()
    }
}

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
            // One channel: the reductions' `extremes` pass, which reads 16-byte units (64M f32
            // on lavapipe: about 50 ms, against about 200 ms for the per-channel kernel).
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
                entry: "channel_extremes",
                src: &x,
                extra: vec![(2, &keys.buffers()[0])],
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
    let (inner, channels) = x.channels(spec.axis)?;
    let gpu = x.gpu();
    let table = channel_table(gpu, &scale, &zero_point)?;
    let codes = Tensor::alloc(gpu, spec.qtype.dtype(), x.shape())?;
    if !x.is_empty() {
        Launch {
            entry: "quantize",
            src: x,
            extra: vec![(3, &table)],
            dst: Some(&codes),
            inner,
            channels,
            qtype: spec.qtype,
            per: 4,
            tensor: one_channel(&scale, &zero_point),
        }
        .run(gpu)?;
    }
    gpu.shared.pool.give(table);
    Ok(QTensor {
        codes,
        scale,
        zero_point,
        axis: spec.axis,
    })
}

/// One channel's row of the parameter table: (scale, 1/scale, zero point, 0).
fn channel_row(scale: f32, zero_point: i32) -> [f32; 4] {
    [scale, 1.0 / scale, zero_point as f32, 0.0]
}

/// The row of a single channel's parameters, for the kernels' `_tensor` variants; `None` for
/// several channels.
fn one_channel(scale: &[f32], zp: &[i32]) -> Option<[f32; 4]> {
    match (scale, zp) {
        ([s], [z]) => Some(channel_row(*s, *z)),
        _ => None,
    }
}

/// The per-channel parameter table the kernels read, a [`channel_row`] per channel, in a pooled
/// buffer filled with `queue.write_buffer`. Give it back to the pool once the launch that reads
/// it is submitted: the queue orders any later write to it after that submission.
fn channel_table(gpu: &Gpu, scale: &[f32], zp: &[i32]) -> Result<wgpu::Buffer> {
    let rows: Vec<[f32; 4]> = scale
        .iter()
        .zip(zp)
        .map(|(&s, &z)| channel_row(s, z))
        .collect();
    let bytes: &[u8] = bytemuck::cast_slice(&rows);
    let limit = gpu.shared.info.limits.max_storage_buffer_binding_size;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: "per-channel parameters",
            limit: "max_storage_buffer_binding_size",
            requested: bytes.len() as u64,
            max: limit,
        });
    }
    let pool = &gpu.shared.pool;
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
    let table = pool.take(
        gpu,
        "tensorbridge quant channels",
        pool.class(bytes.len() as u64),
        usage,
    )?;
    gpu.shared.queue.write_buffer(&table, 0, bytes);
    Ok(table)
}

impl QTensor {
    /// Back to f32 on the device: `f32(q - zero_point) * scale`.
    pub fn dequantize(&self) -> Result<Tensor> {
        let q = &self.codes;
        let gpu = q.gpu();
        let (inner, channels) = q.channels(self.axis)?;
        let table = channel_table(gpu, &self.scale, &self.zero_point)?;
        let out = Tensor::alloc(gpu, DType::F32, q.shape())?;
        if !q.is_empty() {
            let qtype = if q.dtype() == DType::I8 {
                QType::I8
            } else {
                QType::U8
            };
            Launch {
                entry: "dequantize",
                src: q,
                extra: vec![(3, &table)],
                dst: Some(&out),
                inner,
                channels,
                qtype,
                per: 1,
                tensor: one_channel(&self.scale, &self.zero_point),
            }
            .run(gpu)?;
        }
        gpu.shared.pool.give(table);
        Ok(out)
    }

    /// The codes read back (blocking, native only), as i32 whatever the code type.
    pub fn codes_i32(&self) -> Result<ndarray::ArrayD<i32>> {
        block_on("QTensor::codes_i32", "", || self.codes.read_as::<i32>())?
    }
}
