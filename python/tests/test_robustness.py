"""Bad inputs raise the exception a NumPy user expects; 8 threads work at once, bit-exact; 10 000
upload/readback cycles leave resident memory flat."""

import threading

import numpy as np
import pytest

import tensorbridge as tb


def test_bad_inputs_raise(any_gpu):
    gpu = any_gpu
    with pytest.raises(TypeError, match="complex128"):
        gpu.asarray(np.zeros(3, np.complex128))
    with pytest.raises(TypeError):
        gpu.asarray(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        gpu.asarray(np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
    t = gpu.asarray(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        t.numpy(out=np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        t.numpy(out=np.zeros((2, 3), np.float64))
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        t.numpy(out=ro)
    with pytest.raises(ValueError):
        t.numpy(out=np.broadcast_to(np.zeros(3, np.float32), (2, 3)))
    with pytest.raises(TypeError):
        t.astype("complex64")
    with pytest.raises(ValueError):
        tb.Gpu(backend="not-a-backend")
    bad = np.frombuffer(bytes([0, 1, 2]), dtype=np.uint8).view(bool)
    with pytest.raises(TypeError, match="bool"):
        gpu.asarray(bad)


def test_out_of_memory_is_memory_error():
    gpu = tb.Gpu(memory_budget=1 << 20)
    with pytest.raises(MemoryError):
        gpu.asarray(np.zeros(1 << 20, np.float32))


def test_device_lost_is_a_runtime_error():
    gpu = tb.Gpu()
    t = gpu.asarray(np.zeros(4))
    gpu.destroy()
    with pytest.raises(tb.DeviceLostError):
        gpu.asarray(np.zeros(4))
    with pytest.raises(RuntimeError):
        t.numpy()


def test_eight_threads_at_once(gpu):
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for i in range(40):
                a = rng.integers(-2**31, 2**31 - 1, (64 + i, 33), dtype=np.int32)
                t = gpu.asarray(a[:, ::-1])
                f = t.astype("float64").numpy()
                assert np.array_equal(f, a[:, ::-1].astype(np.float64))
                assert np.array_equal(t.numpy(), a[:, ::-1])
                assert t.sum() == a.sum(dtype=np.int64)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_ten_thousand_cycles_keep_memory_flat(any_gpu):
    a = np.arange(4096, dtype=np.float32)
    out = np.empty_like(a)
    for _ in range(1000):
        any_gpu.asarray(a).numpy(out=out)
    before = rss_bytes()
    created = any_gpu.memory()["num_buffers_created"]
    for _ in range(10_000):
        any_gpu.asarray(a).numpy(out=out)
    grown = rss_bytes() - before
    assert np.array_equal(out, a)
    assert any_gpu.memory()["num_buffers_created"] == created
    assert grown < 8 << 20, f"resident memory grew by {grown} bytes"
