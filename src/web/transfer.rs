//! The two copies, done by the browser: typed array → `GPUQueue.writeBuffer`, and mapped range →
//! typed array.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::{DType, Error, Gpu, Result, Tensor};

/// A JS exception from a WebGPU call, as our error.
fn js(e: JsValue) -> Error {
    Error::gpu(match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    })
}

/// The JS `GPUBuffer` behind a wgpu buffer (every buffer is one on the web).
pub(crate) fn web_buffer(b: &wgpu::Buffer) -> Result<&wgpu::webgpu::GpuBuffer> {
    b.as_webgpu()
        .ok_or_else(|| Error::gpu("the buffer is not a WebGPU buffer"))
}

/// Uploads `bytes` (a view of the caller's typed array) into a new tensor. The browser copies
/// straight from the typed array's memory; the data never passes through wasm memory. A bool
/// tensor is checked for 0/1 first (a read pass, through a small block on the stack).
pub(crate) fn upload(
    gpu: &Gpu,
    bytes: &Uint8Array,
    dtype: DType,
    shape: &[usize],
) -> Result<Tensor> {
    if dtype == DType::Bool {
        check_bool(bytes)?;
    }
    let tensor = Tensor::alloc(gpu, dtype, shape)?;
    let queue = gpu
        .queue()
        .as_webgpu()
        .ok_or_else(|| Error::gpu("the device is not a WebGPU device"))?;
    let inner = &tensor.inner;
    let size = dtype.size_in_bytes();
    for p in tensor.pieces(u64::MAX) {
        let buffer = web_buffer(&inner.chunks[p.chunk])?;
        let (dst, src, n) = (p.offset(inner), p.start * size, p.len * size);
        // writeBuffer takes whole words; the last partial word goes through a 4-byte array.
        let body = n & !3;
        if body > 0 {
            queue
                .write_buffer_with_f64_and_buffer_source_and_f64_and_f64(
                    buffer,
                    dst as f64,
                    bytes,
                    src as f64,
                    body as f64,
                )
                .map_err(js)?;
        }
        if n > body {
            let mut tail = [0u8; 4];
            bytes
                .subarray((src + body) as u32, (src + n) as u32)
                .copy_to(&mut tail[..n - body]);
            queue
                .write_buffer_with_f64_and_u8_slice(buffer, (dst + body as u64) as f64, &tail)
                .map_err(js)?;
        }
    }
    gpu.check()?;
    Ok(tensor)
}

/// Bool data must be 0 or 1, as on native ([`Error::InvalidBool`]). Scans through a block on the
/// stack: no allocation per call.
fn check_bool(bytes: &Uint8Array) -> Result<()> {
    let mut block = [0u8; 16 << 10];
    let total = bytes.length() as usize;
    let mut start = 0;
    while start < total {
        let n = block.len().min(total - start);
        bytes
            .subarray(start as u32, (start + n) as u32)
            .copy_to(&mut block[..n]);
        if let Some(i) = block[..n].iter().position(|&b| b > 1) {
            return Err(Error::InvalidBool {
                index: start + i,
                value: block[i],
            });
        }
        start += n;
    }
    Ok(())
}

/// Reads `tensor` into `out`, a byte view of the typed array `data()` returns: each mapped piece
/// is copied once, by the browser, from the mapped range into place.
pub(crate) async fn read_into(tensor: &Tensor, out: &Uint8Array) -> Result<()> {
    let size = tensor.dtype().size_in_bytes();
    tensor
        .visit_mapped(|view, start, len| {
            let mapped = view.as_uint8array().subarray(0, (len * size) as u32);
            out.set(&mapped, (start * size) as u32);
            Ok(())
        })
        .await
}
