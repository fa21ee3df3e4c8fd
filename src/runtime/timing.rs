//! Where the time goes: every transfer and cast records its phases; [`Gpu::stats`] returns them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use web_time::Instant;

use crate::Gpu;

/// Time spent in each phase of one kind of operation, summed over calls since the last
/// [`Gpu::reset_stats`].
///
/// Phases of a pipelined transfer overlap (the host copy of chunk k+1 runs while the device
/// copies chunk k), so they need not add up to the wall time of a call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Calls made (a batch counts once).
    pub calls: u64,
    /// Element bytes moved or produced.
    pub bytes: u64,
    /// Host copies into or out of mapped GPU-visible memory (including any layout fix-up).
    pub host_copy: Duration,
    /// Encoding commands and `queue.submit`.
    pub submit: Duration,
    /// Device copies or kernels: from each submission to the moment the host saw it complete.
    /// Tight when the host is waiting (every readback, staged uploads); for a cast nobody waits
    /// on, it runs until the next poll, so it is an upper bound.
    pub device: Duration,
    /// Blocked in `map_async` until buffers were mapped (this includes waiting for the device
    /// work the mapping depends on).
    pub map_wait: Duration,
}

impl PhaseTimes {
    fn add(&mut self, o: &PhaseTimes) {
        self.calls += o.calls;
        self.bytes += o.bytes;
        self.host_copy += o.host_copy;
        self.submit += o.submit;
        self.device += o.device;
        self.map_wait += o.map_wait;
    }
}

/// Phase times of uploads, readbacks and casts. See [`Gpu::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// [`Gpu::upload`] and friends.
    pub upload: PhaseTimes,
    /// [`crate::Tensor::read_into`], `to_array`, `read_many` and friends.
    pub readback: PhaseTimes,
    /// [`crate::Tensor::cast`].
    pub cast: PhaseTimes,
}

/// Which [`Stats`] field an operation adds to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Upload,
    Readback,
    Cast,
}

impl Stats {
    fn get(&mut self, op: Op) -> &mut PhaseTimes {
        match op {
            Op::Upload => &mut self.upload,
            Op::Readback => &mut self.readback,
            Op::Cast => &mut self.cast,
        }
    }
}

/// The running totals of one [`Gpu`].
pub(crate) type Recorder = Arc<Mutex<Stats>>;

/// One call's phase times, added to the totals when it is dropped (so failed calls count too).
pub(crate) struct Span {
    recorder: Recorder,
    op: Op,
    pub times: PhaseTimes,
}

impl Span {
    /// Runs `f`, adding its duration to the phase `phase` selects.
    pub fn time<R>(
        &mut self,
        phase: fn(&mut PhaseTimes) -> &mut Duration,
        f: impl FnOnce() -> R,
    ) -> R {
        let start = Instant::now();
        let r = f();
        *phase(&mut self.times) += start.elapsed();
        r
    }

    /// Adds the time since `start` to the phase `phase` selects (for spans across an `.await`).
    pub fn since(&mut self, phase: fn(&mut PhaseTimes) -> &mut Duration, start: Instant) {
        *phase(&mut self.times) += start.elapsed();
    }

    /// Submits `commands`, timing the submit, and records the device time when the queue reports
    /// the work done.
    pub fn submit(&mut self, gpu: &Gpu, commands: impl IntoIterator<Item = wgpu::CommandBuffer>) {
        let queue = gpu.queue();
        let start = Instant::now();
        queue.submit(commands);
        let submitted = Instant::now();
        self.times.submit += submitted - start;
        let (recorder, op) = (self.recorder.clone(), self.op);
        queue.on_submitted_work_done(move || {
            if let Ok(mut s) = recorder.lock() {
                s.get(op).device += submitted.elapsed();
            }
        });
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Ok(mut s) = self.recorder.lock() {
            s.get(self.op).add(&self.times);
        }
    }
}

/// Phase accessors for [`Span::time`].
pub(crate) fn host_copy(p: &mut PhaseTimes) -> &mut Duration {
    &mut p.host_copy
}

/// See [`host_copy`].
pub(crate) fn submit(p: &mut PhaseTimes) -> &mut Duration {
    &mut p.submit
}

/// See [`host_copy`].
pub(crate) fn map_wait(p: &mut PhaseTimes) -> &mut Duration {
    &mut p.map_wait
}

impl Gpu {
    /// Where the time went: phase times of every upload, readback and cast since the `Gpu` was
    /// created or [`Gpu::reset_stats`] was called. Timers are always on (a few clock reads per
    /// call); `tensorbridge bench` prints them.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// gpu.upload(&ndarray::Array1::<f32>::zeros(1024))?.to_array::<f32>()?;
    /// let s = gpu.stats();
    /// assert_eq!((s.upload.calls, s.readback.calls), (1, 1));
    /// assert_eq!(s.upload.bytes, 4096);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        *self.recorder().lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets every counter of [`Gpu::stats`] back to zero.
    pub fn reset_stats(&self) {
        *self.recorder().lock().unwrap_or_else(|p| p.into_inner()) = Stats::default();
    }

    /// Starts timing one call of `op` moving `bytes`.
    pub(crate) fn span(&self, op: Op, bytes: u64) -> Span {
        Span {
            recorder: self.recorder().clone(),
            op,
            times: PhaseTimes {
                calls: 1,
                bytes,
                ..Default::default()
            },
        }
    }
}
