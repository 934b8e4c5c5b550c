"""graphc.backends: the switches PyTorch code sets on torch.backends.

graphc has no cuDNN, MPS or TF32 paths, so these are plain settings that scripts may read and
write (``torch.backends.cudnn.benchmark = True`` is common): they change nothing here, and
``mps.is_available()`` is False."""
from __future__ import annotations

from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=lambda: False, version=lambda: None)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
                       is_built=lambda: True)

__all__ = ["cuda", "cudnn", "mps"]
