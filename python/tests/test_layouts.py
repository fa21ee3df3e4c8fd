"""Every layout NumPy has round-trips exactly, for every dtype: C and Fortran order, transposes,
negative and stepped strides, 0-d, empty, broadcast (zero-stride) inputs, big-endian data, and
readback into an existing array of any layout."""

import ml_dtypes
import numpy as np
import pytest

DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
          "float16", ml_dtypes.bfloat16, "float32", "float64"]


def sample(dtype, shape, rng):
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    return rng.integers(0, 256, n * dt.itemsize, dtype=np.uint8).view(dt).reshape(shape)


def same_bits(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes()  # tobytes is C order, for any layout and 0-d


def layouts(base):
    yield "c", base
    yield "fortran", np.asfortranarray(base)
    yield "transposed", base.T
    yield "reversed", base[::-1, ::-1, :]
    yield "stepped", base[::2, 1::3, ::-2]
    yield "axis moved", np.moveaxis(base, 0, -1)
    yield "0-d", base[1, 2, 3]
    yield "empty", base[:0]
    yield "broadcast", np.broadcast_to(base[:1], (3,) + base.shape[1:])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_layout_round_trips(gpu, dtype, rng):
    base = sample(dtype, (4, 7, 5), rng)
    for what, a in layouts(base):
        a = np.asarray(a)
        t = gpu.asarray(a)
        assert t.shape == a.shape and t.dtype == a.dtype, what
        assert t.nbytes == a.nbytes and t.ndim == a.ndim and t.size == a.size, what
        same_bits(t.numpy(), a)
        same_bits(np.asarray(t), a)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_readback_into_any_layout(gpu, dtype, rng):
    a = sample(dtype, (6, 5, 3), rng)
    t = gpu.asarray(a)
    for out in [np.empty_like(a), np.empty_like(a, order="F"),
                np.empty((3, 5, 6), a.dtype).T, np.empty((12, 5, 6), a.dtype)[::-2, :, ::2]]:
        r = t.numpy(out=out)
        assert r is out
        same_bits(out, a)


def test_big_endian_and_non_native(gpu):
    for dt in [">i2", ">u4", ">f8", ">f2", ">i8"]:
        a = np.arange(-20, 21).astype(dt)
        same_bits(gpu.asarray(a).numpy(), a.astype(np.dtype(dt).newbyteorder("=")))


def test_array_likes_and_len(gpu):
    t = gpu.asarray([[1, 2, 3], [4, 5, 6]])
    assert t.dtype == np.asarray([1]).dtype and len(t) == 2 and t.shape == (2, 3)
    assert gpu.asarray(t) is not t and gpu.asarray(t).shape == (2, 3)
    with pytest.raises(TypeError):
        len(gpu.asarray(np.float32(1)))
    assert gpu.asarray(3.5).numpy() == 3.5
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_bfloat16_needs_ml_dtypes_only_to_read(gpu):
    t = gpu.asarray(np.array([1.5, -2.0], dtype=np.float32)).astype(ml_dtypes.bfloat16)
    assert t.dtype == np.dtype(ml_dtypes.bfloat16)
    same_bits(t.numpy(), np.array([1.5, -2.0], dtype=ml_dtypes.bfloat16))


def test_batches_and_prefetch(gpu, rng):
    arrays = [sample("float32", (n, 3), rng) for n in range(1, 9)]
    ts = gpu.asarray_many(arrays)
    for a, b in zip(arrays, gpu.numpy_many(ts)):
        same_bits(a, b)
    seen = [t.numpy() for t in gpu.prefetch(iter(arrays), depth=3)]
    assert len(seen) == len(arrays)
    for a, b in zip(arrays, seen):
        same_bits(a, b)
    assert list(gpu.prefetch([])) == []
