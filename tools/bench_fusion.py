"""The elementwise chain tanh(x*1.7+0.3)*sigmoid(x) + x*x over 16M float32 elements: graphc
compiled with simplify+fuse (chunked, threaded Fused node; and on the c runtime: one generated
OpenMP loop) against unfused eager graphc, the
same graph unfused on the numpy runtime, plain NumPy, PyTorch eager and torch.compile.

    python tools/bench_fusion.py [--n 16777216] [--repeat 7]

Medians of interleaved repeats; torch columns appear where torch is importable (torch.compile
is skipped, with the reason, when it cannot compile on this machine).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import compare, fmt_time  # noqa: E402

import graphc  # noqa: E402
from graphc.passes import Pipeline, fuse, simplify  # noqa: E402


def chain(m, x):
    return m.tanh(x * 1.7 + 0.3) * m.sigmoid(x) + x * x


def numpy_chain(x):
    return np.tanh(x * np.float32(1.7) + np.float32(0.3)) * (1 / (1 + np.exp(-x))) + x * x


def candidates(n: int) -> dict:
    x0 = np.random.default_rng(0).standard_normal(n, np.float32)
    xg = graphc.from_numpy(x0)
    fused = graphc.compile(lambda x: chain(graphc, x), passes=Pipeline([simplify, fuse]))
    native = graphc.compile(lambda x: chain(graphc, x), passes=Pipeline([simplify, fuse]), runtime="c")
    unfused = graphc.compile(lambda x: chain(graphc, x), passes=Pipeline([simplify]))
    out = {"graphc fused": lambda: fused(xg), "c": lambda: native(xg), "graphc eager": lambda: chain(graphc, xg),
           "graphc unfused compiled": lambda: unfused(xg), "numpy": lambda: numpy_chain(x0)}
    ref = chain(graphc, xg).numpy()
    np.testing.assert_allclose(fused(xg).numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(native(xg).numpy(), ref, rtol=1e-5, atol=1e-5)
    try:
        import torch
    except ImportError:
        print("torch not importable: no torch columns")
        return out
    xt = torch.from_numpy(x0)
    out["torch eager"] = lambda: chain(torch, xt)
    try:
        compiled = torch.compile(lambda x: chain(torch, x))
        compiled(xt)
        out["torch.compile"] = lambda: compiled(xt)
    except Exception as exc:  # torch.compile needs a working C++ toolchain; say why it is skipped
        print(f"torch.compile skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 24)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    times = compare(candidates(args.n), number=1, repeat=args.repeat)
    base = times["graphc fused"]
    print(f"\nelementwise chain over {args.n} float32 elements (median of {args.repeat}):")
    for name, t in times.items():
        print(f"  {name:<26}{fmt_time(t):>12}   {t / base:6.2f}x graphc fused   {t / times['c']:6.2f}x c")


if __name__ == "__main__":
    main()
