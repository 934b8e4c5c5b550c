"""Run ONNX's own backend node test cases through graphc.onnx.prepare and report per-op results.

The cases are generated from the installed onnx package (`collect_testcases`). A case runs when
every op type in its model is one graphc imports and all its tensors have standard NumPy dtypes
(not bfloat16/float8/int4, strings, sequences or optionals). A case passes when every output
matches in dtype, shape and value (the case's own rtol/atol).

    python tools/onnx_conformance.py                   # the per-op table
    python tools/onnx_conformance.py --markdown        # the table for the README
    python tools/onnx_conformance.py --check tests/onnx/conformance_expected.txt   # CI
    python tools/onnx_conformance.py --write tests/onnx/conformance_expected.txt   # bless
    python tools/onnx_conformance.py --failures        # why each failing case fails
"""
from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass
class Result:
    case: str
    op: str
    status: str        # "pass", "fail", "skip"
    reason: str = ""


def collect_cases():
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return collect_testcases(None)


def tested_op(case, op_types, model_ops: list[str]) -> str:
    """The op a case is about: the op type its name starts with (test_reduce_sum_... ->
    ReduceSum), else its model's first op."""
    key = case.name.removeprefix("test_").replace("_", "").lower()
    best = ""
    for op in op_types:
        if key.startswith(op.lower()) and len(op) > len(best):
            best = op
    best = best or (model_ops[0] if model_ops else "?")
    if best not in model_ops:  # a function's expansion: it tests the ops it expands into
        best += " (expanded)"
    return best


def _as_array(value):
    """Some generated cases (Cast's) hold TensorProtos: read those of NumPy-expressible types."""
    from onnx import TensorProto, numpy_helper

    if isinstance(value, TensorProto):
        try:
            return numpy_helper.to_array(value)
        except Exception:  # an ONNX-only type (float8, int4, ...): left as is, so it is skipped
            return value
    return value


_STANDARD_DTYPES = {np.dtype(t) for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                           "uint32", "uint64", "float16", "float32", "float64")}


def _standard(value) -> bool:
    """NumPy's own dtypes (not ml_dtypes' float8/int4, which only look like NumPy's)."""
    return isinstance(value, np.ndarray) and value.dtype in _STANDARD_DTYPES


def run_case(case, supported: set[str]) -> Result:
    from graphc.onnx import prepare

    ops = [n.op_type for n in case.model.graph.node]
    op = tested_op(case, set(ops) | _ALL_OPS, ops)
    missing = sorted(set(ops) - supported)
    if missing:
        return Result(case.name, op, "skip", f"ops not implemented: {', '.join(missing)}")
    data_sets = [([_as_array(v) for v in inputs], [_as_array(v) for v in outputs])
                 for inputs, outputs in case.data_sets]
    for inputs, outputs in data_sets:
        if not all(_standard(v) for v in (*inputs, *outputs)):
            return Result(case.name, op, "skip", "non-standard dtype, sequence or optional")
    try:
        with np.errstate(all="ignore"):
            rep = prepare(case.model)
            for inputs, expected in data_sets:
                got = rep.run(list(inputs))
                problem = _compare(got, expected, case.rtol, case.atol)
                if problem:
                    return Result(case.name, op, "fail", problem)
    except Exception as exc:
        return Result(case.name, op, "fail", f"{type(exc).__name__}: {str(exc)[:300]}")
    return Result(case.name, op, "pass")


def _compare(got, expected, rtol, atol) -> str:
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        g = np.asarray(g)
        if g.dtype != e.dtype:
            return f"output {i}: dtype {g.dtype}, expected {e.dtype}"
        if g.shape != e.shape:
            return f"output {i}: shape {g.shape}, expected {e.shape}"
        if e.dtype.kind == "f":
            if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
                err = np.nanmax(np.abs(g.astype(np.float64) - e)) if g.size else 0
                return f"output {i}: values differ (max abs error {err:.3g})"
        elif not np.array_equal(g, e):
            return f"output {i}: values differ"
    return ""


def run_all(cases=None) -> list[Result]:
    import graphc.onnx  # noqa: F401  (registers nothing, but fails early without onnx)
    from graphc.onnx import mapping
    from graphc.ops import REGISTRY, load_all

    load_all()
    supported = set(mapping.import_table(REGISTRY))
    return [run_case(c, supported) for c in (cases if cases is not None else collect_cases())]


def per_op(results: list[Result]) -> dict[str, tuple[int, int]]:
    """op -> (passed, ran), over the cases that ran."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        if r.status != "skip":
            table[r.op][1] += 1
            table[r.op][0] += r.status == "pass"
    return {op: tuple(v) for op, v in sorted(table.items())}


def format_table(results: list[Result], markdown: bool = False) -> str:
    rows = per_op(results)
    passed = sum(p for p, _ in rows.values())
    ran = sum(n for _, n in rows.values())
    skipped = sum(r.status == "skip" for r in results)
    if markdown:
        lines = ["| ONNX op | passed / run | |", "|---|---|---|"]
        lines += [f"| {op} | {p} / {n} | {'✓' if p == n else ''} |" for op, (p, n) in rows.items()]
        lines.append(f"| **all** | **{passed} / {ran}** | |")
    else:
        lines = [f"{op:28s} {p:4d} / {n:<4d}{'' if p == n else '  <-'}" for op, (p, n) in rows.items()]
        lines.append(f"{'total':28s} {passed:4d} / {ran:<4d}  ({skipped} cases skipped: "
                     "unimplemented ops or non-standard dtypes)")
    return "\n".join(lines)


def read_expected(path) -> set[str]:
    return {line.strip() for line in Path(path).read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def regressions(results: list[Result], expected: set[str]) -> list[Result | str]:
    """Expected passes that no longer pass (or no longer exist)."""
    by_name = {r.case: r for r in results}
    return [by_name.get(name, name) for name in sorted(expected)
            if name not in by_name or by_name[name].status != "pass"]


def write_expected(results: list[Result], path) -> None:
    names = sorted(r.case for r in results if r.status == "pass")
    Path(path).write_text("# ONNX backend node cases graphc passes (tools/onnx_conformance.py --write)\n"
                          + "\n".join(names) + "\n")


def _all_onnx_ops() -> set[str]:
    from onnx import defs

    return {s.name for s in defs.get_all_schemas_with_history() if s.domain == ""}


_ALL_OPS: set[str] = set()


def main(argv=None) -> int:
    global _ALL_OPS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markdown", action="store_true", help="print the table as markdown")
    p.add_argument("--failures", action="store_true", help="list each failing case and why")
    p.add_argument("--check", metavar="FILE", help="exit 1 if a case listed in FILE no longer passes")
    p.add_argument("--write", metavar="FILE", help="write the passing cases to FILE")
    p.add_argument("--filter", metavar="REGEX", help="only cases whose name matches")
    args = p.parse_args(argv)
    _ALL_OPS = _all_onnx_ops()
    cases = collect_cases()
    if args.filter:
        cases = [c for c in cases if re.search(args.filter, c.name)]
    results = run_all(cases)
    print(format_table(results, args.markdown))
    if args.failures:
        for r in results:
            if r.status == "fail":
                print(f"FAIL {r.case} [{r.op}]: {r.reason}")
    if args.write:
        write_expected(results, args.write)
    if args.check:
        lost = regressions(results, read_expected(args.check))
        for r in lost:
            print(f"REGRESSION {r if isinstance(r, str) else f'{r.case}: {r.reason}'}")
        return 1 if lost else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
