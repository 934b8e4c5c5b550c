"""Write a graph's generated CUDA code to a folder (`graphc compile ... --emit-cuda DIR`).

One self-contained `.cu` file per distinct kernel (the common prelude included, so each file
compiles alone with `nvcc -ptx`), `graph.cu` with the whole module as the runtime compiles it,
and `kernels.txt` saying which node launches which kernels, in execution order, with grid and
block sizes (ops run on the host are listed as such).
"""
from __future__ import annotations

from pathlib import Path

from .compiler import Module
from .kernel import RENDERER
from .lower import graph_code


def emit_cuda(graph, directory) -> list[Path]:
    """Write the kernels of `graph` (compile it through the passes first if it should be fused)
    under `directory`; returns the paths written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    codes = graph_code(graph)
    written, seen = [], set()
    index = [f"# graph {graph.name}: node (op) -> kernels, in launch order"]
    for code in codes:
        if code.host is not None:
            index.append(f"{code.node} ({code.op}): runs on the host")
            continue
        launches = ", ".join(f"{k.name}<<<{k.grid}, {k.block}>>>" for k in code.kernels)
        index.append(f"{code.node} ({code.op}): {launches}")
        for k in code.kernels:
            if k.name in seen:
                continue
            seen.add(k.name)
            path = out / f"{k.name}.cu"
            path.write_text(RENDERER.prelude + "\n" + k.source)
            written.append(path)
    module = out / "graph.cu"
    module.write_text(Module(codes).source)
    listing = out / "kernels.txt"
    listing.write_text("\n".join(index) + "\n")
    return written + [module, listing]
