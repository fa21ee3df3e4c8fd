//! The vector kernel of the casts, generated per pair: straight-line WGSL that reads whole units
//! (`vec4`, `vec2` or single words) of source, converts each element, and writes whole units of
//! target. No element crosses an invocation, so there are no partial words and no per-element
//! bounds checks; the word kernel (`shaders/cast_words.wgsl`) does the few elements at the end of
//! a tensor that do not fill an invocation.
//!
//! Each element goes through one conversion function: a short one from `shaders/cast_fast.wgsl`
//! for the common pairs, or the general `convert` template of `shaders/cast.wgsl`. Every call is
//! inlined by the driver, so the template's pairs get few elements per invocation (compile time
//! grows with their number), and the short ones the widest loads and stores.

use std::fmt::Write;

use crate::DType;
use crate::dtype::Kind;

/// The conversion of a pair: functions of `shaders/cast_fast.wgsl` applied in turn, or the
/// general `convert` template of `shaders/cast.wgsl`.
fn conversion(from: DType, to: DType) -> Vec<&'static str> {
    use DType::{BF16, F16, F32, F64};
    let int = |d: DType| d.kind() != Kind::Float;
    let direct = match (from, to) {
        (_, DType::Bool) => Some("to_bool"),
        (a, b) if int(a) && int(b) => Some("wrap_int"),
        (a, F32) if int(a) && a.bits() <= 32 => Some("int_to_f32"),
        (F64, F32) => Some("f64_to_f32"),
        _ => None,
    };
    if let Some(f) = direct {
        return vec![f];
    }
    // Through f32, where every source value is an f32 (so the first step is exact).
    let to_f32 = match from {
        F32 => Some(None),
        F16 => Some(Some("f16_to_f32")),
        BF16 => Some(Some("bf16_to_f32")),
        a if int(a) && a.bits() <= 16 => Some(Some("int_to_f32")),
        _ => None,
    };
    let from_f32 = match to {
        F16 => Some("f32_to_f16"),
        BF16 => Some("f32_to_bf16"),
        F64 => Some("f32_to_f64"),
        F32 => Some(""),
        b if int(b) && b.bits() <= 32 => Some("f32_to_int"),
        _ => None,
    };
    match (to_f32, from_f32) {
        (Some(first), Some(then)) => first
            .into_iter()
            .chain([then])
            .filter(|f| !f.is_empty())
            .collect(),
        _ => vec!["convert"],
    }
}

/// How one invocation of the vector kernel covers its elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    /// Bits of the words the buffers are read and written in: 64 with SHADER_INT64, else 32.
    pub word_bits: u32,
    /// Elements per invocation.
    pub elems: u32,
    /// Words per unit (1, 2 or 4: `W`, `vec2<W>`, `vec4<W>`) on the source and target side.
    pub src_lanes: u32,
    pub dst_lanes: u32,
}

impl Shape {
    pub fn new(from: DType, to: DType, int64: bool) -> Shape {
        let word_bits = if int64 { 64 } else { 32 };
        let word = word_bits / 8;
        let (sb, db) = (from.size_in_bytes() as u32, to.size_in_bytes() as u32);
        let elems = if conversion(from, to) == ["convert"] {
            // At least a word on the narrower side and a vec2 on the wider.
            (word / sb.min(db)).max(2 * word / sb.max(db))
        } else {
            // A whole vec4 on the narrower side.
            4 * word / sb.min(db)
        };
        let lanes = |size: u32| (elems * size / word).min(4);
        Shape {
            word_bits,
            elems,
            src_lanes: lanes(sb),
            dst_lanes: lanes(db),
        }
    }

    /// Bytes of one source and one target unit.
    pub fn unit_bytes(self) -> (u32, u32) {
        let word = self.word_bits / 8;
        (self.src_lanes * word, self.dst_lanes * word)
    }
}

/// The WGSL type of a unit of `lanes` words.
fn unit_type(lanes: u32) -> &'static str {
    match lanes {
        1 => "W",
        2 => "vec2<W>",
        _ => "vec4<W>",
    }
}

/// One side of an invocation: its units are named `{prefix}0`, `{prefix}1`, ...
struct Side {
    prefix: char,
    lanes: u32,
    word_bits: u32,
}

