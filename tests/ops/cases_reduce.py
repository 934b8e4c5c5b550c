"""Cases for graphc/ops/reduce.py."""
from .case import Case, args, randn

CASES = [
    Case(("ReduceSum",), lambda m, x: m.sum(x), args(randn(3, 4))),
    Case(("ReduceSum",), lambda m, x: x.sum(dim=(0, 2), keepdim=True), args(randn(2, 3, 4)), id="sum-dims"),
    Case(("ReduceMean",), lambda m, x: x.mean(1), args(randn(3, 4))),
    Case(("ReduceMean",), lambda m, x: x.mean(), args(randn(3, 4)), id="mean-all"),
    Case(("ReduceMax",), lambda m, x: x.max(), args(randn(3, 4))),
    Case(("ReduceMax", "ArgMax"), lambda m, x: x.max(dim=1)[0], args(randn(3, 4)), id="max-dim"),
    Case(("ReduceMin", "ArgMin"), lambda m, x: x.min(dim=0, keepdim=True).values, args(randn(3, 4))),
    Case(("ReduceProd",), lambda m, x: x.prod(1), args(randn(3, 4, low=0.5, high=1.5))),
    Case(("ArgMax",), lambda m, x: m.argmax(x, dim=1), args(randn(3, 4)), grad=(), fd=False, id="argmax"),
    Case(("ArgMin",), lambda m, x: m.argmin(x), args(randn(3, 4)), grad=(), fd=False, id="argmin"),
    Case(("ReduceMean", "ReduceSum"), lambda m, x: x.var(1), args(randn(3, 5)), id="var"),
    Case(("ReduceMean", "ReduceSum", "Sqrt"), lambda m, x: x.std(), args(randn(3, 5)), id="std"),
    Case(("ReduceMax",), lambda m, x: m.logsumexp(x, 1), args(randn(3, 5)), id="logsumexp"),
]
