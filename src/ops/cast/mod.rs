//! On-device casts between any two of the 13 dtypes: [`Tensor::cast`] and friends.
//!
//! One conversion template (`shaders/cast.wgsl`, with `shaders/u64.wgsl`, `shaders/numeric.wgsl`
//! and its single-word fast path `shaders/num32.wgsl`) serves all 169 pairs, specialised per pair
//! by override constants; `shaders/cast_fast.wgsl` has short integer-only versions for the
//! common pairs, with the same results. Two kernels apply them:
//!
//! - the vector kernel ([`vector`]), generated per pair from load, convert and store pieces, reads
//!   and writes whole `vec4`/`vec2` units, of u64 words where the device has SHADER_INT64 (u64 is
//!   used only to move and split bits, so results do not depend on it);
//! - the word kernel (`shaders/cast_words.wgsl`) does the elements at the end of a tensor that do
//!   not fill a vector invocation.
//!
//! Where a probe at device creation shows the adapter's own conversion instructions to give the
//! same bits ([`native`], `shaders/cast_native.wgsl`), the vector kernel uses them for int →
//! f32, f32 → int and f32 → f16, and for f64 → f32 and 32-bit int ↔ f64 where the device has
//! SHADER_F64. Integers of the same width cast by a buffer copy.
//!
//! Pipelines are compiled on first use and cached per (pair, kernel).

mod pipelines;
mod vector;

use ndarray::{ArrayBase, ArrayD, Data, Dimension};

use crate::core::dtype::Kind;
use crate::runtime::kernels::{Dispatches, grid, wgsl_struct};
use crate::runtime::sync::validated;
use crate::runtime::timing::Op;
use crate::{DType, Element, Gpu, Result, Tensor};
use pipelines::{CastKernels, Kernel, VECTOR_WORKGROUP, WORDS_PER_WORKGROUP, binding};

/// Most elements one dispatch covers, keeping [`CastParams`] fields inside u32.
const MAX_DISPATCH_ELEMS: usize = 1 << 30;

/// The casts `tensorbridge bench` and `benches/cast.rs` time: narrowing floats, narrowing ints,
/// and the int/float conversions of a typical input pipeline. For tensorbridge's own
/// benchmarks (feature `profiling`); not part of the stable API.
#[cfg(feature = "profiling")]
pub const BENCHMARKED_CASTS: [(DType, DType); 7] = [
    (DType::F64, DType::F32),
    (DType::F32, DType::F16),
    (DType::F32, DType::BF16),
    (DType::I64, DType::I32),
    (DType::U8, DType::F32),
    (DType::F32, DType::U8),
    (DType::I32, DType::F32),
];

wgsl_struct! {
    /// The uniform parameters of both cast kernels (`p` in `shaders/cast_words.wgsl` and
    /// `shaders/cast_vector.wgsl`).
    pub(crate) struct CastParams {
        /// Work items in this dispatch: elements (word kernel) or invocations (vector kernel).
        n: u32,
        /// Where the dispatch starts in the bound source: the first element (word kernel, a
        /// multiple of 4) or the first unit (vector kernel).
        src_base: u32,
        /// The same in the bound destination.
        dst_base: u32,
        /// Workgroups per row of the 2-D grid.
        row: u32,
    }
}

/// Whether `from -> to` keeps every bit pattern: integers of the same width, signed or not
/// (wrapping modulo 2^n is the identity there). Those casts are a buffer copy.
fn same_bits(from: DType, to: DType) -> bool {
    let int = |d: DType| matches!(d.kind(), Kind::UInt | Kind::SInt);
    int(from) && int(to) && from.bits() == to.bits()
}

/// One dispatch of a cast: which kernel, which chunks, where.
struct Dispatch {
    vector: bool,
    src_chunk: usize,
    dst_chunk: usize,
    grid: (u32, u32),
    params: CastParams,
}

