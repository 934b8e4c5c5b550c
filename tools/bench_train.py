"""Eager training steps: graphc against PyTorch eager (where installed).

    python tools/bench_train.py [--repeat 7]

One step = forward, loss, backward, optimizer step, for cifar_net at batch 4 and 64 and for
two_layer_net; medians of interleaved repeats; ratio graphc / torch (< 1: graphc is faster).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import compare, example_step, print_table  # noqa: E402

CASES = (("cifar_net batch 4", "cifar_net", 4, 100), ("cifar_net batch 64", "cifar_net", 64, 20),
         ("two_layer_net", "two_layer_net", None, 100))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    libs = ["graphc"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        pass
    rows = []
    for label, name, batch, number in CASES:
        cands = {lib: example_step(lib, name, batch) for lib in libs}
        rows.append((label, compare(cands, number=number, repeat=args.repeat)))
    print_table("eager training step (medians)", rows, "graphc")


if __name__ == "__main__":
    main()
