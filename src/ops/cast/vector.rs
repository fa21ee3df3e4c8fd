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
use crate::core::dtype::Kind;
use crate::runtime::native::Native;

/// The conversion of a pair: functions of `shaders/cast_fast.wgsl` applied in turn, or the
/// general `convert` template of `shaders/cast.wgsl`; with the `native` versions where the
/// device has them.
fn conversion(from: DType, to: DType, native: Native) -> Vec<&'static str> {
    let int32 = |d: DType| d.kind() != Kind::Float && d.bits() <= 32;
    if native.f64_int {
        // The integer versions of these go through the general template.
        match (from, to) {
            (a, DType::F64) if int32(a) => return vec!["int_to_f64_hw"],
            (DType::F64, b) if int32(b) && b != DType::Bool => return vec!["f64_to_int_hw"],
            _ => {}
        }
    }
    integer_conversion(from, to)
        .into_iter()
        .map(|f| native.function(f))
        .collect()
}

/// Whether a chain needs `numpy_nan` (shaders/cast.wgsl) after it to give NumPy's NaNs: the
/// general template and the f64 instructions follow the x86 rule, and so do chains whose last
/// step is f32 -> f64 from a 16-bit float. The other fast functions give NumPy's NaNs
/// themselves, so the common pairs pay nothing for it.
fn needs_numpy_nan(from: DType, to: DType, chain: &[&str]) -> bool {
    use DType::{BF16, F16, F64};
    from.kind() == Kind::Float
        && to.kind() == Kind::Float
        && (chain
            .iter()
            .any(|f| *f == "convert" || F64_FUNCTIONS.contains(f))
            || matches!((from, to), (F16, F64) | (BF16, F16)))
}

/// The functions of `shaders/cast_fast_f64.wgsl`, which need f64 in the shader.
const F64_FUNCTIONS: [&str; 3] = ["f64_to_f32_hw", "f64_to_int_hw", "int_to_f64_hw"];