/// Splits `src -> dst` into dispatches. The element range is cut at both tensors' chunk
/// boundaries; in each piece the vector kernel converts whole invocations' worth and the word
/// kernel the rest (only ever at the end of a tensor, as chunks hold whole units).
fn plan(src: &Tensor, dst: &Tensor, shape: &vector::Shape) -> Vec<Dispatch> {
    let (si, di) = (&src.inner, &dst.inner);
    let max_dim = src.gpu().limits().max_compute_workgroups_per_dimension as u64;
    let (su, du) = shape.unit_bytes();
    let (su, du) = (su as usize, du as usize);
    let (sb, db) = (si.dtype.size_in_bytes(), di.dtype.size_in_bytes());
    let per_word = (4 / db).max(1) as u64;
    let mut dispatches = Vec::new();
    let mut start = 0;
    while start < src.len() {
        let (sc, dc) = (start / si.chunk_elems, start / di.chunk_elems);
        let end = src
            .len()
            .min((sc + 1) * si.chunk_elems)
            .min((dc + 1) * di.chunk_elems)
            .min(start + MAX_DISPATCH_ELEMS);
        let (s0, d0) = (start - sc * si.chunk_elems, start - dc * di.chunk_elems);
        let aligned = (s0 * sb).is_multiple_of(su) && (d0 * db).is_multiple_of(du);
        let whole = if aligned {
            (end - start) / shape.elems as usize
        } else {
            0
        };
        let mut push = |vector: bool, per_workgroup: u64, n: usize, src_base, dst_base| {
            let grid = grid((n as u64).div_ceil(per_workgroup), max_dim);
            dispatches.push(Dispatch {
                vector,
                src_chunk: sc,
                dst_chunk: dc,
                grid,
                params: CastParams {
                    n: n as u32,
                    src_base: src_base as u32,
                    dst_base: dst_base as u32,
                    row: grid.0,
                },
            });
        };
        if whole > 0 {
            push(true, VECTOR_WORKGROUP, whole, s0 * sb / su, d0 * db / du);
        }
        let done = whole * shape.elems as usize;
        let rest = end - start - done;
        if rest > 0 {
            push(
                false,
                per_word * WORDS_PER_WORKGROUP,
                rest,
                s0 + done,
                d0 + done,
            );
        }
        start = end;
    }
    dispatches
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
    /// Subnormals are kept (never flushed), -0.0 keeps its sign. A NaN stays NaN with its sign,
    /// and its payload bits as NumPy (and ml_dtypes, for bfloat16) give them: f32 ↔ f64 and
    /// bf16 → f64 truncate or zero-extend the payload and set the quiet bit (as x86 does); f16
    /// widened, bf16 widened to f32 and anything narrowed to f16 keep the payload without
    /// quieting it (an all-zero truncated payload becomes 1); anything converted to bf16, and
    /// bf16 to f16, gives the canonical quiet NaN. bf16 is bfloat16 (8 exponent, 7 fraction
    /// bits).
    ///
    /// Casting to the tensor's own dtype returns a clone sharing the buffers; between integers of
    /// the same width (u32 ↔ i32, ...) the bits do not change, so the cast is a buffer copy.
    /// Tensors of any size work: the dispatch is split at chunk boundaries, each on a balanced
    /// 2-D grid. Where a probe at device creation found the adapter's own conversion
    /// instructions exact, int → f32, f32 → int and f32 → f16 use them, and where the device has
    /// SHADER_F64, f64 → f32 and 32-bit int ↔ f64 too
    /// ([`crate::GpuInfo::native_casts`]); the results are the same bits either way.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1.5f32, -2.7, 300.0, f32::NAN]))?;
    /// let u = t.cast(tensorbridge::DType::U8)?;
    /// assert_eq!(u.to_array::<u8>()?.as_slice().unwrap(), &[1, 0, 255, 0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        self.cast_with(dtype, Kernel::Vector)
    }

    /// The memory traffic of [`Tensor::cast`] to `dtype` without its arithmetic, for
    /// profiling: the same dispatches of the same vector kernel, making the same loads and
    /// stores, with the conversion of each element left out (each target word is the XOR of
    /// some of the loaded words, so that every load is used). The result has the right dtype
    /// and shape, but its contents are **not** the cast's.
    ///
    /// A cast's time over this one's is what its conversion costs on the adapter; this one's
    /// over a `copy_buffer_to_buffer` of the same bytes is what the adapter's compute-shader
    /// path to memory costs. Where [`Tensor::cast`] needs no kernel (same dtype, or integers of
    /// the same width) this does what it does.
    ///
    /// For tensorbridge's own benchmarks (feature `profiling`); not part of the stable API.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::Array1::<f32>::zeros(1 << 16))?;
    /// let f = t.cast_floor(tensorbridge::DType::F16)?;
    /// assert_eq!((f.dtype(), f.shape()), (tensorbridge::DType::F16, t.shape()));
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    #[cfg(feature = "profiling")]
    pub fn cast_floor(&self, dtype: DType) -> Result<Tensor> {
        self.cast_with(dtype, Kernel::Floor)
    }

    /// Casts into `out`, an existing tensor of the target dtype and this tensor's shape (for
    /// example one adopted from another engine's buffer with
    /// [`Tensor::from_wgpu_buffer`]): the same conversion as [`Tensor::cast`], with nothing
    /// allocated. When `out` has this tensor's dtype the bytes are copied.
    ///
    /// `out` must live on the same [`Gpu`]; a caller's buffer must end on a whole word (a
    /// kernel writes whole words), else [`crate::Error::Buffer`].
    ///
    /// ```
    /// use tensorbridge::DType;
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let t = gpu.upload(&ndarray::arr1(&[1.5f32, -2.5]))?;
    /// let out = gpu.upload(&ndarray::arr1(&[0i32, 0]))?;
    /// t.cast_into(&out)?;
    /// assert_eq!(out.to_array::<i32>()?.as_slice().unwrap(), &[1, -2]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn cast_into(&self, out: &Tensor) -> Result<()> {
        self.gpu().owns(out)?;
        if out.shape() != self.shape() {
            return Err(crate::Error::ShapeMismatch {
                expected: self.shape().to_vec(),
                got: out.shape().to_vec(),
            });
        }
        if out.inner.foreign && !out.size_in_bytes().is_multiple_of(4) {
            return Err(crate::Error::Buffer {
                problem: crate::BufferProblem::Range,
                reason: format!(
                    "the {} bytes of the destination end inside a word, which a kernel would \
                     overwrite whole",
                    out.size_in_bytes()
                ),
            });
        }
        if out.dtype() == self.dtype() {
            return match out.wgpu_buffer() {
                Some((buffer, offset)) => self.copy_to_buffer(buffer, offset),
                None => {
                    let _in_use = self.lock_for_gpu()?;
                    self.copy_to(out);
                    self.gpu().check()
                }
            };
        }
        let _in_use = self.lock_for_gpu()?;
        self.cast_to(out, Kernel::Vector)
    }

    /// [`Tensor::cast`] with `vector` (the vector kernel or its floor) where a tensor fills
    /// whole vector invocations.
    fn cast_with(&self, dtype: DType, vector: Kernel) -> Result<Tensor> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        let gpu = self.gpu();
        let _in_use = self.lock_for_gpu()?;
        let out = Tensor::alloc(gpu, dtype, self.shape())?;
        self.cast_to(&out, vector)?;
        Ok(out)
    }

    /// Converts into `out` (another dtype, the same shape, on this device), with the map lock
    /// held by the caller.
    fn cast_to(&self, out: &Tensor, vector: Kernel) -> Result<()> {
        let (from, dtype) = (self.dtype(), out.dtype());
        let gpu = self.gpu();
        if self.is_empty() {
            return Ok(());
        }
        if same_bits(from, dtype) {
            self.copy_to(out);
            return gpu.check();
        }
        let kernels = gpu.kernels::<CastKernels>()?;
        let shape = kernels.shape(from, dtype);
        let dispatches = plan(self, out, &shape);
        let mut pipelines = [None, None];
        for d in &dispatches {
            if pipelines[d.vector as usize].is_none() {
                let kernel = if d.vector { vector } else { Kernel::Words };
                pipelines[d.vector as usize] = Some(kernels.pipeline(gpu, from, dtype, kernel)?);
            }
        }
        let (su, du) = shape.unit_bytes();
        let mut recorded = Dispatches::new(gpu);
        for d in &dispatches {
            let (src, dst) = if d.vector {
                let s = self.unit_binding(d.src_chunk, su as u64);
                (s, out.unit_binding(d.dst_chunk, du as u64))
            } else {
                (self.binding(d.src_chunk), out.binding(d.dst_chunk))
            };
            let pipeline = pipelines[d.vector as usize]
                .as_ref()
                .expect("compiled above");
            let bindings = [(binding::SRC, src), (binding::DST, dst)];
            recorded.add(pipeline, (binding::PARAMS, &d.params), &bindings, d.grid)?;
        }
        recorded.submit_in(gpu.span(Op::Cast, out.size_in_bytes()));
        gpu.check()
    }

    /// Copies this tensor's bytes into `out`, a tensor of the same shape and element size, with
    /// `copy_buffer_to_buffer`; both are chunked alike (pooled tensors of one device), or
    /// `out` is one buffer (see [`Tensor::cast_into`]).
    fn copy_to(&self, out: &Tensor) {
        let gpu = self.gpu();
        let mut enc = gpu.device().create_command_encoder(&Default::default());
        let (o, size) = (&out.inner, self.dtype().size_in_bytes());
        for a in self.pieces(u64::MAX) {
            // The piece lies inside one chunk of `out` too: chunks are alike, or `out` has one.
            let c = a.start / o.chunk_elems;
            let at = o.offset + ((a.start - c * o.chunk_elems) * size) as u64;
            enc.copy_buffer_to_buffer(
                &self.inner.chunks[a.chunk],
                a.offset(&self.inner),
                &o.chunks[c],
                at,
                a.padded_bytes(&self.inner),
            );
        }
        gpu.span(Op::Cast, out.size_in_bytes())
            .submit(gpu, [enc.finish()]);
    }

    /// Casts on the device to `T`'s dtype, then reads back (without blocking).
    pub async fn read_as<T: Element>(&self) -> Result<ArrayD<T>> {
        let what = format!("casting {} to {}", self.dtype(), T::DTYPE);
        validated(self.gpu(), &what, || async {
            self.cast(T::DTYPE)?.read::<T>().await
        })
        .await
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
