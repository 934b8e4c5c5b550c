"""Model files: plain Python that the `graphc` command runs to find what to trace (DESIGN §7).

A model file defines `model` (an nn.Module or a function) and `example_inputs` (a tuple), and
may define `loss(output, *targets)` with `example_targets`, and `optimizer` (an optimizer, or a
function params -> optimizer as in the examples). Loading one runs
it: that is what a model file is for, code the user asks graphc to run. Every fault in it, from
a syntax error to a shape error while tracing, becomes a `ModelFileError` naming file:line.
"""
from __future__ import annotations

import ast
import difflib
import inspect
import os
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import ShapeError

HELP = ("a model file defines `model` (an nn.Module or function) and `example_inputs` (a tuple), "
        "and may define `loss(output, *targets)`, `example_targets` and `optimizer` (an optimizer "
        "or a function params -> optimizer)")


class ModelFileError(Exception):
    """A fault in a model file: `location` is 'file:line' (or the file), `message` says what."""

    def __init__(self, location: str, message: str):
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclass
class ModelFile:
    path: str
    model: Any
    example_inputs: tuple
    loss: Callable | None = None
    example_targets: tuple = ()
    optimizer: Any = None
    lines: dict[str, int] = field(default_factory=dict)  # top-level name -> line assigning it

    def where(self, name: str) -> str:
        """'file:line' of the line that defines `name` (the file alone if none does)."""
        line = self.lines.get(name)
        return f"{self.path}:{line}" if line else self.path

    @property
    def trainable(self) -> bool:
        return self.loss is not None

    def with_batch(self, n: int | None) -> "ModelFile":
        """The same model file with every example input and target resized to `n` rows along
        dim 0 (rows repeat cyclically), e.g. to report or benchmark at another batch size."""
        if n is None:
            return self
        from dataclasses import replace

        from .factories import arange
        from .ops.gather import index_select

        def resize(t):
            return index_select(t, 0, arange(n) % t.shape[0])

        return replace(self, example_inputs=tuple(resize(t) for t in self.example_inputs),
                       example_targets=tuple(resize(t) for t in self.example_targets))

    def params(self) -> dict:
        """Parameter name -> tensor ({} for a function model)."""
        named = getattr(self.model, "named_parameters", None)
        return dict(named()) if named is not None else {}

    def make_optimizer(self):
        """The file's `optimizer` (an optimizer, or a function params -> optimizer, called on
        the model's parameters), else SGD(lr=0.01) over the model's parameters."""
        if self.optimizer is not None and hasattr(self.optimizer, "step"):
            return self.optimizer
        params = list(self.params().values())
        if self.optimizer is not None:
            return self.optimizer(params)
        if not params:
            raise ModelFileError(self.where("model"), "training needs `model` to be an nn.Module "
                                 "with parameters, or an `optimizer` defined in the model file")
        from .optim import SGD

        return SGD(params, lr=0.01)

    def train_step(self, optimizer) -> Callable:
        """A function doing one training step on (*inputs, *targets) and returning the loss:
        forward, loss, backward, optimizer.step(), zero_grad(). Its argument names are the
        model's, then target0, target1, ..., so a traced graph's inputs read well."""
        model, loss_fn, n = self.model, self.loss, len(self.example_inputs)

        def train_step(*args):
            out = model(*args[:n])
            value = loss_fn(out, *args[n:])
            value.backward()
            optimizer.step()
            optimizer.zero_grad()
            return value

        names = _input_names(model, n) + [f"target{i}" for i in range(len(self.example_targets))]
        train_step.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_ONLY) for p in names])
        return train_step

    def step_args(self) -> tuple:
        return (*self.example_inputs, *self.example_targets)

    def error(self, exc: BaseException) -> ModelFileError:
        """A ModelFileError for an exception raised while running the model: located at the
        innermost line of this file in the traceback, else where `model` is defined."""
        return error_in(self.path, exc, fallback=self.where("model"))


