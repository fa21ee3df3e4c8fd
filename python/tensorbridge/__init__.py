"""tensorbridge: NumPy arrays onto any GPU (Vulkan, Metal, DX12, GL, through wgpu) and back.

    import numpy as np
    import tensorbridge as tb

    gpu = tb.Gpu()
    t = gpu.asarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    h = t.astype("float16")          # cast on the GPU, bit for bit as NumPy's astype
    print(h.numpy(), t.mean(), t.histogram(3))

Uploads make one copy, from the array's memory (any layout) into GPU-visible memory, and
readbacks one copy back; both release the GIL. See the README's Python section.
"""

from ._tensorbridge import (  # noqa: F401
    DeviceLostError,
    Gpu,
    GpuError,
    Prefetch,
    QTensor,
    Tensor,
    __version__,
)

__all__ = ["Gpu", "Tensor", "QTensor", "Prefetch", "GpuError", "DeviceLostError", "__version__"]
