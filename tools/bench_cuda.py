"""CUDA runtime figures (one run, one GPU): fused elementwise throughput as a fraction of the
device-to-device copy bandwidth, MatMul GFLOP/s against cuBLAS (through PyTorch) at 2048^3, and
the two_layer_net and cifar_net training steps against PyTorch eager CUDA.

    python tools/bench_cuda.py [--json FILE]

Device times are CUDA-event medians of the graph's kernels alone (inputs already on the
device); "with copies" adds the per-call host<->device copies of inputs and outputs (the
parameters are graph inputs of a compiled training step, so they travel every call). Exits 0
with a message where there is no GPU.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graphc  # noqa: E402
from graphc.passes import fuse  # noqa: E402


def _events(fn, number=20, repeat=5) -> float:
    """Median seconds per call of fn, timed with CUDA events."""
    import pycuda.driver as drv

    fn()
    drv.Context.synchronize()
    times = []
    for _ in range(repeat):
        a, b = drv.Event(), drv.Event()
        a.record()
        for _ in range(number):
            fn()
        b.record()
        b.synchronize()
        times.append(a.time_till(b) / 1e3 / number)
    return statistics.median(times)


def _device_run(exe):
    steps = exe._steps
    return lambda: [s() for s in steps]


def _prepare(graph):
    return graphc.runtimes.get("cuda").prepare(graph)


def fused_chain(n=1 << 26):
    import pycuda.driver as drv

    def f(x, y):
        return graphc.sigmoid(x * 1.5 + y) * y - x

    x = graphc.randn(n // 1024, 1024)
    graph = fuse(graphc.trace(f, x, x))
    assert sum(1 for node in graph.nodes() if node.op == "graphc.Fused") == 1
    exe = _prepare(graph)
    t = _events(_device_run(exe))
    nbytes = 3 * n * 4  # two inputs read, one output written
    src, dst = drv.mem_alloc(n * 4), drv.mem_alloc(n * 4)
    t_copy = _events(lambda: drv.memcpy_dtod(dst, src, n * 4))
    copy_bw, chain_bw = 2 * n * 4 / t_copy, nbytes / t
    return {"elements": n, "chain_GBps": chain_bw / 1e9, "copy_GBps": copy_bw / 1e9,
            "fraction_of_copy": chain_bw / copy_bw}


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def matmul(n=2048):
    x = graphc.randn(n, n)
    graph = graphc.trace(lambda a, b: a @ b, x, x)
    exe = _prepare(graph)
    t = _events(_device_run(exe), number=5)
    out = {"n": n, "graphc_GFLOPs": 2 * n ** 3 / t / 1e9}
    torch = _torch_cuda()
    if torch is None:
        out["cublas_GFLOPs"] = None
        out["note"] = "PyTorch with CUDA is not installed here: no cuBLAS reference"
        return out
    torch.backends.cuda.matmul.allow_tf32 = False
    a = torch.randn(n, n, device="cuda")
    t_ref = _events(lambda: a @ a, number=5)
    out["cublas_GFLOPs"] = 2 * n ** 3 / t_ref / 1e9
    out["fraction_of_cublas"] = out["graphc_GFLOPs"] / out["cublas_GFLOPs"]
    return out


def training_step(name):
    from tests.cuda.graphs import model_namespace, training_step as step_graph

    path = ROOT / "examples" / f"{name}.py"
    graph, traced = step_graph(path)
    ns = model_namespace(path)
    values = [t.numpy() for t in (*ns["example_inputs"], *ns.get("example_targets", ()))]
    values += [t.detach().numpy().copy() for _, t in traced.params]
    exe = _prepare(graph)
    out = {"nodes": len(graph.nodes()), "kernels": sum(len(c.kernels) for c in exe.codes),
           "graphc_device_ms": _events(_device_run(exe)) * 1e3}
    t0 = time.perf_counter()
    for _ in range(10):
        exe(*values)
    out["graphc_with_copies_ms"] = (time.perf_counter() - t0) / 10 * 1e3
    torch = _torch_cuda()
    out["torch_eager_ms"] = _torch_step(torch, path) * 1e3 if torch is not None else None
    if out["torch_eager_ms"]:
        out["speedup_device_vs_torch"] = out["torch_eager_ms"] / out["graphc_device_ms"]
    return out


def _torch_step(torch, path) -> float:
    """The same model file run with `import torch` eagerly on CUDA: seconds per training step."""
    # model files are PyTorch code under `import graphc as torch`: run them against torch itself
    src = path.read_text().replace("import graphc as torch", "import torch").replace("graphc", "torch")
    ns = {"__name__": "torch_model"}
    exec(compile(src, str(path), "exec"), ns)
    model = ns["model"].cuda()
    xs = [t.cuda() for t in (*ns["example_inputs"], *ns.get("example_targets", ()))]
    n_in = len(ns["example_inputs"])
    opt = ns["optimizer"](model.parameters())

    def step():
        loss = ns["loss"](model(*xs[:n_in]), *xs[n_in:])
        opt.zero_grad()
        loss.backward()
        opt.step()

    return _events(step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not graphc.cuda.is_available():
        print(f"bench_cuda: skipped: {graphc.cuda.why_unavailable()}")
        return 0
    import pycuda.driver as drv

    results = {"device": drv.Context.get_device().name()}
    for key, fn in (("fused_chain", fused_chain), ("matmul", matmul),
                    ("two_layer_net", lambda: training_step("two_layer_net")),
                    ("cifar_net", lambda: training_step("cifar_net"))):
        try:
            results[key] = fn()
        except Exception as exc:  # one failing figure must not hide the others
            results[key] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        print(key, json.dumps(results[key], indent=1, default=float), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