def load(path: str) -> ModelFile:
    """Run the model file at `path` and collect what it defines (see the module docstring)."""
    path = os.path.abspath(path)
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise ModelFileError(shown, f"cannot read the model file: {exc.strerror or exc}") from None
    try:
        code = compile(source, path, "exec")
        tree = ast.parse(source, path)
    except SyntaxError as exc:
        raise ModelFileError(f"{shown}:{exc.lineno or 1}", f"SyntaxError: {exc.msg}") from None
    lines = _top_level_lines(tree)
    module = types.ModuleType("__graphc_model__")
    module.__file__ = path
    sys.modules[module.__name__] = module
    sys.path.insert(0, os.path.dirname(path))
    try:
        exec(code, module.__dict__)
    except Exception as exc:  # noqa: BLE001 - any fault of the user's file is reported the same way
        raise error_in(path, exc, shown=shown) from exc
    finally:
        sys.path.remove(os.path.dirname(path))
    ns = module.__dict__
    mf = ModelFile(shown, None, (), lines=lines)
    for name in ("model", "example_inputs"):
        if name not in ns:
            raise ModelFileError(f"{shown}:{_near(name, lines)}", f"no `{name}` defined{_did_you_mean(name, ns, lines)}; {HELP}")
    mf.model = ns["model"]
    if not callable(mf.model):
        raise ModelFileError(mf.where("model"), f"`model` is a {type(mf.model).__name__}, not an "
                                                "nn.Module or a function")
    mf.example_inputs = _as_tuple(ns["example_inputs"], "example_inputs", mf)
    mf.loss = ns.get("loss")
    if mf.loss is not None and not callable(mf.loss):
        raise ModelFileError(mf.where("loss"), "`loss` must be a function loss(output, *targets)")
    mf.example_targets = _as_tuple(ns.get("example_targets", ()), "example_targets", mf)
    mf.optimizer = ns.get("optimizer")
    if mf.optimizer is not None and not callable(mf.optimizer) and not hasattr(mf.optimizer, "step"):
        raise ModelFileError(mf.where("optimizer"), "`optimizer` must be an optimizer or a function "
                                                    "params -> optimizer")
    return mf


def error_in(path: str, exc: BaseException, *, shown: str | None = None,
             fallback: str | None = None) -> ModelFileError:
    """A one-line ModelFileError for exc, at the innermost frame of `path` in its traceback."""
    path = os.path.abspath(path)
    shown = shown or os.path.relpath(path)
    if isinstance(exc, ModelFileError):
        return exc
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    location = f"{shown}:{line}" if line else (fallback or shown)
    return ModelFileError(location, f"{type(exc).__name__}: {_short(exc)}")


def _short(exc: BaseException) -> str:
    """The message without the source location a ShapeError appends (the error says it first)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, ShapeError):
        text = re.sub(r" at (<unknown location>|(<[^>]*>|\S+):\d+(: .*)?)$", "", text)
    return text


def _as_tuple(value, name: str, mf: ModelFile) -> tuple:
    from .tensor import Tensor

    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise ModelFileError(mf.where(name), f"`{name}` must be a tuple of tensors, got {type(value).__name__}")


def _input_names(model, n: int) -> list[str]:
    target = model.forward if hasattr(model, "forward") and not inspect.isfunction(model) else model
    try:
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:n]
    except (TypeError, ValueError):
        params = []
    return params + [f"input{i}" for i in range(len(params), n)]


def _top_level_lines(tree: ast.Module) -> dict[str, int]:
    lines: dict[str, int] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines[stmt.name] = stmt.lineno
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                for node in ast.walk(t):
                    if isinstance(node, ast.Name):
                        lines[node.id] = stmt.lineno
    return lines


def _did_you_mean(name: str, ns: dict, lines: dict[str, int]) -> str:
    close = difflib.get_close_matches(name, [k for k in ns if not k.startswith("__")], n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`, line {lines.get(close[0], '?')}?)" if close else ""


def _near(name: str, lines: dict[str, int]) -> int:
    """The line to point at for a missing name: a close misspelling's, else line 1."""
    close = difflib.get_close_matches(name, list(lines), n=1, cutoff=0.75)
    return lines[close[0]] if close else 1


# ---- running a model file: eager or compiled, compared, timed ----------------------------

@dataclass
class RunResult:
    losses: list[float]                 # one per step (training)
    outputs: list                       # the last step's output arrays (forward)
    params: dict                        # name -> array after the last step


