"""Type stubs for tensorbridge (the Rust extension module tensorbridge._tensorbridge)."""

from os import PathLike
from typing import Any, Iterable, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

class GpuError(RuntimeError):
    """A GPU failure: no adapter, a failed device request, a validation or mapping error."""

class DeviceLostError(GpuError):
    """The device was lost; make a new Gpu."""

DTypeLike = Union[str, type, np.dtype]

class Tensor:
    """An array on the GPU. Make one with Gpu.asarray(a)."""

    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    def __len__(self) -> int: ...
    def astype(self, dtype: DTypeLike) -> "Tensor":
        """A new tensor of dtype, cast on the GPU with NumPy's astype semantics, bit for bit."""
    def numpy(self, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The values as a new C-order array, or read into out (same shape and dtype, any layout)."""
    def __array__(self, dtype: Optional[DTypeLike] = None, copy: Optional[bool] = None) -> np.ndarray: ...
    def min(self) -> Any:
        """np.min: a NumPy scalar of the tensor's dtype (NaN if any element is NaN)."""
    def max(self) -> Any:
        """np.max."""
    def sum(self) -> Any:
        """np.sum: int64 (wrapping) for bool and signed ints, uint64 for unsigned, else the dtype."""
    def mean(self) -> Any:
        """np.mean: float64 for bool and ints (exact sum / count, rounded once), else the dtype."""
    def histogram(
        self, bins: int = 10, range: Optional[Tuple[float, float]] = None
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """(counts, edges) as np.histogram."""
    def quantize(
        self,
        dtype: str = "int8",
        scheme: str = "affine",
        axis: Optional[int] = None,
        scale: Optional[Sequence[float]] = None,
        zero_point: Optional[Sequence[int]] = None,
    ) -> "QTensor":
        """8-bit codes on the GPU, per tensor or along axis."""

class QTensor:
    """A quantized tensor: 8-bit codes plus a scale and zero point per channel."""

    @property
    def codes(self) -> Tensor: ...
    @property
    def scale(self) -> npt.NDArray[np.float32]: ...
    @property
    def zero_point(self) -> npt.NDArray[np.int32]: ...
    @property
    def axis(self) -> Optional[int]: ...
    def dequantize(self) -> Tensor:
        """(codes - zero_point) * scale as a float32 tensor."""

class Prefetch(Iterator[Tensor]):
    """What Gpu.prefetch returns."""

    def __iter__(self) -> "Prefetch": ...
    def __next__(self) -> Tensor: ...

class Gpu:
    """A GPU device. backend: "vulkan", "metal", "dx12" or "gl"; adapter: part of its name."""

    def __init__(
        self,
        backend: Optional[str] = None,
        adapter: Optional[str] = None,
        max_chunk_bytes: Optional[int] = None,
        memory_budget: Optional[int] = None,
        path: Optional[str] = None,
    ) -> None: ...
    @staticmethod
    def adapters() -> list[dict[str, str]]: ...
    def info(self) -> dict[str, Any]: ...
    def memory(self) -> dict[str, int]: ...
    def stats(self) -> dict[str, dict[str, float]]: ...
    def synchronize(self) -> None:
        """Waits for all submitted work."""
    def trim(self) -> None: ...
    def destroy(self) -> None: ...
    def asarray(self, a: npt.ArrayLike) -> Tensor:
        """Uploads any array (any layout, every dtype incl. bool and bfloat16) with one copy."""
    def asarray_many(self, arrays: Sequence[npt.ArrayLike]) -> list[Tensor]: ...
    def numpy_many(self, tensors: Sequence[Tensor]) -> list[np.ndarray]: ...
    def prefetch(self, arrays: Iterable[npt.ArrayLike], depth: int = 2) -> Prefetch: ...
    def load(self, path: Union[str, PathLike], bf16: bool = False) -> dict[str, Tensor]: ...
    def save(
        self, path: Union[str, PathLike], tensors: dict[str, Tensor], compress: bool = False
    ) -> None: ...
