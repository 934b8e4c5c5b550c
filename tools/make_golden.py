"""Regenerate tests/golden/*.npz: each example's forward and first training steps, computed by
PyTorch (the independent implementation) from NumPy-made weights and data.

    python tools/make_golden.py [NAME ...]

graphc never writes these files; tests/test_golden.py compares graphc against them.
"""
from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)
from tests.golden.procedure import EXAMPLES, load_example, make_data, run  # noqa: E402


def main(names) -> None:
    import torch

    torch.manual_seed(0)
    for name in names or EXAMPLES:
        mod = load_example(name, "torch")
        data = make_data(mod)
        result = run(torch, mod, data)
        path = os.path.join(ROOT, "tests", "golden", f"{name}.npz")
        np.savez_compressed(path, **data, **{f"expect.{k}": v for k, v in result.items()})
        print(f"wrote {os.path.relpath(path, ROOT)}: {', '.join(sorted(result))}")


if __name__ == "__main__":
    main(sys.argv[1:])
