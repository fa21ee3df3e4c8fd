"""Files: what NumPy and the safetensors package write loads bit-exact; what we save, NumPy and
safetensors read back bit-exact; bad files raise ValueError."""

import pathlib

import ml_dtypes
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures"


def arrays(rng):
    return {
        "f32": rng.standard_normal((5, 7)).astype(np.float32),
        "f64_fortran": np.asfortranarray(rng.standard_normal((3, 4))),
        "i64": rng.integers(-2**62, 2**62, 9),
        "u8": rng.integers(0, 256, (2, 3, 4), dtype=np.uint8),
        "flags": rng.integers(0, 2, 6).astype(bool),
        "half": rng.standard_normal(11).astype(np.float16),
        "scalar": np.array(7, dtype=np.int16),
        "empty": np.zeros((0, 3), np.uint32),
        "bf": rng.standard_normal(5).astype(ml_dtypes.bfloat16),
    }


def same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def test_numpy_and_safetensors_files_load(gpu, tmp_path, rng):
    data = arrays(rng)
    plain = {k: v for k, v in data.items() if k != "bf"}
    np.savez(tmp_path / "a.npz", **data)
    np.savez_compressed(tmp_path / "b.npz", **data)
    save_file({k: np.array(v, order="C") for k, v in data.items() if k != "empty"},
              tmp_path / "c.safetensors")
    for name in ["a.npz", "b.npz"]:
        got = gpu.load(tmp_path / name, bf16=True)
        assert set(got) == set(data)
        for k, v in data.items():
            same(got[k].numpy(), np.array(v, order="C"))
    got = gpu.load(tmp_path / "c.safetensors")
    for k, v in data.items():
        if k != "empty":
            same(got[k].numpy(), np.array(v, order="C"))
    for k, v in plain.items():
        np.save(tmp_path / f"{k}.npy", v)
        same(gpu.load(tmp_path / f"{k}.npy")[""].numpy(), v)


def test_our_files_load_in_numpy_and_safetensors(gpu, tmp_path, rng):
    data = arrays(rng)
    tensors = {k: gpu.asarray(v) for k, v in data.items()}
    gpu.save(tmp_path / "a.npz", tensors)
    gpu.save(tmp_path / "b.npz", tensors, compress=True)
    gpu.save(tmp_path / "c.safetensors", tensors)
    for name in ["a.npz", "b.npz"]:
        with np.load(tmp_path / name) as z:
            for k, v in data.items():
                got = z[k]
                if k == "bf":  # NumPy reads ml_dtypes' bfloat16 .npy as raw '<V2'
                    got = got.view(ml_dtypes.bfloat16)
                same(got, np.array(v, order="C"))
    back = load_file(tmp_path / "c.safetensors")
    for k, v in data.items():
        same(back[k], np.array(v, order="C"))
    gpu.save(tmp_path / "one.npy", {"x": tensors["f64_fortran"]})
    same(np.load(tmp_path / "one.npy"), np.ascontiguousarray(data["f64_fortran"]))


def test_repository_fixtures_load(any_gpu):
    import json
    manifest = json.loads((FIXTURES / "npy" / "manifest.json").read_text())
    for e in manifest:
        got = any_gpu.load(FIXTURES / "npy" / e["file"], bf16=True)[e["entry"]]
        want = (FIXTURES / "npy" / e["bin"]).read_bytes()
        assert got.numpy().tobytes() == want, e


@pytest.mark.parametrize("name,words", [
    ("truncated.npy", "truncated"), ("header_lies.npy", "does not match"),
    ("object.npy", "object"), ("offsets_out_of_range.safetensors", "incomplete"),
    ("truncated.npz", "(?i)zip"), ("not_npy_entry.npz", "not an .npy"),
])
def test_bad_files_raise_value_error(any_gpu, name, words):
    with pytest.raises(ValueError, match=words):
        any_gpu.load(FIXTURES / "bad" / name)


def test_missing_file_and_bad_save(any_gpu, tmp_path):
    with pytest.raises(ValueError, match="No such file"):
        any_gpu.load(tmp_path / "missing.npy")
    t = any_gpu.asarray(np.zeros(3))
    with pytest.raises(ValueError, match="exactly one"):
        any_gpu.save(tmp_path / "x.npy", {"a": t, "b": t})
    with pytest.raises(TypeError):
        any_gpu.save(tmp_path / "x.npz", {"a": np.zeros(3)})


def test_committed_saved_files_read_in_numpy_and_safetensors():
    """tests/fixtures/saved/ holds what the native save writes, and what the browser's
    gpu.save() Blobs are checked against byte for byte: NumPy and safetensors read them."""
    saved = FIXTURES / "saved"
    ref = load_file(FIXTURES / "npy" / "model.safetensors")
    for name in ["model.npz", "model_z.npz"]:
        with np.load(saved / name) as z:
            assert set(z.files) == set(ref)
            for k, v in ref.items():
                assert z[k].tobytes() == v.tobytes() and z[k].shape == v.shape, (name, k)
    back = load_file(saved / "model.safetensors")
    for k, v in ref.items():
        same(back[k], v)
