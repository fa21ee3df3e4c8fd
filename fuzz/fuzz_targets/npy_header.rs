//! The .npy header parser never panics, and what it accepts is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorbridge::{NpyParseOptions, parse_npy_header};

fuzz_target!(|data: &[u8]| {
    for void2_as_bf16 in [false, true] {
        if let Ok(h) = parse_npy_header(data, NpyParseOptions { void2_as_bf16 }) {
            let n = h.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            assert_eq!(n.and_then(|n| n.checked_mul(h.dtype.size_in_bytes())), Some(h.data_len));
            assert!(h.data_offset <= data.len());
        }
    }
});
