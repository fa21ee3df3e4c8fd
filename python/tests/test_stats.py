"""Statistics against NumPy on data built to break a naive GPU implementation: wide int64,
uint64 and int32 data, float64 offset by 1e8, float16, NaN and infinities."""

import numpy as np
import pytest


def check_summary(t, a, rel_mean=0.0):
    assert t.min() == a.min() or (np.isnan(t.min()) and np.isnan(a.min()))
    assert t.max() == a.max() or (np.isnan(t.max()) and np.isnan(a.max()))
    assert type(t.min()) is type(a.min())


def test_integer_sums_and_means(gpu, rng):
    cases = [
        rng.integers(-2**63, 2**63 - 1, 20, dtype=np.int64),  # the example shape
        rng.integers(-2**63, 2**63 - 1, 100_000, dtype=np.int64),
        rng.integers(0, 2**64 - 1, 100_000, dtype=np.uint64),
        rng.integers(-2**31, 2**31 - 1, 100_000, dtype=np.int32),
        np.full(70_000, 2**63 - 1, dtype=np.int64),
        rng.integers(0, 2, 1001).astype(bool),
    ]
    for a in cases:
        t = gpu.asarray(a)
        check_summary(t, a)
        with np.errstate(over="ignore"):
            assert t.sum() == a.sum() and t.sum().dtype == a.sum().dtype
        # np.mean sums in float64 (pairwise), so it is within a few ulp of the exact mean we give.
        exact = sum(int(x) for x in a) / len(a)
        assert t.mean().dtype == np.float64
        assert t.mean() == pytest.approx(exact, rel=1e-15, abs=1e-300)
        assert t.mean() == pytest.approx(a.mean(), rel=1e-12)


def test_float64_offset_sums(gpu, rng):
    a = 1e8 + rng.random(200_001)
    t = gpu.asarray(a)
    assert abs(t.sum() - a.sum()) <= 1e-12 * np.abs(a).sum()
    assert abs(t.mean() - a.mean()) <= 1e-12 * abs(a.mean())
    check_summary(t, a)
    mixed = rng.standard_normal(50_000) * 10.0 ** rng.integers(-30, 30, 50_000)
    assert abs(gpu.asarray(mixed).sum() - mixed.sum()) <= 1e-12 * np.abs(mixed).sum()


def test_float16_and_float32(gpu, rng):
    for a in [rng.standard_normal(10_001).astype(np.float16),
              (rng.standard_normal(10_001) * 1000).astype(np.float32)]:
        t = gpu.asarray(a)
        check_summary(t, a)
        exact = a.astype(np.float64).sum()
        assert t.sum().dtype == a.dtype
        assert abs(float(t.sum()) - exact) <= max(1e-3 * np.abs(a.astype(np.float64)).sum() / len(a), 1e-6 * np.abs(exact) + float(np.finfo(a.dtype).eps) * abs(exact))


def test_nan_and_infinities(gpu):
    for a, want_sum in [
        (np.array([1.0, np.nan, 2.0]), np.nan),
        (np.array([1.0, np.inf, 2.0]), np.inf),
        (np.array([-np.inf, 1.0]), -np.inf),
        (np.array([np.inf, -np.inf]), np.nan),
    ]:
        for dt in [np.float16, np.float32, np.float64]:
            x = a.astype(dt)
            t = gpu.asarray(x)
            s = t.sum()
            assert (np.isnan(s) and np.isnan(want_sum)) or s == want_sum
            with np.errstate(invalid="ignore"):
                check_summary(t, x)


@pytest.mark.parametrize("dtype", ["float64", "int64", "uint64"])
def test_wide_histograms_equal_numpy(gpu, rng, dtype):
    if dtype == "float64":
        a = 1e8 + rng.random(100_000)
    elif dtype == "int64":
        a = np.iinfo(np.int64).max - rng.integers(0, 2**40, 100_000)
    else:
        a = rng.integers(0, 2**64 - 1, 100_000, dtype=np.uint64)
    t = gpu.asarray(a)
    for bins, rng_ in [(10, None), (64, None), (5000, None), (7, (float(a.min()), float(np.median(a))))]:
        counts, edges = t.histogram(bins, rng_)
        want_counts, want_edges = np.histogram(a, bins, rng_)
        assert edges.dtype == np.float64 and counts.dtype == np.int64
        np.testing.assert_array_equal(edges, want_edges)
        np.testing.assert_array_equal(counts, want_counts)


def test_histogram_defaults_and_errors(gpu):
    t = gpu.asarray(np.array([5, 5, 5], np.uint8))
    counts, edges = t.histogram(2)
    np.testing.assert_array_equal(counts, [0, 3])
    np.testing.assert_array_equal(edges, np.histogram(np.array([5, 5, 5]), 2)[1])
    with pytest.raises(ValueError):
        gpu.asarray(np.array([1.0, np.inf])).histogram(4)
    with pytest.raises(ValueError):
        gpu.asarray(np.zeros(0)).min()
    assert gpu.asarray(np.zeros(0, np.int32)).sum() == 0


def test_quantize_round_trip(gpu, rng):
    a = rng.standard_normal((16, 8)).astype(np.float32)
    q = gpu.asarray(a).quantize(dtype="int8", axis=1)
    assert q.axis == 1 and q.scale.shape == (8,) and q.zero_point.shape == (8,)
    codes = q.codes.numpy().astype(np.int32)
    deq = q.dequantize().numpy()
    np.testing.assert_array_equal(deq, ((codes - q.zero_point) * q.scale).astype(np.float32))
    assert np.all(np.abs(deq - a) <= q.scale / 2 * 1.001)
    with pytest.raises(TypeError):
        gpu.asarray(a).quantize(dtype="int4")
