"""All 169 dtype pairs cast on the device, bit for bit against NumPy's astype (bfloat16 through
ml_dtypes), on edge values and random bits.

One rule is ours, not NumPy's: a float outside the integer target's range (or NaN, or ±inf)
has no defined NumPy result. NumPy runs the C conversion, which is undefined behaviour there and
differs by platform (x86 gives -1.0 -> uint8 255, ARM 0), with a RuntimeWarning. tensorbridge
saturates and maps NaN to 0 on every adapter (Rust's `as`); those elements are checked against
that rule, the rest against NumPy.

NaN payloads are compared bit for bit too: tensorbridge gives NumPy's and ml_dtypes' NaNs (see
`Tensor::cast`), so signalling NaNs and payloads are among the random bits."""

import warnings

import ml_dtypes
import numpy as np
import pytest

DTYPES = [np.dtype(d) for d in ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32",
                                "uint64", "int64", "float16"]] + [np.dtype(ml_dtypes.bfloat16)] + [
    np.dtype(d) for d in ["float32", "float64"]]

EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 3.5, 0.49999997, 1e-8, -1e-8,
               np.inf, -np.inf, np.nan, 127.5, 128.0, 255.5, 256.0, -128.5, -129.0, 32767.5,
               65535.5, 65536.0, 2.0**31, -2.0**31, 2.0**31 - 64, 2.0**32, 2.0**63, -2.0**63,
               2.0**64, 1e20, -1e20, 65504.0, 65520.0, 1e-40, 5e-324, 2.2250738585072014e-308,
               1.401298464324817e-45, 6.1e-5, 5.96e-8, 3.4028234663852886e38, 3.5e38, 1e308]


def edge_values(dt):
    """Edge values and random bit patterns of dtype `dt`."""
    rng = np.random.default_rng(7)
    if dt.kind == "b":
        return np.array([False, True] * 8 + list(rng.integers(0, 2, 200).astype(bool)))
    if dt.kind in "iu":
        info = np.iinfo(dt)
        edges = [info.min, info.min + 1, -1 if info.min else 0, 0, 1, info.max - 1, info.max,
                 2**24 + 1 if info.max > 2**24 else info.max, 2**53 + 1 if info.max > 2**53 else 0]
        edges = np.array(edges, dtype=object).astype(dt)
        bits = rng.integers(0, 256, 400 * dt.itemsize, dtype=np.uint8).view(dt)
        return np.concatenate([edges, bits])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edges = np.array(EDGE_FLOATS, dtype=np.float64).astype(dt)
    bits = rng.integers(0, 256, 400 * dt.itemsize, dtype=np.uint8).view(dt)
    return np.concatenate([edges, nans(dt), bits])


def nans(dt):
    """Signalling and quiet NaNs of both signs, with payloads in the top, bottom and middle."""
    n = dt.itemsize * 8
    e, f = {2: (5, 10) if dt == np.float16 else (8, 7), 4: (8, 23), 8: (11, 52)}[dt.itemsize]
    inf = ((1 << e) - 1) << f
    quiet = 1 << (f - 1)
    payloads = [1, quiet, quiet | 1, (1 << f) - 1, 1 << (f - 2), 0x55 & ((1 << f) - 1) or 1]
    bits = [inf | p for p in payloads]
    bits += [b | (1 << (n - 1)) for b in bits]
    return np.array(bits, dtype=f"u{dt.itemsize}").view(dt)


def raw(a):
    """The bytes of `a`, for a bit-exact comparison (NaN payloads included)."""
    return np.ascontiguousarray(a).view(np.uint8)


def float_to_int(x, dst):
    """NumPy's astype where it is defined; our saturating rule where it is not (NaN -> 0, values
    beyond the range -> its limits)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = x.astype(dst)
        v = x.astype(np.float64)
        t = np.trunc(v)
    info = np.iinfo(dst)
    want[np.isnan(v)] = 0
    # float64(info.max) may round up past the range (2^63 for int64): compare as >=.
    want[t >= float(info.max)] = info.max
    want[t < float(info.min)] = info.min
    return want


@pytest.mark.parametrize("src", DTYPES, ids=str)
def test_all_casts_match_numpy_astype(gpu, src):
    x = edge_values(src)
    t = gpu.asarray(x)
    for dst in DTYPES:
        if src.kind in "fV" and dst.kind in "iu":
            want = float_to_int(x, dst)
        else:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                want = x.astype(dst)
        got = t.astype(dst).numpy()
        assert got.dtype == dst
        if raw(got).tobytes() != raw(want).tobytes():
            g = raw(got).reshape(len(got), -1)
            w = raw(want).reshape(len(want), -1)
            rows = np.nonzero((g != w).any(axis=1))[0]
            i = rows[0]
            pytest.fail(f"{src} -> {dst}: {len(rows)} elements differ, first at {i}: "
                        f"{x[i]!r} gave {got[i]!r}, NumPy {want[i]!r}")
