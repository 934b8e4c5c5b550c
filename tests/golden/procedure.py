"""One procedure for golden outputs, run by tools/make_golden.py on PyTorch and by the tests on
graphc: load an example with the given library, set NumPy-made weights and data, run the
forward and the first training steps, and return every figure as NumPy arrays."""
from __future__ import annotations

import os
import re
import types

import numpy as np

EXAMPLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
EXAMPLES = ("two_layer_net", "lenet", "cifar_net", "custom_relu", "transfer", "data_parallel")
STEPS = 4

_TO_TORCH = [(r"\bimport graphc as torch\b", "import torch"),
             (r"\bimport graphc\.nn\.functional as F\b", "import torch.nn.functional as F"),
             (r"\bimport graphc\.nn as nn\b", "import torch.nn as nn"),
             (r"\bfrom graphc\.", "from torch.")]


def load_example(name: str, lib: str) -> types.ModuleType:
    """The example module, with `import graphc as torch` kept (graphc) or made real (torch)."""
    path = os.path.join(EXAMPLES_DIR, f"{name}.py")
    with open(path) as f:
        src = f.read()
    if lib == "torch":
        for pattern, repl in _TO_TORCH:
            src = re.sub(pattern, repl, src)
    mod = types.ModuleType(f"golden_{name}")
    mod.__file__ = path
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod


def make_data(mod, seed: int = 0) -> dict[str, np.ndarray]:
    """NumPy-made initial weights, inputs and targets for an example (the same for every library)."""
    rng = np.random.default_rng(seed)
    data = {}
    params = dict(mod.model.named_parameters())
    for key, value in mod.model.state_dict().items():
        arr = value.detach().cpu().numpy().copy()
        if key in params:
            fan_in = int(np.prod(arr.shape[1:])) if arr.ndim > 1 else arr.shape[0]
            bound = 1.0 / np.sqrt(fan_in)
            arr = rng.uniform(-bound, bound, arr.shape).astype(arr.dtype)
        data[f"init.{key}"] = arr
    for i, x in enumerate(mod.example_inputs):
        data[f"input.{i}"] = rng.standard_normal(tuple(x.shape)).astype(np.float32)
    classes = tuple(mod.model(*mod.example_inputs).shape)[-1]
    for i, t in enumerate(getattr(mod, "example_targets", ())):
        if t.dtype.is_floating_point:
            data[f"target.{i}"] = rng.standard_normal(tuple(t.shape)).astype(np.float32)
        else:
            data[f"target.{i}"] = rng.integers(0, classes, tuple(t.shape)).astype(np.int64)
    return data


def run(m, mod, data: dict, steps: int = STEPS, compiled: bool = False) -> dict[str, np.ndarray]:
    """Forward and `steps` training steps of example `mod` on library `m` (graphc or torch)."""
    model = mod.model
    model.load_state_dict({k[5:]: m.from_numpy(v.copy()) for k, v in data.items() if k.startswith("init.")})
    inputs = [m.from_numpy(data[f"input.{i}"].copy()) for i in range(len(mod.example_inputs))]
    targets = [m.from_numpy(data[k].copy()) for k in sorted(data) if k.startswith("target.")]
    with m.no_grad():
        out = {"output": model(*inputs).detach().cpu().numpy().copy()}
    if not hasattr(mod, "loss"):
        return out
    opt = mod.optimizer(model.parameters())

    def step(*batch):
        opt.zero_grad()
        err = mod.loss(model(*batch[:len(inputs)]), *batch[len(inputs):])
        err.backward()
        opt.step()
        return err

    run_step = m.compile(step) if compiled else step
    out["losses"] = np.array([float(run_step(*inputs, *targets).item()) for _ in range(steps)])
    out.update({f"final.{k}": v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()})
    return out
