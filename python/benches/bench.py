"""Python transfer and cast benchmark: tensorbridge against wgpu-py and plain NumPy, same process,
same adapter, interleaved. Not a test.

    pip install ./python "wgpu==0.32.*"
    python python/benches/bench.py [--backend vulkan] [--mib 256] [--runs 5]

Prints medians and ratios. wgpu-py is used as its users do today: `create_buffer_with_data` to
upload, `queue.read_buffer` into a NumPy array to read back. NumPy's `np.copyto` into a reused
array is the memcpy baseline for the transfers, `a.astype(np.float16)` the one for the cast.
"""

import argparse
import statistics
import time

import numpy as np

import tensorbridge as tb


def timed(f, runs):
    """Median and minimum seconds of `runs` calls of f (after one warm-up)."""
    f()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts)


def wgpu_device(backend):
    """A wgpu-py device on the adapter tensorbridge uses, or None without wgpu-py."""
    try:
        import wgpu
    except ImportError:
        return None, None
    for a in wgpu.gpu.enumerate_adapters_sync():
        info = a.info
        if info["backend_type"].lower() == backend.lower():
            return wgpu, a.request_device_sync()
    return wgpu, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="vulkan")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    gpu = tb.Gpu(backend=args.backend)
    print(f"tensorbridge {tb.__version__} on {gpu.info()['name']} ({gpu.info()['backend']}, "
          f"path {gpu.info()['path']})")
    n = args.mib * (1 << 20) // 4
    a = np.random.default_rng(1).random(n, dtype=np.float32)
    dst = np.empty_like(a)
    small = a[:1024].copy()
    small_out = np.empty_like(small)
    rows = []

    copy = timed(lambda: np.copyto(dst, a), args.runs)
    rows.append(("np.copyto (memcpy baseline)", copy, None))

    def ours_upload():
        t = gpu.asarray(a)
        gpu.synchronize()
        return t

    up = timed(ours_upload, args.runs)
    t = gpu.asarray(a)
    down = timed(lambda: t.numpy(out=dst), args.runs)
    assert np.array_equal(dst, a)
    down_new = timed(lambda: t.numpy(), args.runs)
    rt = timed(lambda: gpu.asarray(small).numpy(out=small_out), args.runs * 200)
    rows += [
        (f"tensorbridge upload {args.mib} MiB", up, copy),
        (f"tensorbridge readback {args.mib} MiB into a reused array", down, copy),
        (f"tensorbridge readback {args.mib} MiB into a new array", down_new, copy),
        ("tensorbridge 4 KiB round trip", rt, None),
    ]

    wgpu, device = wgpu_device(args.backend)
    if device is None:
        print("wgpu-py not installed (pip install 'wgpu==0.32.*') or no such adapter: skipped")
    else:
        usage = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
        wup = timed(lambda: device.create_buffer_with_data(data=a, usage=usage), args.runs)
        buf = device.create_buffer_with_data(data=a, usage=usage)
        wdown = timed(lambda: np.frombuffer(device.queue.read_buffer(buf), np.float32), args.runs)
        assert np.array_equal(np.frombuffer(device.queue.read_buffer(buf), np.float32), a)

        def w_rt():
            b = device.create_buffer_with_data(data=small, usage=usage)
            return np.frombuffer(device.queue.read_buffer(b), np.float32)

        wrt = timed(w_rt, args.runs * 200)
        rows += [
            (f"wgpu-py create_buffer_with_data {args.mib} MiB", wup, copy),
            (f"wgpu-py queue.read_buffer {args.mib} MiB", wdown, copy),
            ("wgpu-py 4 KiB round trip", wrt, None),
        ]
        print(f"wgpu-py {wgpu.__version__} on the same adapter")

    m = 64 << 20
    x = np.random.default_rng(2).standard_normal(m).astype(np.float32)
    xt = gpu.asarray(x)

    def cast_device():
        xt.astype("float16")
        gpu.synchronize()

    np_cast = timed(lambda: x.astype(np.float16), args.runs)
    dev_cast = timed(cast_device, args.runs)
    h = np.empty(m, np.float16)
    full = timed(lambda: gpu.asarray(x).astype("float16").numpy(out=h), args.runs)
    assert np.array_equal(h.view(np.uint16), x.astype(np.float16).view(np.uint16))
    rows += [
        ("a.astype(np.float16), 64M elements (NumPy)", np_cast, None),
        ("tensorbridge astype on the device, 64M", dev_cast, np_cast),
        ("tensorbridge upload + astype + readback, 64M", full, np_cast),
    ]

    print(f"\n{'what':58} {'median ms':>10} {'min ms':>9}  vs baseline")
    for what, (med, mn), base in rows:
        ratio = f"{base[0] / med:5.2f}x baseline speed" if base else ""
        print(f"{what:58} {med * 1e3:10.3f} {mn * 1e3:9.3f}  {ratio}")
    if device is not None:
        print(f"\nupload:    tensorbridge {wup[0] / up[0]:.1f}x faster than wgpu-py")
        print(f"readback:  tensorbridge {wdown[0] / down_new[0]:.1f}x faster (new array), "
              f"{wdown[0] / down[0]:.1f}x (reused)")
        print(f"round trip: tensorbridge {wrt[0] / rt[0]:.1f}x faster")


if __name__ == "__main__":
    main()
