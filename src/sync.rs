//! Waiting: blocking wrappers for native, and the one map-and-wait primitive used everywhere.

use std::future::Future;

#[cfg(target_arch = "wasm32")]
use crate::Error;
use crate::{Gpu, Result};

/// Runs an async operation to completion on native; on wasm, blocking is impossible, so it
/// returns [`Error::BlockingUnsupported`] naming the async alternative.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn block_on<F: Future>(
    _call: &'static str,
    _alternative: &'static str,
    f: impl FnOnce() -> F,
) -> Result<F::Output> {
    Ok(pollster::block_on(f()))
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn block_on<F: Future>(
    call: &'static str,
    alternative: &'static str,
    _f: impl FnOnce() -> F,
) -> Result<F::Output> {
    Err(Error::BlockingUnsupported { call, alternative })
}

/// Maps `slice` and waits until the mapping is usable.
///
/// Native: blocks, polling the device until the callback fires (see [`map_now`]), so the future
/// is complete when first polled. Web: awaits the browser's `mapAsync`.
pub(crate) async fn map(
    gpu: &Gpu,
    slice: wgpu::BufferSlice<'_>,
    mode: wgpu::MapMode,
) -> Result<()> {
    if cfg!(not(target_arch = "wasm32")) {
        return map_now(gpu, slice, mode);
    }
    gpu.check()?;
    let (tx, rx) = futures_channel::oneshot::channel();
    slice.map_async(mode, move |r| {
        let _ = tx.send(r);
    });
    finish(gpu, rx.await)
}

/// Maps `slice`, blocking until done (native only: on the web nothing would resolve the map).
pub(crate) fn map_now(gpu: &Gpu, slice: wgpu::BufferSlice<'_>, mode: wgpu::MapMode) -> Result<()> {
    gpu.check()?;
    let (tx, mut rx) = futures_channel::oneshot::channel();
    slice.map_async(mode, move |r| {
        let _ = tx.send(r);
    });
    let result = loop {
        gpu.shared
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| gpu.lost_or(e.to_string()))?;
        match rx.try_recv() {
            Ok(Some(r)) => break Ok(r),
            Ok(None) => std::thread::yield_now(),
            Err(c) => break Err(c),
        }
    };
    finish(gpu, result)
}

fn finish(
    gpu: &Gpu,
    result: Result<Result<(), wgpu::BufferAsyncError>, futures_channel::oneshot::Canceled>,
) -> Result<()> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(gpu.lost_or(format!("map_async: {e}"))),
        Err(_) => Err(gpu.lost_or("map_async callback was dropped".into())),
    }
}
