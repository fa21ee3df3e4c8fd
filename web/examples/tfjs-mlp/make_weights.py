"""Writes mlp.safetensors, the weights and inputs of the TF.js example page.

    python make_weights.py   # needs numpy, ml_dtypes and safetensors

A 64 -> 32 -> 10 MLP with bfloat16 weights (a dtype TF.js cannot hold) and eight float16
inputs: relu(x @ w1 + b1) @ w2 + b2, then softmax.
"""

from pathlib import Path

import ml_dtypes
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(7)
bf16 = ml_dtypes.bfloat16
tensors = {
    "w1": (rng.standard_normal((64, 32)) / 8).astype(bf16),
    "b1": (rng.standard_normal(32) / 10).astype(bf16),
    "w2": (rng.standard_normal((32, 10)) / 6).astype(bf16),
    "b2": (rng.standard_normal(10) / 10).astype(bf16),
    "x": rng.standard_normal((8, 64)).astype(np.float16),
}
out = Path(__file__).with_name("mlp.safetensors")
save_file(tensors, str(out), metadata={"model": "tensorbridge TF.js example MLP 64-32-10"})
print(f"wrote {out} ({out.stat().st_size} bytes)")
