//! Reuse of device buffers: fresh allocations cost page faults (a CPU adapter's device memory is
//! host memory), so buffers go back to a bounded pool instead of being freed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Gpu, Result};

/// Buffers grouped by (size class, usage), plus the byte accounting `gpu.memory()` reports.
pub(crate) struct Pool {
    state: Mutex<State>,
    /// Most bytes kept idle in the pool; beyond it returned buffers are freed.
    cap_bytes: u64,
    /// Optional cap on live tensor bytes.
    budget: Option<u64>,
    /// Buffers created on the device, for [`MemoryInfo::num_created`].
    created: AtomicU64,
    /// Size classes never exceed this (the device's per-buffer limit).
    max_class: u64,
}

#[derive(Default)]
struct State {
    /// Idle buffers, oldest first, by (size, usage bits). The oldest is reused first, which
    /// keeps buffers in the roles they had in a steady loop (in Chromium, writing into the
    /// buffer that was last read back is several times slower than into last round's input;
    /// BENCHMARKS.md).
    /// Each with the stamp of its return, for eviction.
    free: HashMap<(u64, u32), VecDeque<(u64, wgpu::Buffer)>>,
    /// Stamps buffers as they come back.
    returns: u64,
    pooled_bytes: u64,
    live_bytes: u64,
    live_tensors: usize,
}

/// Memory use, like `tf.memory()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryInfo {
    /// Tensors alive.
    pub num_tensors: usize,
    /// Device bytes held by live tensors (after size-class rounding).
    pub num_bytes: u64,
    /// Idle device bytes kept in the pool for reuse.
    pub pooled_bytes: u64,
    /// Device buffers created since the [`Gpu`] opened: each is a fresh allocation (page faults
    /// on a CPU adapter) the pool could not serve. It stays flat in a steady loop.
    pub num_created: u64,
}

impl Pool {
    pub fn new(cap_bytes: u64, budget: Option<u64>, max_class: u64) -> Self {
        Pool {
            state: Mutex::new(State::default()),
            cap_bytes,
            budget,
            created: AtomicU64::new(0),
            max_class,
        }
    }

