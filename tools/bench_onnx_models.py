"""torchvision's models exported to ONNX by torch, run by graphc's C runtime beside ONNX Runtime.

    pip install --no-deps torchvision==0.28.0   # torch must already be installed
    python tools/bench_onnx_models.py [--models resnet18 mobilenet_v2 efficientnet_b0] [--repeat 9]

Batch 1, 224x224, both on the same thread count (every core this process may use), warmed up;
per-call medians of interleaved repeats, and the largest difference of the outputs. The weights
are torchvision's random initialisation with BatchNorm statistics gathered from two random
batches, so activations keep a realistic scale (untouched running statistics shrink them into
denormal floats, which time the CPU's slow path rather than either runtime).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import types

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import compare, print_ratios  # noqa: E402


def _torchvision():
    # torchvision's compiled extension does not load on CPU-only torch; its import of the
    # meta registrations is the one piece that needs it
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision

    return torchvision


def export(name: str, folder: str) -> str:
    import torch

    torch.manual_seed(0)
    model = getattr(_torchvision().models, name)()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # running statistics become the plain average of the batches seen
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 3, 224, 224))
    model.eval()
    path = os.path.join(folder, f"{name}.onnx")
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), path, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"])
    return path


def bench(name: str, folder: str, repeat: int):
    import onnxruntime

    import graphc.onnx

    path = export(name, folder)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rep = graphc.onnx.prepare(path, runtime="c")
    ours, ref = rep.run([x])[0], session.run(None, {"x": x})[0]
    diff = float(np.abs(ours - ref).max())
    times = compare({"c": lambda: rep.run([x]), "onnxruntime": lambda: session.run(None, {"x": x})},
                    number=5, repeat=repeat)
    return f"{name} (diff {diff:.1e})", times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v2", "efficientnet_b0"])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows = [bench(name, folder, args.repeat) for name in args.models]
    print_ratios(f"ONNX models, batch 1, 224x224, {len(os.sched_getaffinity(0))} threads, per call (medians)",
                 rows, ["c"], ["onnxruntime"])


if __name__ == "__main__":
    main()
