//! Streaming (native): transfers that overlap the caller's own work, on a background thread.
//!
//! * [`Prefetcher`] ([`Gpu::prefetch`]) uploads the next arrays of an iterator while the
//!   caller works on the current tensor, with up to `depth` uploads in flight.
//! * [`ReadbackQueue`] ([`Gpu::readback_queue`]) reads tensors back while the caller goes on
//!   submitting work, returning arrays in the order the tensors were pushed.
//!
//! `examples/streaming.rs` times both against doing the same steps one after another.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ndarray::{ArrayBase, ArrayD, Data, Dimension};

use crate::{Element, Error, Gpu, Result, Tensor};

/// Uploads the arrays of an iterator on a background thread, ahead of the consumer. Iterate it
/// to get the tensors, in order. Dropping it stops the uploads and joins the thread.
///
/// ```
/// use ndarray::Array1;
/// let gpu = tensorbridge::Gpu::new()?;
/// let batches = (0..4).map(|i| Array1::from_elem(1 << 16, i as f32));
/// for (i, t) in gpu.prefetch(batches).enumerate() {
///     let t = t?; // uploaded while the previous tensor was being used
///     assert_eq!(t.to_array::<f32>()?[0], i as f32);
/// }
/// # Ok::<(), tensorbridge::Error>(())
/// ```
pub struct Prefetcher {
    rx: Option<Receiver<Result<Tensor>>>,
    worker: Option<JoinHandle<()>>,
}

/// Transfers in flight by default in [`Gpu::prefetch`] and [`Gpu::readback_queue`].
pub const DEFAULT_DEPTH: usize = 2;

impl Gpu {
    /// Starts uploading `arrays` on a background thread, with [`DEFAULT_DEPTH`] (2) uploads in
    /// flight.
    pub fn prefetch<I, S, D, T>(&self, arrays: I) -> Prefetcher
    where
        I: IntoIterator<Item = ArrayBase<S, D>>,
        I::IntoIter: Send + 'static,
        S: Data<Elem = T>,
        D: Dimension,
        T: Element,
    {
        self.prefetch_with_depth(arrays, DEFAULT_DEPTH)
    }

    /// [`Gpu::prefetch`] keeping up to `depth` (at least 1) uploads in flight: finished tensors
    /// waiting to be taken plus the one being copied.
    pub fn prefetch_with_depth<I, S, D, T>(&self, arrays: I, depth: usize) -> Prefetcher
    where
        I: IntoIterator<Item = ArrayBase<S, D>>,
        I::IntoIter: Send + 'static,
        S: Data<Elem = T>,
        D: Dimension,
        T: Element,
    {
        let (tx, rx) = sync_channel(depth.max(1) - 1);
        let gpu = self.clone();
        let iter = arrays.into_iter();
        let worker = std::thread::Builder::new()
            .name("tensorbridge-prefetch".into())
            .spawn(move || {
                for a in iter {
                    let r = gpu.upload(&a);
                    let failed = r.is_err();
                    if tx.send(r).is_err() || failed {
                        break;
                    }
                }
            });
        match worker {
            Ok(w) => Prefetcher {
                rx: Some(rx),
                worker: Some(w),
            },
            Err(e) => {
                let (tx, rx) = sync_channel(1);
                let _ = tx.send(Err(Error::gpu(format!("spawning a thread: {e}"))));
                Prefetcher {
                    rx: Some(rx),
                    worker: None,
                }
            }
        }
    }

    /// A queue that reads tensors back as `T` arrays on a background thread, so the conversion
    /// overlaps your own work; up to [`DEFAULT_DEPTH`] (2) tensors wait to be read.
    ///
    /// ```
    /// let gpu = tensorbridge::Gpu::new()?;
    /// let q = gpu.readback_queue::<f32>();
    /// for i in 0..3 {
    ///     q.push(gpu.upload(&ndarray::Array1::from_elem(1024, i as f32))?)?;
    ///     // ... more work here while earlier tensors are read back ...
    /// }
    /// let sums: Vec<f32> = q.map(|a| a.map(|a| a.sum())).collect::<Result<_, _>>()?;
    /// assert_eq!(sums, [0.0, 1024.0, 2048.0]);
    /// # Ok::<(), tensorbridge::Error>(())
    /// ```
    pub fn readback_queue<T: Element>(&self) -> ReadbackQueue<T> {
        self.readback_queue_with_depth(DEFAULT_DEPTH)
    }

    /// [`Gpu::readback_queue`] where `depth` (at least 1) bounds the tensors waiting to be read.
    pub fn readback_queue_with_depth<T: Element>(&self, depth: usize) -> ReadbackQueue<T> {
        let (tx, jobs) = sync_channel::<Tensor>(depth.max(1));
        let (done, rx) = std::sync::mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("tensorbridge-readback".into())
            .spawn(move || {
                for t in jobs {
                    if done.send(t.to_array::<T>()).is_err() {
                        break;
                    }
                }
            })
            .ok();
        ReadbackQueue {
            tx: Some(tx),
            rx,
            pending: AtomicUsize::new(0),
            worker,
        }
    }
}

impl Iterator for Prefetcher {
    type Item = Result<Tensor>;

    fn next(&mut self) -> Option<Result<Tensor>> {
        self.rx.as_ref()?.recv().ok()
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        // Closing the channel makes the worker's next send fail, which ends it.
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Reads tensors back on a background thread, in push order. Iterating it yields the arrays
/// of every tensor pushed so far (blocking for those not yet read). See
/// [`Gpu::readback_queue`].
pub struct ReadbackQueue<T: Element> {
    tx: Option<SyncSender<Tensor>>,
    rx: Receiver<Result<ArrayD<T>>>,
    pending: AtomicUsize,
    worker: Option<JoinHandle<()>>,
}

impl<T: Element> ReadbackQueue<T> {
    /// Queues `tensor` for readback; blocks while `depth` tensors are already waiting.
    pub fn push(&self, tensor: Tensor) -> Result<()> {
        tensor.expect_dtype::<T>()?;
        let sent = self.tx.as_ref().map(|tx| tx.send(tensor));
        match sent {
            Some(Ok(())) => {
                self.pending.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            _ => Err(Error::gpu("the readback thread has stopped")),
        }
    }

    /// Tensors pushed whose arrays have not been taken yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The next array in push order, blocking until it is read; `None` when nothing is pending.
    pub fn pop(&self) -> Option<Result<ArrayD<T>>> {
        if self.pending() == 0 {
            return None;
        }
        self.pending.fetch_sub(1, Ordering::Relaxed);
        Some(
            self.rx
                .recv()
                .unwrap_or_else(|_| Err(Error::gpu("the readback thread has stopped"))),
        )
    }

    /// The next array if it is already read, without blocking.
    pub fn try_pop(&self) -> Option<Result<ArrayD<T>>> {
        let r = self.rx.try_recv().ok()?;
        self.pending.fetch_sub(1, Ordering::Relaxed);
        Some(r)
    }
}

impl<T: Element> Iterator for ReadbackQueue<T> {
    type Item = Result<ArrayD<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.pop()
    }
}

impl<T: Element> Drop for ReadbackQueue<T> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
