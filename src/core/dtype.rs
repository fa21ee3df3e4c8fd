//! The 13 element types and how each one is stored on the device.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// Generates [`DType`], its tables and the [`Element`] impls from one list, so per-dtype facts are
/// written once.
macro_rules! dtypes {
    ($( $variant:ident, $rust:ty, $name:literal, $short:literal, $kind:ident, $exp:literal, $frac:literal; )*) => {
        /// An element type, NumPy style.
        ///
        /// On the device every dtype is stored in exactly its host byte layout (little-endian),
        /// packed into `u32` words: bool/u8/i8 four to a word, u16/i16/f16/bf16 two to a word,
        /// 64-bit types as two words. No optional GPU feature is needed for any of them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DType {
            $(
                #[doc = concat!("`", $name, "` (Rust `", stringify!($rust), "`).")]
                $variant,
            )*
        }

        impl DType {
            /// All 13 dtypes, in NumPy's order of kind and size.
            pub const ALL: [DType; 13] = [$(DType::$variant),*];

            /// Size of one element in bytes (bool is one byte).
            pub const fn size_in_bytes(self) -> usize {
                match self { $(DType::$variant => std::mem::size_of::<$rust>(),)* }
            }

            /// The NumPy name: "bool", "uint8", ..., "bfloat16", "float64".
            pub const fn name(self) -> &'static str {
                match self { $(DType::$variant => $name,)* }
            }

            /// The short name: "bool", "u8", "i8", ..., "bf16", "f64".
            pub const fn short_name(self) -> &'static str {
                match self { $(DType::$variant => $short,)* }
            }

            /// The numeric kind (bool, unsigned, signed, float).
            pub const fn kind(self) -> Kind {
                match self { $(DType::$variant => Kind::$kind,)* }
            }

            /// (exponent bits, fraction bits) for float dtypes, (0, 0) otherwise.
            pub(crate) const fn float_format(self) -> (u32, u32) {
                match self { $(DType::$variant => ($exp, $frac),)* }
            }
        }

        $(
            impl Element for $rust {
                const DTYPE: DType = DType::$variant;
            }
            impl sealed::Sealed for $rust {}
        )*
    };
}

dtypes! {
    Bool, bool,      "bool",     "bool", Bool,  0, 0;
    U8,   u8,        "uint8",    "u8",   UInt,  0, 0;
    I8,   i8,        "int8",     "i8",   SInt,  0, 0;
    U16,  u16,       "uint16",   "u16",  UInt,  0, 0;
    I16,  i16,       "int16",    "i16",  SInt,  0, 0;
    U32,  u32,       "uint32",   "u32",  UInt,  0, 0;
    I32,  i32,       "int32",    "i32",  SInt,  0, 0;
    U64,  u64,       "uint64",   "u64",  UInt,  0, 0;
    I64,  i64,       "int64",    "i64",  SInt,  0, 0;
    F16,  half::f16, "float16",  "f16",  Float, 5, 10;
    BF16, half::bf16,"bfloat16", "bf16", Float, 8, 7;
    F32,  f32,       "float32",  "f32",  Float, 8, 23;
    F64,  f64,       "float64",  "f64",  Float, 11, 52;
}

/// The numeric kind of a [`DType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `bool`: one byte, 0 or 1.
    Bool,
    /// Unsigned integers.
    UInt,
    /// Two's-complement signed integers.
    SInt,
    /// IEEE-754 style binary floats (bf16 included).
    Float,
}

impl DType {
    /// Size of one element in bits.
    pub const fn bits(self) -> u32 {
        (self.size_in_bytes() * 8) as u32
    }

    /// The KIND override constant of the kernels: 0 bool, 1 unsigned, 2 signed, 3 float.
    pub(crate) fn kind_code(self) -> f64 {
        match self.kind() {
            Kind::Bool => 0.0,
            Kind::UInt => 1.0,
            Kind::SInt => 2.0,
            Kind::Float => 3.0,
        }
    }

    /// Bytes needed for `len` elements, or `None` on overflow.
    pub(crate) fn bytes_for(self, len: usize) -> Option<u64> {
        (len as u64).checked_mul(self.size_in_bytes() as u64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    /// Accepts NumPy names ("float32"), short names ("f32") and "half"/"float"/"double".
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "half" => Some(DType::F16),
            "float" => Some(DType::F32),
            "double" => Some(DType::F64),
            "b1" | "bool_" => Some(DType::Bool),
            _ => None,
        };
        alias
            .or_else(|| {
                DType::ALL
                    .into_iter()
                    .find(|d| d.name() == lower || d.short_name() == lower)
            })
            .ok_or_else(|| Error::UnknownDType {
                name: s.to_string(),
            })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is one of the 13 dtypes: bool, u8, i8, u16, i16, u32, i32, u64, i64,
/// `half::f16`, `half::bf16`, f32, f64.
///
/// The trait is sealed. Its bounds are what the transfer code needs: the bytes of a value can be
/// read (`NoUninit`) and bytes can be checked and viewed as values (`CheckedBitPattern`, which
/// rejects a bool byte other than 0 or 1).
pub trait Element:
    bytemuck::NoUninit
    + bytemuck::CheckedBitPattern
    + Copy
    + Default
    + PartialEq
    + fmt::Debug
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The dtype this Rust type stores as.
    const DTYPE: DType;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(d.name().parse::<DType>().unwrap(), d);
            assert_eq!(d.short_name().parse::<DType>().unwrap(), d);
        }
        assert_eq!("bf16".parse::<DType>().unwrap(), DType::BF16);
        assert!(matches!(
            "f8".parse::<DType>(),
            Err(Error::UnknownDType { .. })
        ));
    }

    #[test]
    fn sizes() {
        let sizes: Vec<usize> = DType::ALL.iter().map(|d| d.size_in_bytes()).collect();
        assert_eq!(sizes, [1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8]);
    }
}
