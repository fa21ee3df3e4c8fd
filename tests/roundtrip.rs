//! Upload and read back every dtype, every layout, on every adapter and transfer path.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{edge_and_random_bits, from_bits, gpus, to_bits};
use ndarray::{Array, ArrayD, IxDyn, ShapeBuilder, s};
use tensorbridge::{Element, Gpu, bf16, f16};

fn roundtrip_values<T: Element>(name: &str, gpu: &Gpu) {
    let values: Vec<T> = from_bits(&edge_and_random_bits(1000, 3));
    let a = Array::from_vec(values.clone());
    let t = gpu.upload(&a).unwrap();
    assert_eq!(t.dtype(), T::DTYPE);
    assert_eq!(t.len(), values.len());
    assert_eq!(
        t.size_in_bytes(),
        (values.len() * std::mem::size_of::<T>()) as u64
    );
    // Compare bits, so NaN payloads must survive unchanged.
    let back = t.to_array::<T>().unwrap();
    assert_eq!(
        to_bits(back.as_slice().unwrap()),
        to_bits(&values),
        "{name} {}",
        T::DTYPE
    );
    let back = pollster::block_on(t.read::<T>()).unwrap();
    assert_eq!(
        to_bits(back.as_slice().unwrap()),
        to_bits(&values),
        "{name} async {}",
        T::DTYPE
    );
    let mut dst = Array::from_elem(values.len(), T::default());
    t.read_into(&mut dst.view_mut()).unwrap();
    assert_eq!(
        to_bits(dst.as_slice().unwrap()),
        to_bits(&values),
        "{name} read_into {}",
        T::DTYPE
    );
}

fn layouts<T: Element>(name: &str, gpu: &Gpu) {
    let base: Vec<T> = from_bits(&edge_and_random_bits(4 * 6 * 5, 9)[..4 * 6 * 5]);
    let c = Array::from_shape_vec((4, 6, 5), base.clone()).unwrap();
    let f = Array::from_shape_vec((4, 6, 5).f(), base.clone()).unwrap();
    let views: Vec<(&str, ndarray::ArrayViewD<'_, T>)> = vec![
        ("c-order", c.view().into_dyn()),
        ("fortran", f.view().into_dyn()),
        ("transposed", c.t().into_dyn()),
        ("permuted", c.view().permuted_axes([2, 0, 1]).into_dyn()),
        ("stepped", c.slice(s![..;2, 1..;3, ..]).into_dyn()),
        ("negative steps", c.slice(s![..;-1, .., ..;-2]).into_dyn()),
        ("column", c.slice(s![.., 2, 3..4]).into_dyn()),
        ("0-d", c.slice(s![1, 2, 3]).into_dyn()),
        ("empty", c.slice(s![.., 0..0, ..]).into_dyn()),
    ];
    for (label, v) in views {
        let want: ArrayD<T> = v.to_owned();
        let t = gpu.upload(&v).unwrap();
        assert_eq!(t.shape(), v.shape(), "{name} {label}");
        let got = t.to_array::<T>().unwrap();
        assert_eq!(
            to_bits(&got.iter().copied().collect::<Vec<_>>()),
            to_bits(&want.iter().copied().collect::<Vec<_>>()),
            "{name} {label} {}",
            T::DTYPE
        );
        assert_eq!(got.shape(), want.shape());
        // read_into a destination of another layout: Fortran order, then reversed axes.
        let mut dst = ArrayD::from_elem(IxDyn(v.shape()).f(), T::default());
        t.read_into(&mut dst.view_mut()).unwrap();
        assert_eq!(
            to_bits(&dst.iter().copied().collect::<Vec<_>>()),
            to_bits(&want.iter().copied().collect::<Vec<_>>()),
            "{name} {label} read_into fortran"
        );
        let mut big = ArrayD::from_elem(
            IxDyn(&v.shape().iter().map(|d| d * 2).collect::<Vec<_>>()),
            T::default(),
        );
        let mut strided = big.slice_each_axis_mut(|_| ndarray::Slice::new(0, None, -2));
        t.read_into(&mut strided).unwrap();
        assert_eq!(
            to_bits(&strided.iter().copied().collect::<Vec<_>>()),
            to_bits(&want.iter().copied().collect::<Vec<_>>()),
            "{name} {label} read_into strided"
        );
    }
}

/// Calls `$f::<T>(name, gpu)` for each of the 13 element types.
macro_rules! for_each_element {
    ($f:ident, $name:expr, $gpu:expr) => {
        for_each_element!(@types $f, $name, $gpu; bool, u8, i8, u16, i16, u32, i32, u64, i64, f16, bf16, f32, f64)
    };
    (@types $f:ident, $name:expr, $gpu:expr; $($t:ty),*) => {{
        $( $f::<$t>($name, $gpu); )*
    }};
}

#[test]
fn every_dtype_round_trips_bit_exact() {
    for (name, gpu) in gpus() {
        for_each_element!(roundtrip_values, &name, &gpu);
    }
}

#[test]
fn every_layout_round_trips() {
    for (name, gpu) in gpus() {
        for_each_element!(layouts, &name, &gpu);
    }
}

#[test]
fn clone_shares_buffers_and_memory_is_accounted() {
    for (name, gpu) in gpus() {
        let before = gpu.memory();
        let t = gpu.upload(&Array::from_elem(1000, 1.0f32)).unwrap();
        let c = t.clone();
        assert!(
            t.buffers().iter().zip(c.buffers()).all(|(a, b)| a == b),
            "{name}"
        );
        assert_eq!(gpu.memory().num_tensors, before.num_tensors + 1);
        drop(t);
        assert_eq!(gpu.memory().num_tensors, before.num_tensors + 1);
        drop(c);
        assert_eq!(gpu.memory().num_tensors, before.num_tensors);
        assert!(
            gpu.memory().pooled_bytes > 0,
            "dropped buffers go back to the pool"
        );
        gpu.trim();
        assert_eq!(gpu.memory().pooled_bytes, 0);
        gpu.synchronize().unwrap();
    }
}

#[test]
fn info_reports_real_limits() {
    for (name, gpu) in gpus() {
        let info = gpu.info();
        assert!(!info.name.is_empty());
        assert!(info.path.is_some());
        // The adapter's own limits, not wgpu's 256 MiB default.
        assert!(
            info.limits.max_buffer_size > 256 << 20,
            "{name}: {:?}",
            info.limits.max_buffer_size
        );
        assert!(info.max_chunk_bytes <= info.limits.max_storage_buffer_binding_size);
    }
}
