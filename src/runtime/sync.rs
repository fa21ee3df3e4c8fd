//! Waiting: blocking wrappers for native, and the one map-and-wait primitive used everywhere.

use std::future::Future;

use crate::{Error, Gpu, Result};

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

/// Runs `f` (device work and its readback) inside a validation error scope, so that a kernel or
/// command the device rejects fails the call with [`Error::Gpu`] naming `what`. In the browser
/// such errors arrive only asynchronously: without the scope the call would read back zeros and
/// the error would surface in some later call.
pub(crate) async fn validated<T, F: Future<Output = Result<T>>>(
    gpu: &Gpu,
    what: &str,
    f: impl FnOnce() -> F,
) -> Result<T> {
    let scope = gpu.device().push_error_scope(wgpu::ErrorFilter::Validation);
    let result = f().await;
    match scope.pop().await {
        Some(e) => Err(Error::scope(what, e)),
        None => result,
    }
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
    map_all(gpu, &[slice], mode).await
}

/// Maps `slice`, blocking until done (native only: on the web nothing would resolve the map).
pub(crate) fn map_now(gpu: &Gpu, slice: wgpu::BufferSlice<'_>, mode: wgpu::MapMode) -> Result<()> {
    map_all_now(gpu, &[slice], mode)
}

/// Maps every slice at once and waits for all of them: one wait for a whole batch. On failure,
/// the slices that did map are unmapped again, so no buffer is left mapped.
pub(crate) async fn map_all(
    gpu: &Gpu,
    slices: &[wgpu::BufferSlice<'_>],
    mode: wgpu::MapMode,
) -> Result<()> {
    if cfg!(not(target_arch = "wasm32")) {
        return map_all_now(gpu, slices, mode);
    }
    gpu.check()?;
    let receivers = start_maps(slices, mode);
    let mut results = Vec::with_capacity(slices.len());
    for rx in receivers {
        results.push(rx.await);
    }
    settle(gpu, slices, results)
}

/// [`map_all`], blocking: polls the device until every callback has fired (native only).
pub(crate) fn map_all_now(
    gpu: &Gpu,
    slices: &[wgpu::BufferSlice<'_>],
    mode: wgpu::MapMode,
) -> Result<()> {
    gpu.check()?;
    let receivers = start_maps(slices, mode);
    let mut results = Vec::with_capacity(slices.len());
    for mut rx in receivers {
        let r = loop {
            gpu.device()
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| gpu.lost_because(e))?;
            match rx.try_recv() {
                Ok(Some(r)) => break Ok(r),
                Ok(None) => std::thread::yield_now(),
                Err(c) => break Err(c),
            }
        };
        results.push(r);
    }
    settle(gpu, slices, results)
}

/// Maps the buffers under `slices` for the mapped path: each buffer once, over the union of
/// its slices (the tensors of a block share a buffer, and a buffer maps as a whole), with one
/// wait. Returns the spans mapped, to read or write through (one mapped range per span is
/// far cheaper than one per slice) and to unmap when done.
pub(crate) fn map_covering(
    gpu: &Gpu,
    slices: &[wgpu::BufferSlice<'_>],
    mode: wgpu::MapMode,
) -> Result<Spans> {
    let mut all: Vec<(&wgpu::Buffer, u64, u64)> = slices
        .iter()
        .map(|s| (s.buffer(), s.offset(), s.offset() + s.size()))
        .collect();
    all.sort_unstable_by(|x, y| x.0.cmp(y.0));
    let mut spans: Vec<(wgpu::Buffer, u64, u64)> = Vec::with_capacity(all.len());
    for (b, start, end) in all {
        match spans.last_mut() {
            Some(last) if last.0 == *b => {
                last.1 = last.1.min(start);
                last.2 = last.2.max(end);
            }
            _ => spans.push((b.clone(), start, end)),
        }
    }
    let whole: Vec<_> = spans.iter().map(|(b, x, y)| b.slice(*x..*y)).collect();
    map_all_now(gpu, &whole, mode)?;
    Ok(Spans(spans))
}

/// Buffers mapped by [`map_covering`], each over one byte range, sorted by buffer.
pub(crate) struct Spans(Vec<(wgpu::Buffer, u64, u64)>);

impl Spans {
    /// The span holding `buffer`, and where `offset` of the buffer lies inside it.
    pub fn find(&self, buffer: &wgpu::Buffer, offset: u64) -> (usize, usize) {
        let k = self
            .0
            .binary_search_by(|s| s.0.cmp(buffer))
            .expect("every slice lies in a mapped span");
        (k, (offset - self.0[k].1) as usize)
    }

    /// Each span's mapped range, for reading.
    pub fn views(&self) -> Result<Vec<wgpu::BufferView>> {
        self.each(|s| s.get_mapped_range())
    }

    /// Each span's mapped range, for writing.
    pub fn views_mut(&self) -> Result<Vec<wgpu::BufferViewMut>> {
        self.each(|s| s.get_mapped_range_mut())
    }

    fn each<V, E: std::error::Error + Send + Sync + 'static>(
        &self,
        get: impl Fn(wgpu::BufferSlice<'_>) -> std::result::Result<V, E>,
    ) -> Result<Vec<V>> {
        self.0
            .iter()
            .map(|(b, x, y)| get(b.slice(*x..*y)).map_err(Error::map))
            .collect()
    }

    /// Unmaps every buffer (after the views are dropped).
    pub fn unmap(self) {
        for (b, _, _) in self.0 {
            b.unmap();
        }
    }
}

/// Issues `map_async` on every slice; each receiver gets its callback's result.
fn start_maps(
    slices: &[wgpu::BufferSlice<'_>],
    mode: wgpu::MapMode,
) -> Vec<futures_channel::oneshot::Receiver<Result<(), wgpu::BufferAsyncError>>> {
    slices
        .iter()
        .map(|s| {
            let (tx, rx) = futures_channel::oneshot::channel();
            s.map_async(mode, move |r| {
                let _ = tx.send(r);
            });
            rx
        })
        .collect()
}

/// Turns the map callbacks' results into one `Result`, unmapping what did map on failure.
fn settle(gpu: &Gpu, slices: &[wgpu::BufferSlice<'_>], results: Vec<MapResult>) -> Result<()> {
    if results.iter().all(|r| matches!(r, Ok(Ok(())))) {
        return Ok(());
    }
    let mut first = None;
    for (s, r) in slices.iter().zip(results) {
        if matches!(r, Ok(Ok(()))) {
            s.buffer().unmap();
        } else if first.is_none() {
            first = Some(finish(gpu, r));
        }
    }
    first.unwrap_or(Ok(()))
}

type MapResult = std::result::Result<
    std::result::Result<(), wgpu::BufferAsyncError>,
    futures_channel::oneshot::Canceled,
>;

fn finish(gpu: &Gpu, result: MapResult) -> Result<()> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(gpu.lost_or(format!("map_async: {e}"))),
        Err(_) => Err(gpu.lost_or("map_async callback was dropped".into())),
    }
}
