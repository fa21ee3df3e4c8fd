"""Every test runs on each adapter here: lavapipe (Vulkan) and llvmpipe (GL). Under CI (CI set)
both must be present, so a missing driver fails instead of skipping."""

import os

import numpy as np
import pytest

import tensorbridge as tb

BACKENDS = ["vulkan", "gl"]


def _present():
    return {a["backend"].lower() for a in tb.Gpu.adapters()}


@pytest.fixture(scope="session", params=BACKENDS)
def gpu(request):
    backend = request.param
    if backend not in _present():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the {backend} adapter; found {tb.Gpu.adapters()}")
        pytest.skip(f"no {backend} adapter")
    return tb.Gpu(backend=backend)


@pytest.fixture(scope="session")
def any_gpu():
    return tb.Gpu()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