    /// The size class holding `bytes`: 256 bytes minimum, then four classes per power of two
    /// (at most 25% slack), capped at the per-buffer limit (above it, internal single-buffer
    /// allocations get exactly what they ask, rounded to words).
    pub fn class(&self, bytes: u64) -> u64 {
        if bytes <= 256 {
            return 256;
        }
        let top = 63 - (bytes - 1).leading_zeros();
        let step = (1u64 << top) / 4;
        let class = bytes.div_ceil(step).saturating_mul(step);
        if bytes > self.max_class {
            bytes.next_multiple_of(4)
        } else {
            class.min(self.max_class)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A buffer of exactly `size` bytes (a class size) and `usage`, reused when one is idle.
    pub fn take(
        &self,
        gpu: &Gpu,
        what: &'static str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer> {
        {
            let mut s = self.lock();
            if let Some(b) = s
                .free
                .get_mut(&(size, usage.bits()))
                .and_then(VecDeque::pop_front)
            {
                s.pooled_bytes -= size;
                return Ok(b.1);
            }
        }
        match gpu.create_buffer(what, size, usage) {
            Err(Error::OutOfMemory { .. }) => {
                // Free what the pool holds and try once more.
                self.trim();
                gpu.create_buffer(what, size, usage)
            }
            r => r,
        }
    }

    /// Returns a buffer for reuse. When the pool is full, the buffers that came back longest
    /// ago are freed to make room: the one just returned is the likeliest to be wanted again
    /// (the same loop at the same sizes). Freeing it instead would make a large output that
    /// does not fit beside older idle buffers page-fault in afresh on every call.
    pub fn give(&self, buffer: wgpu::Buffer) {
        let size = buffer.size();
        if size > self.cap_bytes {
            buffer.destroy();
            return;
        }
        let mut evicted = Vec::new();
        {
            let mut s = self.lock();
            while s.pooled_bytes + size > self.cap_bytes {
                let Some(key) = s
                    .free
                    .iter()
                    .filter_map(|(k, q)| Some((q.front()?.0, *k)))
                    .min()
                    .map(|(_, k)| k)
                else {
                    break;
                };
                let Some(queue) = s.free.get_mut(&key) else {
                    break;
                };
                let oldest = queue.pop_front();
                if queue.is_empty() {
                    s.free.remove(&key);
                }
                if let Some((_, old)) = oldest {
                    s.pooled_bytes -= old.size();
                    evicted.push(old);
                }
            }
            s.pooled_bytes += size;
            s.returns += 1;
            let stamp = s.returns;
            s.free
                .entry((size, buffer.usage().bits()))
                .or_default()
                .push_back((stamp, buffer));
        }
        for b in evicted {
            b.destroy();
        }
    }

    /// Accounts a new live tensor of `bytes`, checking the memory budget.
    pub fn reserve(&self, bytes: u64) -> Result<()> {
        let mut s = self.lock();
        if let Some(max) = self.budget {
            let requested = s.live_bytes + bytes;
            if requested > max {
                return Err(Error::TooLarge {
                    what: "tensor",
                    limit: "memory_budget",
                    requested,
                    max,
                });
            }
        }
        s.live_bytes += bytes;
        s.live_tensors += 1;
        Ok(())
    }

    /// Accounts `count` new live tensors of `bytes` in all, checking the memory budget.
    pub fn reserve_many(&self, count: usize, bytes: u64) -> Result<()> {
        self.reserve(bytes)?;
        self.lock().live_tensors += count - 1;
        Ok(())
    }

    /// Undoes [`Pool::reserve_many`].
    pub fn release_many(&self, count: usize, bytes: u64) {
        let mut s = self.lock();
        s.live_bytes -= bytes;
        s.live_tensors -= count;
    }

    /// Undoes [`Pool::reserve`] when a tensor is dropped.
    pub fn release(&self, bytes: u64) {
        let mut s = self.lock();
        s.live_bytes -= bytes;
        s.live_tensors -= 1;
    }

    /// Frees every idle buffer.
    pub fn trim(&self) {
        let free = {
            let mut s = self.lock();
            s.pooled_bytes = 0;
            std::mem::take(&mut s.free)
        };
        for (_, b) in free.into_values().flatten() {
            b.destroy();
        }
    }

    /// Accounts a live tensor over a caller's buffer: counted, but holding no pool bytes.
    pub fn count_adopted(&self) {
        self.lock().live_tensors += 1;
    }

    /// Counts one buffer created on the device.
    pub fn count_created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    pub fn memory(&self) -> MemoryInfo {
        let s = self.lock();
        MemoryInfo {
            num_tensors: s.live_tensors,
            num_bytes: s.live_bytes,
            pooled_bytes: s.pooled_bytes,
            num_created: self.created.load(Ordering::Relaxed),
        }
    }
}

/// Returns staging buffers to the pool after a transfer; after a failure their map state is
/// unknown, so they are freed instead.
pub(crate) fn give_all(pool: &Pool, buffers: Vec<wgpu::Buffer>, ok: bool) {
    for b in buffers {
        if ok {
            pool.give(b);
        } else {
            b.destroy();
        }
    }
}

impl Gpu {
    /// Live tensors, their bytes, and the idle bytes the pool keeps for reuse.
    pub fn memory(&self) -> MemoryInfo {
        self.pool().memory()
    }

    /// Frees every idle pooled buffer (live tensors are untouched).
    pub fn trim(&self) {
        self.pool().trim()
    }
}

#[cfg(test)]
mod tests {
    use super::Pool;

    #[test]
    fn classes_have_bounded_slack() {
        let p = Pool::new(0, None, 128 << 20);
        for bytes in [
            1u64,
            255,
            256,
            257,
            4096,
            5000,
            1 << 20,
            (1 << 20) + 1,
            100 << 20,
        ] {
            let c = p.class(bytes);
            assert!(c >= bytes && c.is_multiple_of(4), "{bytes} -> {c}");
            assert!(c <= 256 || c * 4 <= bytes * 5 + 1024, "{bytes} -> {c}");
        }
        assert_eq!(p.class(128 << 20), 128 << 20);
        assert_eq!(p.class((120 << 20) + 3), 128 << 20);
    }
}
