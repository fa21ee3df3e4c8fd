//! Burn's tensor kinds (`Float`, `Int`, `Bool`) and the dtypes each holds on the bridge.

use burn::backend::wgpu::CubeTensor;
use burn::tensor::kind::Basic;
use burn::tensor::{Bool, DType as BurnDType, Float, Int, Tensor as BurnTensor};
use tensorbridge::DType;

use crate::{Backend, Error, Result};

/// A Burn tensor kind the bridge moves: `Float` (f32), `Int` (i32) or `Bool` (Burn's u32
/// bools). Other tensorbridge dtypes are cast on the device to the one the kind holds.
pub trait Kind: Basic + Sized + 'static {
    /// "float", "int" or "bool".
    const NAME: &'static str;

    /// The tensorbridge dtype a tensor of `from` becomes in Burn's tensor of this kind.
    fn dtype_for(from: DType) -> Result<DType>;

    /// The tensorbridge dtype of Burn's dtype, for this kind.
    fn from_burn_dtype(d: BurnDType) -> Result<DType> {
        let dtype = match d {
            BurnDType::F32 => DType::F32,
            BurnDType::F16 => DType::F16,
            BurnDType::BF16 => DType::BF16,
            BurnDType::F64 => DType::F64,
            BurnDType::I32 => DType::I32,
            BurnDType::I64 => DType::I64,
            BurnDType::U32 => DType::U32,
            BurnDType::I8 => DType::I8,
            BurnDType::U8 => DType::U8,
            BurnDType::I16 => DType::I16,
            BurnDType::U16 => DType::U16,
            BurnDType::U64 => DType::U64,
            BurnDType::Bool(store) => bool_storage(store)?,
            other => {
                return Err(Error::Burn(format!(
                    "Burn dtype {other:?} has no tensorbridge counterpart"
                )));
            }
        };
        Ok(dtype)
    }

    /// The CubeCL tensor behind a Burn tensor of this kind.
    fn cube<const D: usize>(t: BurnTensor<D, Self>) -> Result<CubeTensor>;
}

/// Burn stores bools as 32-bit or 8-bit words of 0 and 1.
fn bool_storage(store: burn::tensor::BoolStore) -> Result<DType> {
    use burn::tensor::BoolStore;
    match store {
        BoolStore::U32 => Ok(DType::U32),
        BoolStore::U8 => Ok(DType::U8),
        other => Err(Error::Burn(format!(
            "Burn bool storage {other:?} is not bridged"
        ))),
    }
}

fn primitive_error(e: impl std::fmt::Debug) -> Error {
    Error::Burn(format!(
        "the Burn tensor is not on the bridge's wgpu backend: {e:?}"
    ))
}

impl Kind for Float {
    const NAME: &'static str = "float";

    fn dtype_for(_from: DType) -> Result<DType> {
        Ok(DType::F32)
    }

    fn cube<const D: usize>(t: BurnTensor<D, Self>) -> Result<CubeTensor> {
        t.try_into_primitive::<Backend>().map_err(primitive_error)
    }
}

impl Kind for Int {
    const NAME: &'static str = "int";

    fn dtype_for(from: DType) -> Result<DType> {
        match from {
            DType::Bool => Err(Error::DType {
                dtype: from,
                kind: Self::NAME,
                reason: "use a Bool tensor".into(),
            }),
            _ => Ok(DType::I32),
        }
    }

    fn cube<const D: usize>(t: BurnTensor<D, Self>) -> Result<CubeTensor> {
        t.try_into_primitive::<Backend>().map_err(primitive_error)
    }
}

impl Kind for Bool {
    const NAME: &'static str = "bool";

    fn dtype_for(from: DType) -> Result<DType> {
        match from {
            DType::Bool => Ok(DType::U32),
            _ => Err(Error::DType {
                dtype: from,
                kind: Self::NAME,
                reason: "only bool tensors become Burn bool tensors".into(),
            }),
        }
    }

    fn cube<const D: usize>(t: BurnTensor<D, Self>) -> Result<CubeTensor> {
        t.try_into_primitive::<Backend>().map_err(primitive_error)
    }
}
