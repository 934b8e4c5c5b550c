"""Compiled forward against eager graphc, PyTorch eager and ONNX Runtime (where installed).

    python tools/bench_compile.py [--repeat 7]

Per-call medians of interleaved repeats for the tutorial MLP (x.mm(w1).clamp(min=0).mm(w2))
and the 1-channel LeNet at batch 4 and 64, compiled on the numpy and on the c runtime; ratios
are each of those over each baseline.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchlib import compare, print_ratios  # noqa: E402
from tests.golden.procedure import load_example  # noqa: E402

import graphc  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
try:
    import onnxruntime
except ImportError:
    onnxruntime = None


def mlp_case(m, gen):
    x = m.from_numpy(gen.standard_normal((64, 1000), np.float32))
    w1 = m.from_numpy(gen.standard_normal((1000, 100), np.float32))
    w2 = m.from_numpy(gen.standard_normal((100, 10), np.float32))

    def mlp(x, w1, w2):
        return x.mm(w1).clamp(min=0).mm(w2)

    return mlp, (x, w1, w2)


def lenet_case(m, batch, state):
    net = load_example("lenet", m.__name__).model
    net.load_state_dict({k: m.from_numpy(v.copy()) for k, v in state.items()})
    net.eval()
    x = m.from_numpy(np.random.default_rng(1).standard_normal((batch, 1, 32, 32), np.float32))
    return net, (x,)


def ort_session(fn, inputs):
    from graphc import onnx as gonnx

    path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    gonnx.export(fn, path, *inputs)
    options = onnxruntime.SessionOptions()
    # ORT's idle worker threads otherwise keep spinning and slow whatever runs next in a round
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feed = {n: t.numpy() for n, t in zip(names, inputs)}
    return lambda: sess.run(None, feed)


def bench(label, make, number, repeat):
    fn, inputs = make(graphc)
    compiled, native = graphc.compile(fn), graphc.compile(fn, runtime="c")
    compiled(*inputs)
    native(*inputs)
    cands = {"compiled": lambda: compiled(*inputs), "c": lambda: native(*inputs)}
    with graphc.no_grad():
        fn(*inputs)
    cands["eager"] = lambda: _no_grad(graphc, fn, inputs)
    if torch is not None:
        tfn, tin = make(torch)
        cands["torch"] = lambda: _no_grad(torch, tfn, tin)
    if onnxruntime is not None:
        cands["onnxruntime"] = ort_session(fn, inputs)
    return label, compare(cands, number=number, repeat=repeat)


def _no_grad(m, fn, inputs):
    with m.no_grad():
        return fn(*inputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    state = {k: v.detach().numpy().copy()
             for k, v in load_example("lenet", "graphc").model.state_dict().items()}
    rows = [bench("mlp 64x1000x100x10", lambda m: mlp_case(m, np.random.default_rng(0)), 200, args.repeat)]
    for batch in (4, 64):
        rows.append(bench(f"lenet batch {batch}", lambda m, b=batch: lenet_case(m, b, state),
                          200 if batch == 4 else 40, args.repeat))
    print_ratios("graphc.compile forward, per call (medians); compiled = numpy runtime, c = C runtime",
                 rows, ["compiled", "c"], [n for n in rows[0][1] if n not in ("compiled", "c")])


if __name__ == "__main__":
    main()
