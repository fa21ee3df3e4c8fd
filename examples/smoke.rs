use tensorbridge::*;
fn main() -> Result<()> {
    for info in Gpu::adapters() {
        println!("{} {:?} {:?}", info.name, info.backend, info.device_type);
        let gpu = Gpu::with_options(GpuOptions { backend: Some(info.backend), adapter_name: Some(info.name.clone()), ..Default::default() })?;
        println!("  path {:?} chunk {}", gpu.info().path, gpu.info().max_chunk_bytes);
        let a = ndarray::Array::from_shape_fn((3, 5), |(i, j)| (i * 10 + j) as f32);
        let t = gpu.upload(&a.t())?;
        println!("  {:?}", t.to_array::<f32>()?);
        let c = t.cast(DType::F16)?;
        println!("  {:?}", c.to_array_as::<f64>()?);
        let u = gpu.upload(&ndarray::arr1(&[1.5f32, -2.7, 300.0, f32::NAN, -0.0, 1e-40]))?;
        println!("  u8 {:?}", u.cast(DType::U8)?.to_array::<u8>()?);
        println!("  i64 {:?}", u.cast(DType::I64)?.to_array::<i64>()?);
        println!("  f64 {:?}", u.cast(DType::F64)?.to_array::<f64>()?);
        println!("  bf16 {:?}", u.cast(DType::BF16)?.to_array::<bf16>()?);
    }
    Ok(())
}
