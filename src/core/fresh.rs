//! Fresh host buffers for readback: a large new `Vec` asks the kernel for transparent huge
//! pages before its first touch.
//!
//! Reading into a new array is bound by the first touch of its pages: with 4 KiB pages, a
//! 128 MiB array takes 32768 page faults. Linux backs a range advised with `MADV_HUGEPAGE` by
//! 2 MiB pages where it can (when `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise`
//! or `always`), 64 faults instead; NumPy advises its own large arrays the same way.
//! BENCHMARKS.md has the measurements. The advice changes no data and may be ignored; elsewhere
//! this is a plain `Vec::with_capacity`.

/// Below this, a buffer spans too few huge pages to matter.
#[cfg(target_os = "linux")]
const MIN_BYTES: usize = 8 << 20;

/// An empty `Vec` with room for `len` elements, huge pages advised when it is large.
pub(crate) fn vec_with_capacity<T>(len: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    advise_huge_pages(
        v.as_ptr().cast(),
        len.saturating_mul(std::mem::size_of::<T>()),
    );
    v
}

/// Advises the whole 2 MiB pages of `len` bytes at `ptr` (not yet touched) as huge pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *const u8, len: usize) {
    const HUGE: usize = 2 << 20;
    if len < MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len) & !(HUGE - 1);
    if end > start {
        // SAFETY: [start, end) lies inside the Vec's own allocation; MADV_HUGEPAGE only
        // changes how the kernel backs those pages, never their contents. A failure (an old
        // kernel, THP turned off) leaves the ordinary pages, so the result is ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fresh_vectors_hold_what_is_written() {
        for len in [0usize, 7, 3 << 20, 9 << 20] {
            let mut v: Vec<u32> = super::vec_with_capacity(len);
            assert!(v.capacity() >= len);
            v.extend((0..len as u32).map(|i| i.wrapping_mul(2_654_435_761)));
            assert!(
                v.iter()
                    .enumerate()
                    .all(|(i, &x)| x == (i as u32).wrapping_mul(2_654_435_761))
            );
        }
    }
}
