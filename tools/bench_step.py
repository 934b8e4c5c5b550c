"""Compiled training steps against PyTorch eager and the tutorial's hand-written NumPy net.

    python tools/bench_step.py [--repeat 7] [--memory]

Rows: two_layer_net (graphc compiled on the numpy and the c runtime, graphc eager, torch eager,
hand-written NumPy float32) and cifar_net at batch 4 and 64. Medians of interleaved repeats. --memory also reports the
process's peak memory growth over 20 compiled cifar_net steps at batch 64 against PyTorch eager
(each measured in a fresh process).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import compare, example_step, print_ratios  # noqa: E402


def numpy_two_layer():
    from bench_eager import two_layer_numpy

    run = two_layer_numpy(1)
    return run


def peak_growth(lib: str, compiled: bool) -> float:
    """MiB of peak RSS growth from a fresh process's start (libraries imported) over building
    and running 20 cifar_net steps at batch 64 (compiling included). Reads VmHWM: getrusage's
    peak would carry the parent's over exec and hide the child's growth."""
    code = (
        f"import sys, {lib}; sys.path.insert(0, 'tools'); from benchlib import example_step; "
        "hwm = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]); "
        "before = hwm(); "
        f"step = example_step('{lib}', 'cifar_net', 64, compiled={compiled}); "
        "[step() for _ in range(20)]; "
        "print((hwm() - before) / 1024)")
    root = os.path.join(os.path.dirname(__file__), "..")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    rows = []
    for label, name, batch, number in (("two_layer_net", "two_layer_net", None, 100),
                                       ("cifar_net batch 4", "cifar_net", 4, 100),
                                       ("cifar_net batch 64", "cifar_net", 64, 20)):
        cands = {"compiled": example_step("graphc", name, batch, compiled=True),
                 "c": example_step("graphc", name, batch, compiled=True, runtime="c"),
                 "eager": example_step("graphc", name, batch)}
        if has_torch:
            cands["torch"] = example_step("torch", name, batch)
        if name == "two_layer_net":
            cands["numpy"] = numpy_two_layer()
        rows.append((label, compare(cands, number=number, repeat=args.repeat)))
    print_ratios("compiled training step, per step (medians); compiled = numpy runtime, c = C runtime",
                 rows, ["compiled", "c"], ["eager", "torch", "numpy"])
    if args.memory:
        print("\npeak memory growth over 20 cifar_net steps at batch 64 (fresh processes)")
        print(f"  graphc compiled: {peak_growth('graphc', True):.1f} MiB")
        if has_torch:
            print(f"  torch eager:     {peak_growth('torch', False):.1f} MiB")


if __name__ == "__main__":
    main()
