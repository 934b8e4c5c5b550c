"""Eager per-op overhead and the tutorial's two-layer net: graphc against NumPy and PyTorch.

    python tools/bench_eager.py [--repeat 7]

Medians of interleaved repeats, printed as times and as ratios graphc / baseline (< 1: graphc
is faster). PyTorch columns appear where torch is installed.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import compare, print_table  # noqa: E402

import graphc  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

N, D_IN, H, D_OUT = 64, 1000, 100, 10


def _data():
    gen = np.random.default_rng(0)
    return (gen.standard_normal((N, D_IN), np.float32), gen.standard_normal((N, D_OUT), np.float32),
            gen.standard_normal((D_IN, H), np.float32), gen.standard_normal((H, D_OUT), np.float32))


def two_layer_net(m, steps: int, lr: float = 1e-6):
    """The tutorial's network with tensors + autograd + manual SGD, for m = graphc or torch."""
    x0, y0, w10, w20 = _data()
    x, y = m.from_numpy(x0), m.from_numpy(y0)

    def run():
        # every run trains from the same start: later steps of a long run hit denormals
        w1 = m.from_numpy(w10.copy()).requires_grad_()
        w2 = m.from_numpy(w20.copy()).requires_grad_()
        for _ in range(steps):
            y_pred = x.mm(w1).clamp(min=0).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with m.no_grad():
                w1 -= lr * w1.grad
                w2 -= lr * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
        return loss.item()

    return run


def two_layer_numpy(steps: int, lr: float = 1e-6):
    """The tutorial's hand-written NumPy network (forward and backward by hand), float32."""
    x, y, w10, w20 = _data()
    lr = np.float32(lr)

    def run():
        w1, w2 = w10.copy(), w20.copy()
        for _ in range(steps):
            h = x.dot(w1)
            h_relu = np.maximum(h, 0)
            y_pred = h_relu.dot(w2)
            loss = np.square(y_pred - y).sum()
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h_relu.T.dot(grad_y_pred)
            grad_h = grad_y_pred.dot(w2.T)
            grad_h[h < 0] = 0
            grad_w1 = x.T.dot(grad_h)
            w1 -= lr * grad_w1
            w2 -= lr * grad_w2
        return loss

    return run


def per_op(m, shape, op):
    a = m.from_numpy(np.ones(shape, np.float32))
    b = m.from_numpy(np.ones(shape, np.float32))
    return (lambda: a + b) if op == "add" else (lambda: a @ b)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    libs = {"graphc": graphc, **({"torch": torch} if torch else {})}
    rows = []
    for label, shape, op, number in (("add, 1 element", (1,), "add", 20000),
                                     ("matmul, 100x100", (100, 100), "matmul", 2000)):
        cands = {name: per_op(m, shape, op) for name, m in libs.items()}
        a = np.ones(shape, np.float32)
        cands["numpy"] = (lambda: a + a) if op == "add" else (lambda: a @ a)
        rows.append((label, compare(cands, number=number, repeat=args.repeat)))
    cands = {name: two_layer_net(m, args.steps) for name, m in libs.items()}
    cands["numpy"] = two_layer_numpy(args.steps)
    rows.append((f"two_layer_net x{args.steps}", compare(cands, number=1, repeat=args.repeat)))
    print_table("graphc eager: per-op overhead and the tutorial two-layer net (medians)", rows, "graphc")


if __name__ == "__main__":
    main()