impl Side {
    /// The word holding bit `bit` of the side's units, and the bit's shift within it.
    fn word(&self, bit: u32) -> (String, u32) {
        let word = bit / self.word_bits;
        let (unit, lane) = (word / self.lanes, word % self.lanes);
        let name = if self.lanes == 1 {
            format!("{}{unit}", self.prefix)
        } else {
            format!(
                "{}{unit}.{}",
                self.prefix,
                ['x', 'y', 'z', 'w'][lane as usize]
            )
        };
        (name, bit % self.word_bits)
    }
}

/// The WGSL of the vector kernel for `from -> to`, to follow the template files: `W`, the
/// unit types and counts, `convert_units`, `shaders/cast_fast.wgsl` and
/// `shaders/cast_vector.wgsl`.
pub(crate) fn source(from: DType, to: DType, shape: Shape) -> String {
    let w = shape.word_bits;
    let (sb, db) = (from.bits(), to.bits());
    let units = |bits: u32, lanes: u32| shape.elems * bits / (w * lanes);
    let (ins, outs) = (units(sb, shape.src_lanes), units(db, shape.dst_lanes));
    let input = Side {
        prefix: 'i',
        lanes: shape.src_lanes,
        word_bits: w,
    };
    let output = Side {
        prefix: 'o',
        lanes: shape.dst_lanes,
        word_bits: w,
    };
    let chain = conversion(from, to);
    let mut s = String::new();
    let _ = writeln!(s, "alias W = u{w};");
    let _ = writeln!(s, "alias SrcUnit = {};", unit_type(shape.src_lanes));
    let _ = writeln!(s, "alias DstUnit = {};", unit_type(shape.dst_lanes));
    let _ = writeln!(
        s,
        "const WG: u32 = {}u;",
        super::pipelines::VECTOR_WORKGROUP
    );
    let _ = writeln!(s, "const IN_UNITS: u32 = {ins}u;");
    let _ = writeln!(s, "const OUT_UNITS: u32 = {outs}u;");
    s.push_str("fn convert_units(s: u32, d: u32) {\n");
    for u in 0..ins {
        let _ = writeln!(s, "    let i{u} = src[s + {u}u];");
    }
    for u in 0..outs {
        let _ = writeln!(s, "    var o{u} = DstUnit();");
    }
    for k in 0..shape.elems {
        let (word, shift) = input.word(k * sb);
        let raw = match (sb, w) {
            (64, 64) => format!("vec2<u32>(u32({word}), u32({word} >> 32u))"),
            (64, _) => format!("vec2<u32>({word}, {})", input.word(k * sb + 32).0),
            (32, _) => format!("vec2<u32>(u32({word} >> {shift}u), 0u)"),
            _ => format!(
                "vec2<u32>(u32({word} >> {shift}u) & {:#x}u, 0u)",
                (1u32 << sb) - 1
            ),
        };
        let call = chain.iter().fold(raw, |arg, f| format!("{f}({arg})"));
        let _ = writeln!(s, "    let r{k} = {call};");
        let (word, shift) = output.word(k * db);
        let _ = match (db, w) {
            (64, 64) => writeln!(s, "    {word} = W(r{k}.x) | (W(r{k}.y) << 32u);"),
            (64, _) => writeln!(
                s,
                "    {word} = r{k}.x;\n    {} = r{k}.y;",
                output.word(k * db + 32).0
            ),
            (32, _) => writeln!(s, "    {word} |= W(r{k}.x) << {shift}u;"),
            _ => writeln!(
                s,
                "    {word} |= W(r{k}.x & {:#x}u) << {shift}u;",
                (1u32 << db) - 1
            ),
        };
    }
    for u in 0..outs {
        let _ = writeln!(s, "    dst[d + {u}u] = o{u};");
    }
    s.push_str("}\n");
    s.push_str(include_str!("../../shaders/cast_fast.wgsl"));
    s.push_str(include_str!("../../shaders/cast_vector.wgsl"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_cover_whole_words_on_both_sides() {
        for int64 in [false, true] {
            for from in DType::ALL {
                for to in DType::ALL {
                    let s = Shape::new(from, to, int64);
                    let word = s.word_bits / 8;
                    for (size, lanes) in [
                        (from.size_in_bytes() as u32, s.src_lanes),
                        (to.size_in_bytes() as u32, s.dst_lanes),
                    ] {
                        let bytes = s.elems * size;
                        assert!([1, 2, 4].contains(&lanes), "{from}->{to}: {s:?}");
                        assert_eq!(bytes % (lanes * word), 0, "{from}->{to}: {s:?}");
                    }
                }
            }
        }
    }
}