/// [`conversion`] in integer arithmetic only.
fn integer_conversion(from: DType, to: DType) -> Vec<&'static str> {
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
    pub fn new(from: DType, to: DType, int64: bool, native: Native) -> Shape {
        let word_bits = if int64 { 64 } else { 32 };
        let word = word_bits / 8;
        let (sb, db) = (from.size_in_bytes() as u32, to.size_in_bytes() as u32);
        let elems = if conversion(from, to, native) == ["convert"] {
            // At least a word on the narrower side and a vec2 on the wider.
            (word / sb.min(db)).max(2 * word / sb.max(db))
        } else {
            // A whole vec4 on the narrower side and four on the wider: fewer invocations
            // amortise their fixed cost, at a slightly longer compile (BENCHMARKS.md).
            (4 * word / sb.min(db)).max(16 * word / sb.max(db))
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

/// The `W` components of `units` units of `lanes` words each: `{prefix}0.x`, ... (or
/// `{prefix}0`, `{prefix}1`, ... for single words).
fn components(prefix: char, units: u32, lanes: u32) -> Vec<String> {
    (0..units * lanes)
        .map(|c| match lanes {
            1 => format!("{prefix}{c}"),
            _ => format!(
                "{prefix}{}.{}",
                c / lanes,
                ['x', 'y', 'z', 'w'][(c % lanes) as usize]
            ),
        })
        .collect()
}

/// The low `bits` bits of `x` (a u32 expression), shifted left by `shift` within a word.
fn field(x: &str, bits: u32, shift: u32) -> String {
    let masked = if bits + shift < 32 {
        format!("({x} & {:#x}u)", (1u64 << bits) - 1)
    } else {
        x.to_owned()
    };
    match shift {
        0 => masked,
        _ => format!("({masked} << {shift}u)"),
    }
}

/// The target words of the floor kernel ([`source`] with `floor`): of `n` words, word `j` is the
/// XOR of source words `j`, `j + n`, ... of the `na` (or word `j mod na`, where `na < n`), so
/// that every loaded word is used.
fn floor_words(words: &mut [Vec<String>], na: u32) {
    let nb = words.len() as u32;
    for (j, w) in words.iter_mut().enumerate() {
        let sources = (j as u32..na.max(nb)).step_by(nb as usize);
        let xor: Vec<String> = sources.map(|i| format!("a{}", i % na)).collect();
        w.push(xor.join(" ^ "));
    }
}

/// The WGSL of the vector kernel for `from -> to`, to follow the template files: `W`, the
/// unit types and counts, `convert_units`, `shaders/cast_fast.wgsl` and
/// `shaders/cast_vector.wgsl`. Inside `convert_units` everything works on u32 words: the
/// source units are split into words `a0, a1, ...`, each element is cut from them, converted,
/// and packed into target words `b0, b1, ...`, which are joined into the target units.
///
/// With `floor`, the conversion is left out ([`floor_words`]), so the kernel makes the same loads
/// and stores with next to no arithmetic (`Tensor::cast_floor`).
pub(crate) fn source(from: DType, to: DType, shape: Shape, native: Native, floor: bool) -> String {
    let w = shape.word_bits;
    let per = w / 32; // u32 words per W
    let (sb, db) = (from.bits(), to.bits());
    let units = |bits: u32, lanes: u32| shape.elems * bits / (w * lanes);
    let (ins, outs) = (units(sb, shape.src_lanes), units(db, shape.dst_lanes));
    let chain = conversion(from, to, native);
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
    for (c, comp) in components('i', ins, shape.src_lanes).iter().enumerate() {
        for h in 0..per {
            let word = match h {
                0 => format!("u32({comp})"),
                _ => format!("u32({comp} >> 32u)"),
            };
            let _ = writeln!(s, "    let a{} = {word};", c as u32 * per + h);
        }
    }
    // The target words, as lists of OR-ed fields.
    let mut words = vec![Vec::new(); (shape.elems * db / 32) as usize];
    if floor {
        floor_words(&mut words, ins * shape.src_lanes * per);
    } else {
        for k in 0..shape.elems {
            let (j, shift) = (k * sb / 32, k * sb % 32);
            let raw = match sb {
                64 => format!("vec2<u32>(a{}, a{})", 2 * k, 2 * k + 1),
                32 => format!("vec2<u32>(a{j}, 0u)"),
                _ if shift + sb == 32 => format!("vec2<u32>(a{j} >> {shift}u, 0u)"),
                _ => format!(
                    "vec2<u32>({}, 0u)",
                    field(&format!("(a{j} >> {shift}u)"), sb, 0)
                ),
            };
            let call = chain
                .iter()
                .fold(raw.clone(), |arg, f| format!("{f}({arg})"));
            let call = match needs_numpy_nan(from, to, &chain) {
                true => format!("numpy_nan({raw}, {call})"),
                false => call,
            };
            let _ = writeln!(s, "    let r{k} = {call};");
            let (j, shift) = ((k * db / 32) as usize, k * db % 32);
            match db {
                64 => {
                    words[2 * k as usize].push(format!("r{k}.x"));
                    words[2 * k as usize + 1].push(format!("r{k}.y"));
                }
                _ => words[j].push(field(&format!("r{k}.x"), db, shift)),
            }
        }
    }
    for (j, fields) in words.iter().enumerate() {
        let _ = writeln!(s, "    let b{j} = {};", fields.join(" | "));
    }
    let comps: Vec<String> = (0..outs * shape.dst_lanes)
        .map(|c| match per {
            1 => format!("b{c}"),
            _ => format!("W(b{}) | (W(b{}) << 32u)", 2 * c, 2 * c + 1),
        })
        .collect();
    for (u, unit) in comps.chunks(shape.dst_lanes as usize).enumerate() {
        let _ = writeln!(s, "    dst[d + {u}u] = kept(DstUnit({}));", unit.join(", "));
    }
    s.push_str("}\n");
    s.push_str(include_str!("../../../shaders/cast_native.wgsl"));
    if chain.iter().any(|f| F64_FUNCTIONS.contains(f)) {
        // Only on devices with SHADER_F64 and SHADER_INT64.
        s.push_str(include_str!("../../../shaders/cast_native_f64.wgsl"));
        s.push_str(include_str!("../../../shaders/cast_fast_f64.wgsl"));
    }
    s.push_str(include_str!("../../../shaders/cast_fast.wgsl"));
    s.push_str(include_str!("../../../shaders/cast_vector.wgsl"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_cover_whole_words_on_both_sides() {
        let all = Native {
            int_to_f32: true,
            f32_to_int: true,
            f32_to_f16: true,
            f16_to_f32: true,
            f64_to_f32: true,
            f64_int: true,
        };
        for (int64, native) in [
            (false, Native::default()),
            (true, Native::default()),
            (true, all),
        ] {
            for from in DType::ALL {
                for to in DType::ALL {
                    let s = Shape::new(from, to, int64, native);
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
