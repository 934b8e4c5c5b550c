"""Shared timing helpers for the benchmarks: interleaved repeats, medians, a ratio table."""
from __future__ import annotations

import statistics
import time


def median_time(fn, *, number: int, repeat: int) -> float:
    """Median seconds per call of fn over `repeat` runs of `number` calls."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def compare(candidates: dict, *, number: int, repeat: int) -> dict:
    """Time each candidate in interleaved rounds (fair on a noisy machine); medians per name."""
    rounds = {name: [] for name in candidates}
    for fn in candidates.values():
        fn()
    for _ in range(repeat):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            rounds[name].append((time.perf_counter() - t0) / number)
    return {name: statistics.median(ts) for name, ts in rounds.items()}


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def print_table(title: str, rows: list[tuple[str, dict]], baseline: str) -> None:
    """rows: (benchmark name, {implementation: seconds}); ratios are against `baseline`."""
    names = [n for n in rows[0][1]]
    print(f"\n{title}")
    header = f"{'benchmark':<28}" + "".join(f"{n:>16}" for n in names) + "".join(
        f"{'graphc/' + n:>18}" for n in names if n != "graphc")
    print(header)
    print("-" * len(header))
    for bench, times in rows:
        line = f"{bench:<28}" + "".join(f"{fmt_time(times[n]) if n in times else '-':>16}" for n in names)
        line += "".join(f"{times['graphc'] / times[n]:>18.2f}" if n in times else f"{'-':>18}"
                        for n in names if n != "graphc")
        print(line)


def print_ratios(title: str, rows: list[tuple[str, dict]], mine: list[str], baselines: list[str]) -> None:
    """rows: (benchmark, {name: seconds}); a time column per name, then a ratio column for each
    of `mine` over each of `baselines` (`-` where a row lacks one)."""
    names = mine + baselines
    pairs = [(a, b) for a in mine for b in baselines]
    print(f"\n{title}")
    print(f"{'benchmark':<22}" + "".join(f"{n:>12}" for n in names) + "".join(f"{a + '/' + b:>18}" for a, b in pairs))
    for label, t in rows:
        print(f"{label:<22}" + "".join(f"{fmt_time(t[n]) if n in t else '-':>12}" for n in names) +
              "".join(f"{t[a] / t[b]:>18.2f}" if a in t and b in t else f"{'-':>18}" for a, b in pairs))


def example_step(lib: str, name: str, batch: int | None = None, compiled: bool = False, runtime=None):
    """A training-step callable (forward, loss, backward, optimizer step) for an example model
    file, on graphc or torch (the same source, with `import graphc as torch` made real);
    `runtime` picks graphc's executor when compiled."""
    import importlib
    import os
    import sys

    import numpy as np

    root = os.path.join(os.path.dirname(__file__), "..")
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.golden.procedure import load_example, make_data

    m = importlib.import_module(lib)
    mod = load_example(name, lib)
    data = make_data(mod)
    mod.model.load_state_dict({k[5:]: m.from_numpy(v.copy()) for k, v in data.items() if k.startswith("init.")})
    rng = np.random.default_rng(0)
    inputs = []
    for i, _ in enumerate(mod.example_inputs):
        x = data[f"input.{i}"]
        if batch is not None:
            x = rng.standard_normal((batch,) + x.shape[1:]).astype(x.dtype)
        inputs.append(m.from_numpy(x))
    targets = []
    for key in sorted(k for k in data if k.startswith("target.")):
        t = data[key]
        if batch is not None:
            t = (rng.integers(0, 10, (batch,) + t.shape[1:]) if t.dtype.kind == "i"
                 else rng.standard_normal((batch,) + t.shape[1:]).astype(t.dtype))
        targets.append(m.from_numpy(t))
    opt = mod.optimizer(mod.model.parameters())

    def step(*batch_tensors):
        opt.zero_grad()
        err = mod.loss(mod.model(*batch_tensors[:len(inputs)]), *batch_tensors[len(inputs):])
        err.backward()
        opt.step()
        return err

    run = (m.compile(step, runtime=runtime) if runtime else m.compile(step)) if compiled else step
    args = inputs + targets
    return lambda: run(*args)
