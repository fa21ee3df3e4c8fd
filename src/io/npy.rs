//! The `.npy` format: header parsing (versions 1.0, 2.0, 3.0) and writing.
//!
//! A header is a Python dict literal: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
//! The parser accepts exactly that grammar and names what is wrong otherwise; it never panics
//! (it is fuzzed: `fuzz/fuzz_targets/npy_header.rs` and `npz_headers.rs`).

use crate::DType;

/// NumPy refuses headers longer than this (`numpy.lib.format`'s default `max_header_size`).
pub const MAX_HEADER_LEN: usize = 10_000;

const MAGIC: &[u8] = b"\x93NUMPY";

/// What an .npy header says about the data that follows it ([`parse_npy_header`]).
///
/// [`parse_npy_header`]: crate::parse_npy_header
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: DType,
    /// Shape (empty for 0-d).
    pub shape: Vec<usize>,
    /// Fortran (column-major) order.
    pub fortran: bool,
    /// Big-endian elements ('>' descr).
    pub big_endian: bool,
    /// Bytes from the start of the file to the data.
    pub data_offset: usize,
    /// `shape.product() * dtype.size_in_bytes()`, checked for overflow.
    pub data_len: usize,
}

/// How to read a descr of raw 2-byte void ('<V2'), which is how NumPy with `ml_dtypes` saves
/// bfloat16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Read '<V2' as bf16.
    pub void2_as_bf16: bool,
}

/// Parses the magic, version and header of an .npy file starting at `bytes[0]`; only the header
/// needs to be present. Errors say what is wrong. Never panics (fuzzed).
///
/// ```
/// use tensorbridge::{DType, NpyParseOptions, parse_npy_header};
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// let dict = b"{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }";
/// file.extend_from_slice(&(dict.len() as u16).to_le_bytes());
/// file.extend_from_slice(dict);
/// let h = parse_npy_header(&file, NpyParseOptions::default()).unwrap();
/// assert_eq!((h.dtype, h.shape, h.big_endian, h.fortran), (DType::F64, vec![3, 2], true, true));
/// ```
pub fn parse_header(bytes: &[u8], opts: ParseOptions) -> Result<NpyHeader, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not an .npy file (no \\x93NUMPY magic)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            let b = bytes
                .get(8..12)
                .ok_or("truncated header: no header length")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        _ => return Err(format!("unsupported .npy format version {major}.{minor}")),
    };
    if len > MAX_HEADER_LEN {
        return Err(format!(
            "header is {len} bytes, over the {MAX_HEADER_LEN}-byte limit NumPy also enforces"
        ));
    }
    let text = bytes
        .get(start..start + len)
        .ok_or_else(|| format!("truncated header: {len} bytes announced"))?;
    let text = if major == 3 {
        std::str::from_utf8(text).map_err(|e| format!("header is not UTF-8: {e}"))?
    } else if text.is_ascii() {
        std::str::from_utf8(text).expect("ASCII")
    } else {
        return Err("header is not ASCII".into());
    };
    let dict = Dict::parse(text)?;
    let (dtype, big_endian) = descr(&dict.descr, opts)?;
    let count = dict
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape {:?} overflows the address space", dict.shape))?;
    let data_len = count
        .checked_mul(dtype.size_in_bytes())
        .ok_or_else(|| format!("shape {:?} overflows the address space", dict.shape))?;
    Ok(NpyHeader {
        dtype,
        shape: dict.shape,
        fortran: dict.fortran,
        big_endian,
        data_offset: start + len,
        data_len,
    })
}

/// The descr for a dtype, as written: little-endian, bf16 as '<V2'.
pub fn descr_of(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::U8 => "|u1",
        DType::I8 => "|i1",
        DType::U16 => "<u2",
        DType::I16 => "<i2",
        DType::U32 => "<u4",
        DType::I32 => "<i4",
        DType::U64 => "<u8",
        DType::I64 => "<i8",
        DType::F16 => "<f2",
        DType::BF16 => "<V2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

/// (dtype, big-endian) for a descr string.
fn descr(d: &str, opts: ParseOptions) -> Result<(DType, bool), String> {
    let (order, code) = match d.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &d[1..]),
        _ => ('=', d),
    };
    let dtype = match code {
        "b1" => DType::Bool,
        "u1" => DType::U8,
        "i1" => DType::I8,
        "u2" => DType::U16,
        "i2" => DType::I16,
        "u4" => DType::U32,
        "i4" => DType::I32,
        "u8" => DType::U64,
        "i8" => DType::I64,
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        "V2" if opts.void2_as_bf16 => DType::BF16,
        "V2" => {
            return Err(format!(
                "descr {d:?} is raw 2-byte void; NumPy with ml_dtypes saves bfloat16 that way: \
                 load it with LoadOptions {{ void2_as_bf16: true, .. }} (CLI: --bf16)"
            ));
        }
        c if c.starts_with('O') => {
            return Err(format!(
                "descr {d:?} is an object array, which has no fixed layout"
            ));
        }
        _ => return Err(format!("unknown or unsupported descr {d:?}")),
    };
    Ok((dtype, order == '>' && dtype.size_in_bytes() > 1))
}

/// The three keys of a header dict.
struct Dict {
    descr: String,
    fortran: bool,
    shape: Vec<usize>,
}

