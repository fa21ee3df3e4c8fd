//! The paths `tensorbridge bench --interop` and `benches/interop.rs` time, each next to Burn's
//! own way of doing the same thing on the same device. For those benchmarks only (feature
//! `profiling`); not part of the stable API.

use std::path::Path;

use burn::tensor::{DType as BurnDType, Device, Tensor as BurnTensor, TensorData};
use ndarray::{Array1, ArrayD, IxDyn};

use crate::{Bridge, Result, burn_error};

/// Waits until all of Burn's and tensorbridge's work on the shared device has run.
pub fn sync(bridge: &Bridge) -> Result<()> {
    bridge.device().sync().map_err(burn_error)?;
    Ok(bridge.gpu().synchronize()?)
}

/// An f32 array into a Burn tensor, tensorbridge's way: one host copy into staging, one
/// device copy into Burn's buffer.
pub fn upload_ours(bridge: &Bridge, a: &Array1<f32>) -> Result<BurnTensor<1>> {
    let t = bridge.upload(a)?;
    sync(bridge)?;
    Ok(t)
}

/// The same, Burn's way: a `Vec` from the array, then `Tensor::from_data`.
pub fn upload_burn(bridge: &Bridge, a: &Array1<f32>) -> Result<BurnTensor<1>> {
    let data = TensorData::new(a.to_vec(), [a.len()]);
    let t = BurnTensor::<1>::from_data(data, bridge.device());
    sync(bridge)?;
    Ok(t)
}

/// A Burn tensor into a new ndarray, tensorbridge's way: adopt its buffer, read it back.
pub fn read_ours(bridge: &Bridge, t: BurnTensor<1>) -> Result<ArrayD<f32>> {
    Ok(bridge.from_burn(t)?.to_array::<f32>()?)
}

/// A Burn tensor into an ndarray the caller reuses, tensorbridge's way (`read_into`: nothing
/// allocated, so no fresh pages to fault in).
pub fn read_into_ours(bridge: &Bridge, t: BurnTensor<1>, out: &mut Array1<f32>) -> Result<()> {
    Ok(bridge.from_burn(t)?.read_into(&mut out.view_mut())?)
}

/// The same, Burn's way: `into_data`, then a `Vec`, then an array.
pub fn read_burn(t: BurnTensor<1>) -> Result<ArrayD<f32>> {
    let shape = t.shape().to_vec();
    let v: Vec<f32> = t
        .into_data()
        .try_to_vec()
        .map_err(|e| burn_error(format!("{e:?}")))?;
    ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(burn_error)
}

/// Every tensor of a bf16 safetensors file of 1-D tensors as f32 Burn tensors, tensorbridge's
/// way: the file mapped and copied once to the device, then cast there straight into Burn's
/// tensors ([`Bridge::to_burn`] casts into Burn's buffer: no f32 intermediate, no copy).
pub fn weights_ours(bridge: &Bridge, path: &Path) -> Result<Vec<BurnTensor<1>>> {
    let mut out = Vec::new();
    for (_, t) in bridge.gpu().load(path)? {
        out.push(bridge.to_burn(&t)?);
    }
    sync(bridge)?;
    Ok(out)
}

/// The same, Burn's way: read the file, `TensorData` in bf16, converted to f32 on the host,
/// then `Tensor::from_data`.
pub fn weights_burn(device: &Device, path: &Path) -> Result<Vec<BurnTensor<1>>> {
    let bytes = std::fs::read(path).map_err(|e| tensorbridge::Error::file_cause(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(burn_error)?;
    let mut views: Vec<_> = st.iter().collect();
    views.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    let out = views
        .into_iter()
        .map(|(_, v)| {
            let n: usize = v.shape().iter().product();
            let data = TensorData::from_bytes_vec(v.data().to_vec(), [n], BurnDType::BF16);
            BurnTensor::<1>::from_data(data.convert::<f32>(), device)
        })
        .collect();
    device.sync().map_err(burn_error)?;
    Ok(out)
}
