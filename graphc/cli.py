"""The `graphc` command line: viz, run and compile a model file (DESIGN §7).

Faults of the user's model file (a missing name, a syntax error, a shape error while tracing)
print one line naming file:line and exit with status 2; `--debug` shows the traceback too.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from . import modelfile
from .modelfile import ModelFile, ModelFileError


class CliError(Exception):
    """A usage fault: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphc",
        description="graphc: trace PyTorch-style Python models into a static graph, compile and run them.",
        epilog=modelfile.HELP[0].upper() + modelfile.HELP[1:] + ".")
    parser.add_argument("--version", action="version", version=f"graphc {_version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("model", metavar="MODEL.py", help="the model file")
    common.add_argument("--debug", action="store_true", help="show the traceback of errors")
    common.add_argument("--batch", type=int, metavar="N", help="resize the example inputs and "
                        "targets to N rows (batch size N) before tracing")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    viz = sub.add_parser("viz", parents=[common], help="draw the graph, the grad_fn chain or the memory plan")
    viz.add_argument("-o", "--output", metavar="OUT", help=".svg, .png, .pdf (need graphviz's `dot`) "
                     "or .dot (default: MODEL.svg in the current folder)")
    mode = viz.add_mutually_exclusive_group()
    mode.add_argument("--grad-fn", action="store_true", help="the loss's grad_fn chain (the output's "
                      "when the file defines no loss)")
    mode.add_argument("--memory", action="store_true", help="the memory plan over execution steps (SVG)")
    viz.add_argument("--train-step", action="store_true", help="the whole training step, not the forward")
    viz.add_argument("--after", metavar="PASS", help="the graph after this pass of the default pipeline")
    viz.add_argument("--plan", action="store_true", help="annotate ops with their arena offsets and sizes")
    viz.add_argument("--collapse", type=int, default=None, metavar="N",
                     help="collapse repeated blocks in drawings of more than N nodes (default 300; 0: never)")
    viz.set_defaults(func=cmd_viz)

    run = sub.add_parser("run", parents=[common], help="compile and run the model (training steps "
                         "when it defines a loss)")
    run.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    run.add_argument("--runtime", help="the executor on that device: numpy (the cpu's default) or c "
                     "(generated native code) on the cpu, cuda on cuda")
    run.add_argument("--steps", type=int, default=10, metavar="N", help="steps to run (default 10)")
    run.add_argument("--check", action="store_true", help="compare compiled against eager results")
    run.add_argument("--bench", action="store_true", help="time eager against compiled")
    run.set_defaults(func=cmd_run)

    comp = sub.add_parser("compile", parents=[common], help="save the compiled graph, report on the passes")
    comp.add_argument("-o", "--output", metavar="OUT", help=".graphc or .json (graphc graph file), "
                      ".onnx (ONNX model of the forward graph)")
    comp.add_argument("--report", action="store_true", help="nodes after each pass, fused kernels, "
                      "arena bytes (for the training step when the file defines a loss)")
    comp.add_argument("--json", action="store_true", help="with --report: one JSON object")
    comp.add_argument("--device", default="cpu", help="device to prepare the graph for: cpu (default) or cuda")
    comp.add_argument("--runtime", help="the executor on that device: numpy (default) or c on the cpu; "
                      "--report then adds what it runs natively and its build time")
    comp.add_argument("--emit-c", metavar="DIR", help="write the forward graph as a standalone C++ "
                      "program: model.cpp, model.h, weights.bin, main.cpp and the one-line BUILD command")
    comp.add_argument("--emit-cuda", metavar="DIR", help="write every CUDA kernel of the compiled "
                      "graph (training step when the model defines a loss) as .cu files; needs no GPU")
    comp.set_defaults(func=cmd_compile)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _check_common(args)
        return args.func(args)
    except (ModelFileError, CliError, _render_error()) as exc:
        if args.debug:
            traceback.print_exception(exc.__cause__ or exc)
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written: no traceback
        if args.debug:
            traceback.print_exception(exc)
        print(f"graphc: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _render_error():
    from .viz import RenderError

    return RenderError


# ---- shared steps ------------------------------------------------------------------------

def _user(mf: ModelFile, fn, *args, **kwargs):
    """fn(*args), where a fault is the model's: reported at its line in the model file."""
    try:
        return fn(*args, **kwargs)
    except (CliError, ModelFileError):
        raise
    except Exception as exc:  # noqa: BLE001 - anything the user's code raised
        raise mf.error(exc) from exc


def _check_common(args) -> None:
    """The options every command shares, checked before any work (one-line errors, exit 2)."""
    if getattr(args, "batch", None) is not None and args.batch < 1:
        raise CliError(f"--batch must be at least 1, got {args.batch}")
    path = getattr(args, "output", None)
    parent = os.path.dirname(os.path.abspath(path)) if path else None
    if parent and not os.path.isdir(parent):
        raise CliError(f"-o {path}: the folder {parent} does not exist")


def _require_device(args) -> str:
    """The runtime --device and --runtime select, checked usable here."""
    from . import runtimes

    device, runtime = args.device, args.runtime
    if device.partition(":")[0] not in runtimes.available() + ["cpu"]:
        raise CliError(f"--device {device}: no such device or runtime; available: cpu, "
                       f"{', '.join(runtimes.available())}")
    try:
        name = runtimes.resolve(device, runtime)
    except ValueError as exc:
        raise CliError(f"--runtime {runtime}: {exc}") from exc
    if name == "cuda":
        from . import cuda

        if not cuda.is_available():
            raise CliError(f"--device cuda: CUDA is not available here: {cuda.why_unavailable()}")
    return name


def _traced(mf: ModelFile, train_step: bool):
    """(graph, parameter input names, output index -> label) of the forward or training step."""
    from .trace import trace_call

    if not train_step:
        traced = _user(mf, trace_call, mf.model, mf.example_inputs, params_as_inputs=False)
        return traced.graph, (), {}
    if not mf.trainable:
        raise CliError(f"{mf.path}: --train-step needs `loss(output, *targets)` in the model file")
    step = mf.train_step(mf.make_optimizer())
    _user(mf, step, *mf.step_args())  # creates optimizer state made lazily by the first step
    traced = _user(mf, trace_call, step, mf.step_args(), params_as_inputs=True)
    names = {0: "loss"} | {i: f"new {n}" for n, i in traced.mutations.items()}
    return traced.graph, [n for n, _ in traced.params], names


def _passes():
    try:
        from . import passes
    except ImportError as exc:
        raise CliError(f"graph passes are not available in this build: {exc}") from exc
    return passes


def _run_pipeline(graph, upto: str | None = None) -> list:
    """[(pass name, graph after it)] through the default pipeline, stopping after `upto`."""
    pipeline = _passes().DEFAULT_PIPELINE
    names = [p.name for p in pipeline.passes]
    if upto is not None and upto not in names:
        raise CliError(f"--after {upto}: no such pass in the default pipeline {pipeline}")
    out = []
    for p in pipeline.passes:
        graph = p(graph)
        out.append((p.name, graph))
        if p.name == upto:
            break
    return out


def _fused_count(graph) -> int:
    return sum(1 for n in graph.nodes() if n.subgraph is not None)


# ---- graphc viz --------------------------------------------------------------------------

def cmd_viz(args) -> int:
    from . import viz

    stem = os.path.splitext(os.path.basename(args.model))[0]
    suffix = "-grad-fn" if args.grad_fn else "-memory" if args.memory else "-train-step" if args.train_step else ""
    out = args.output or f"{stem}{suffix}.svg"
    fmt = viz.output.format_of(out)
    if args.memory and fmt != "svg":
        raise CliError("--memory draws SVG only: use -o NAME.svg")
    if args.grad_fn and (args.after or args.train_step or args.plan):
        raise CliError("--grad-fn draws the eager autograd graph: --after, --train-step and --plan do not apply")
    collapse = viz.DEFAULT_THRESHOLD if args.collapse is None else (args.collapse or None)
    mf = modelfile.load(args.model).with_batch(args.batch)
    if args.grad_fn:
        drawing = viz.draw_grad_fn(_grad_fn_root(mf), params=mf.params(), collapse=collapse)
    else:
        graph, params, out_names = _traced(mf, args.train_step)
        if args.after or args.memory:
            graph = _run_pipeline(graph, args.after)[-1][1]
        if args.memory:
            drawing = viz.draw_memory(_passes().plan_memory(graph), graph)
        else:
            plan = _passes().plan_memory(graph) if args.plan else None
            drawing = viz.draw(graph, plan, params=params, output_names=out_names, collapse=collapse)
    viz.save(drawing, out)
    print(f"wrote {out}")
    return 0


def _grad_fn_root(mf: ModelFile):
    from .tensor import Tensor

    out = _user(mf, mf.model, *mf.example_inputs)
    if mf.trainable:
        out = _user(mf, mf.loss, out, *mf.example_targets)
    tensors = [out] if isinstance(out, Tensor) else [t for t in out if isinstance(t, Tensor)] \
        if isinstance(out, (tuple, list)) else []
    if not tensors or all(t.grad_fn is None for t in tensors):
        raise ModelFileError(mf.where("model"), "the output has no grad_fn: nothing it was computed "
                             "from requires grad (no parameters?)")
    return tensors[0] if len(tensors) == 1 else tensors


# ---- graphc run --------------------------------------------------------------------------

def cmd_run(args) -> int:
    from .modelfile import Runner

    name = _require_device(args)
    if args.steps < 1:
        raise CliError("--steps must be at least 1")
    runner = Runner(modelfile.load(args.model).with_batch(args.batch), name, _user)
    ok = True
    if args.check:
        eager = runner.run(args.steps, compiled=False, label="eager")
        runner.reset()
    compiled = runner.run(args.steps, compiled=True, label="train" if runner.mf.trainable else "forward")
    print(runner.summary(compiled))
    if args.check:
        ok, text = runner.compare(eager, compiled)
        print(text)
    if args.bench:
        print(runner.bench(max(args.steps, 5)))
    return 0 if ok else 1


# ---- graphc compile ----------------------------------------------------------------------

def cmd_compile(args) -> int:
    if not args.output and not args.report and not args.emit_cuda and not args.emit_c:
        raise CliError("nothing to do: give -o OUT, --report, --emit-cuda DIR and/or --emit-c DIR")
    name = _require_device(args) if args.output or args.runtime else "numpy"
    if args.json and not args.report:
        raise CliError("--json goes with --report")
    ext = os.path.splitext(args.output or "")[1].lower()
    if args.output and ext not in (".graphc", ".json", ".onnx"):
        raise CliError(f"{args.output}: unknown output format {ext or '(none)'!r}; use .graphc, .json or .onnx")
    mf = modelfile.load(args.model).with_batch(args.batch)
    if args.report:
        _report(mf, args.json, name)
    if args.emit_c:
        from .runtimes.c.emit import emit_c

        graph = _run_pipeline(_traced(mf, False)[0])[-1][1]
        try:
            paths, command = emit_c(graph, args.emit_c)
        except ValueError as exc:
            raise CliError(f"--emit-c: {exc}") from exc
        print(f"wrote {', '.join(p.name for p in paths)} to {args.emit_c}; build there with:\n  {command}")
    if args.emit_cuda:
        from .runtimes.cuda.emit import emit_cuda

        graph = _run_pipeline(_traced(mf, mf.trainable)[0])[-1][1]
        paths = emit_cuda(graph, args.emit_cuda)
        print(f"wrote {len(paths)} files to {args.emit_cuda}")
    if args.output:
        graph = _traced(mf, False)[0]
        if ext == ".onnx":
            _export_onnx(graph, args.output)
        else:
            from . import runtimes
            from .ir import save

            graph = _run_pipeline(graph)[-1][1]
            runtimes.get(name).prepare(graph)
            save(graph, args.output)
        if not args.json:
            print(f"wrote {args.output}")
    return 0


def _report(mf: ModelFile, as_json: bool, runtime: str) -> None:
    graph = _traced(mf, mf.trainable)[0]
    snaps = [("traced", graph)] + _run_pipeline(graph)
    final = snaps[-1][1]
    plan = _passes().plan_memory(final)
    figures = {"nodes": len(final.nodes()), "fused_kernels": _fused_count(final),
               "arena_bytes": plan.arena_bytes, "lower_bound_bytes": plan.lower_bound_bytes,
               "no_reuse_bytes": plan.no_reuse_bytes}
    native = _runtime_report(final, plan, runtime)
    if native is not None:
        figures["runtime"] = {"name": runtime, **native}
    if as_json:
        print(json.dumps(figures))
        return
    from .viz.style import human_bytes

    what = "training step" if mf.trainable else "forward"
    print(f"{mf.path} ({what})")
    width = max(len(name) for name, _ in snaps)
    for name, g in snaps:
        fused = _fused_count(g)
        print(f"  {name:<{width}}  {len(g.nodes()):>6} nodes" + (f"  ({fused} fused kernels)" if fused else ""))
    for key in ("arena_bytes", "lower_bound_bytes", "no_reuse_bytes"):
        print(f"  {key:<18} {figures[key]:>12,} B  ({human_bytes(figures[key])})")
    if native is not None:
        how = "from the build cache" if native["build_cached"] else "cold"
        print(f"  runtime {runtime}: {native['native_nodes']} nodes native, {native['numpy_nodes']} on NumPy, "
              f"{native['native_calls']} native call(s) per run; built in {native['build_seconds']:.2f} s ({how})")
        for f in native["fallbacks"]:
            print(f"    node {f['node']!r} ({f['op']}) runs on NumPy: {f['why']}")


def _runtime_report(graph, plan, runtime: str):
    """What a runtime with generated code says of the prepared graph (None for the others)."""
    from . import runtimes

    if runtime == "numpy":
        return None
    report = getattr(runtimes.get(runtime).prepare(graph, plan), "report", None)
    return report() if report else None


def _export_onnx(graph, path: str) -> None:
    try:
        from .onnx import export
    except ImportError as exc:
        raise CliError(f"ONNX export is not available: {exc}") from exc
    from .atomic import write_atomic

    try:
        model = export(graph, None)
    except ImportError as exc:
        raise CliError(f"ONNX export needs the onnx package: {exc}") from exc
    except ValueError as exc:  # OnnxError: an op ONNX cannot express
        raise CliError(f"ONNX export failed: {exc}") from exc
    write_atomic(path, model.SerializeToString())


if __name__ == "__main__":
    sys.exit(main())