/// A tiny cursor over the header text.
struct Cursor<'a> {
    s: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        self.s = self.s.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        match self.s.strip_prefix(c) {
            Some(rest) => {
                self.s = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("header: expected {c:?} at {:?}", preview(self.s)))
        }
    }

    /// A quoted string (no escapes; descr and keys never need them).
    fn string(&mut self) -> Result<&'a str, String> {
        self.skip_ws();
        let q = match self.s.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => {
                return Err(format!(
                    "header: expected a string at {:?}",
                    preview(self.s)
                ));
            }
        };
        let body = &self.s[1..];
        let end = body
            .find(q)
            .ok_or("header: unterminated string".to_string())?;
        self.s = &body[end + 1..];
        Ok(&body[..end])
    }

    fn word(&mut self) -> &'a str {
        self.skip_ws();
        let end = self
            .s
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(self.s.len());
        let (w, rest) = self.s.split_at(end);
        self.s = rest;
        w
    }
}

fn preview(s: &str) -> String {
    s.chars().take(20).collect()
}

impl Dict {
    fn parse(text: &str) -> Result<Dict, String> {
        let mut c = Cursor { s: text };
        c.expect('{')?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        loop {
            if c.eat('}') {
                break;
            }
            let key = c.string()?;
            c.expect(':')?;
            match key {
                "descr" => {
                    c.skip_ws();
                    if c.s.starts_with('[') {
                        return Err("structured dtypes (a descr list) are not supported".into());
                    }
                    descr = Some(c.string()?.to_string());
                }
                "fortran_order" => {
                    fortran = Some(match c.word() {
                        "True" => true,
                        "False" => false,
                        w => return Err(format!("header: fortran_order is {w:?}")),
                    });
                }
                "shape" => {
                    c.expect('(')?;
                    let mut dims = Vec::new();
                    while !c.eat(')') {
                        let w = c.word();
                        let w = w.strip_suffix('L').unwrap_or(w);
                        let d = w
                            .parse::<usize>()
                            .map_err(|_| format!("header: bad dimension {w:?} in shape"))?;
                        dims.push(d);
                        if !c.eat(',') {
                            c.expect(')')?;
                            break;
                        }
                    }
                    shape = Some(dims);
                }
                k => return Err(format!("header: unexpected key {k:?}")),
            }
            if !c.eat(',') {
                c.expect('}')?;
                break;
            }
        }
        c.skip_ws();
        if !c.s.is_empty() {
            return Err(format!("header: text after the dict: {:?}", preview(c.s)));
        }
        Ok(Dict {
            descr: descr.ok_or("header: no 'descr'")?,
            fortran: fortran.ok_or("header: no 'fortran_order'")?,
            shape: shape.ok_or("header: no 'shape'")?,
        })
    }
}

/// A complete header (magic to the newline), version 1.0 when it fits, else 2.0, padded so the
/// data starts at a multiple of 64 bytes.
pub fn format_header(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        descr_of(dtype)
    );
    let build = |v2: bool| {
        let pre = if v2 { 12 } else { 10 };
        let total = (pre + dict.len() + 1).next_multiple_of(64);
        let len = total - pre;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        if v2 {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(len as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&(len as u16).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    };
    if dict.len() + 11 < 65536 {
        build(false)
    } else {
        build(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_dtype_and_shape() {
        for d in DType::ALL {
            for shape in [vec![], vec![0], vec![7], vec![2, 3, 4]] {
                let h = format_header(d, &shape);
                assert_eq!(h.len() % 64, 0);
                let p = parse_header(
                    &h,
                    ParseOptions {
                        void2_as_bf16: true,
                    },
                )
                .unwrap();
                assert_eq!((p.dtype, &p.shape, p.fortran), (d, &shape, false));
                assert_eq!(p.data_offset, h.len());
            }
        }
    }

    #[test]
    fn bad_headers_say_what_is_wrong() {
        let with = |dict: &str| {
            let mut h = b"\x93NUMPY\x01\x00".to_vec();
            h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
            h.extend_from_slice(dict.as_bytes());
            parse_header(&h, ParseOptions::default())
        };
        let cases = [
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                "object",
            ),
            (
                "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }",
                "structured",
            ),
            (
                "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
                "unknown",
            ),
            (
                "{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }",
                "bfloat16",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                "overflow",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
                "dimension",
            ),
            ("{'descr': '<f4', 'shape': (2,), }", "fortran_order"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x",
                "after",
            ),
        ];
        for (dict, needle) in cases {
            let e = with(dict).unwrap_err();
            assert!(e.contains(needle), "{dict}: {e}");
        }
        let mut big = b"\x93NUMPY\x02\x00".to_vec();
        big.extend_from_slice(&20_000u32.to_le_bytes());
        assert!(
            parse_header(&big, ParseOptions::default())
                .unwrap_err()
                .contains("limit")
        );
        assert!(parse_header(b"\x93NUMPY\x01", ParseOptions::default()).is_err());
        assert!(parse_header(b"PK\x03\x04xxxxxxxx", ParseOptions::default()).is_err());
    }

    #[test]
    fn big_endian_and_fortran_are_reported() {
        let dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }";
        let mut h = b"\x93NUMPY\x03\x00".to_vec();
        h.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        h.extend_from_slice(dict.as_bytes());
        let p = parse_header(&h, ParseOptions::default()).unwrap();
        assert!(p.big_endian && p.fortran);
        assert_eq!((p.dtype, p.data_len), (DType::F64, 48));
    }
}
