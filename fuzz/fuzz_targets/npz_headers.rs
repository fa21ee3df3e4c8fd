//! The .npz directory and entry-header parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorbridge::{NpyParseOptions, parse_npz_headers};

fuzz_target!(|data: &[u8]| {
    let _ = parse_npz_headers(data, NpyParseOptions::default());
});