class Runner:
    """Runs a model file's training step (or forward) eagerly or compiled, always from the
    state the file left it in, so eager and compiled runs can be compared step by step.
    `guard(mf, fn, *args)` calls the user's code (the CLI turns its faults into one line)."""

    def __init__(self, mf: ModelFile, device: str = "numpy", guard=None):
        self.mf = mf
        self.device = device
        self.guard = guard or (lambda mf, fn, *a: fn(*a))
        self.initial = {k: t.detach().numpy().copy() for k, t in self._state().items()}

    def _state(self) -> dict:
        get = getattr(self.mf.model, "state_dict", None)
        return dict(get(keep_vars=True)) if get is not None else {}

    def reset(self) -> None:
        """Back to the weights the model file made, and an optimizer with no state."""
        from . import from_numpy, no_grad

        with no_grad():
            for k, t in self._state().items():
                t.copy_(from_numpy(self.initial[k].copy()))
        if hasattr(self.mf.optimizer, "state"):
            self.mf.optimizer.state.clear()

    def step_fn(self, compiled: bool):
        """(callable, its arguments): one training step or one forward, eager or compiled."""
        from . import compile, no_grad

        mf = self.mf
        if mf.trainable:
            fn, args = mf.train_step(mf.make_optimizer()), mf.step_args()
            return (compile(fn, device=self.device) if compiled else fn), args
        if compiled:
            return compile(mf.model, device=self.device), mf.example_inputs

        def forward(*a):
            with no_grad():
                return mf.model(*a)
        return forward, mf.example_inputs

    def run(self, steps: int, compiled: bool, label: str = "") -> RunResult:
        from .progress import Progress

        fn, args = self.step_fn(compiled)
        losses, out = [], None
        bar = Progress(range(steps), label)
        for _ in bar:
            out = self.guard(self.mf, fn, *args)
            if self.mf.trainable:
                losses.append(float(out.item()))
                bar.set(loss=losses[-1])
        outputs = [] if self.mf.trainable else [t.detach().numpy().copy() for t in _tensors(out)]
        params = {k: t.detach().numpy().copy() for k, t in self._state().items()}
        return RunResult(losses, outputs, params)

    def summary(self, r: RunResult) -> str:
        where = f"on {self.device}"
        if self.mf.trainable:
            return f"loss {r.losses[0]:.6g} -> {r.losses[-1]:.6g} after {len(r.losses)} training steps {where}"
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in r.outputs)
        return f"forward {where}: output {shapes}"

    def compare(self, eager: RunResult, compiled: RunResult, rtol: float = 1e-3,
                atol: float = 1e-5) -> tuple[bool, str]:
        """(all close?, a line saying so or naming the first mismatch)."""
        import numpy as np

        pairs = [("loss", np.array(eager.losses), np.array(compiled.losses))] if eager.losses else []
        pairs += [(f"output {i}", a, b) for i, (a, b) in enumerate(zip(eager.outputs, compiled.outputs))]
        pairs += [(k, eager.params[k], compiled.params[k]) for k in eager.params]
        worst = 0.0
        for name, a, b in pairs:
            if a.shape != b.shape:
                return False, f"check FAILED: {name}: eager shape {a.shape}, compiled {b.shape}"
            diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))
            worst = max(worst, diff)
            if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                return False, f"check FAILED: {name} differs: max abs diff {diff:.3g} (rtol={rtol}, atol={atol})"
        return True, (f"check OK: compiled matches eager on {len(pairs)} arrays "
                      f"(max abs diff {worst:.3g})")

    def bench(self, repeats: int) -> str:
        """A table of eager and compiled step times (median and best of `repeats`)."""
        import statistics
        import time

        rows = []
        for compiled in (False, True):
            self.reset()
            fn, args = self.step_fn(compiled)
            for _ in range(3):  # compiling traces on the first calls
                self.guard(self.mf, fn, *args)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn(*args)
                times.append(time.perf_counter() - t0)
            rows.append(("compiled" if compiled else "eager", statistics.median(times), min(times)))
        speedup = rows[0][1] / rows[1][1] if rows[1][1] > 0 else float("inf")
        what = "training step" if self.mf.trainable else "forward"
        lines = [f"{what} on {self.device}, {repeats} runs", f"{'':10}{'median':>12}{'best':>12}"]
        lines += [f"{name:10}{med * 1e3:>9.3f} ms{best * 1e3:>9.3f} ms" for name, med, best in rows]
        lines.append(f"compiled is {speedup:.2f}x eager (median)")
        return "\n".join(lines)


def _tensors(out) -> list:
    from .tensor import Tensor

    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for x in out for t in _tensors(x)]
    if isinstance(out, dict):
        return [t for x in out.values() for t in _tensors(x)]
    return []
