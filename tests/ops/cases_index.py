"""Cases for the indexing ops (graphc/ops/index.py, gather.py, sort.py, flip.py)."""
import numpy as np

from graphc.ops.gather import one_hot

from .case import Case, args, ints, randn


def perm(rows, n, k):
    """Int64 (rows, k): distinct indices per row (scatter without duplicates is deterministic)."""
    return lambda rng: np.argsort(rng.random((rows, n)), axis=1)[:, :k].astype(np.int64)


def mask(*shape):
    return lambda rng: rng.random(shape) < 0.5


def _double(m, f, x):
    """d(sum f(x))/dx, differentiable again when x requires grad (exercises the VJP of a VJP op);
    plain values when it does not (the finite-difference loss)."""
    create = x.requires_grad
    x.requires_grad_(True)
    return m.autograd.grad(f(x).sum(), x, create_graph=create)[0]


def _setitem(idx, value=0.0):
    def fn(m, x, *rest):
        y = x * 1
        y[idx(m, *rest[1:]) if callable(idx) else idx] = rest[0] if rest else value
        return y

    return fn


def _one_hot(m):
    return one_hot if m.__name__ == "graphc" else m.nn.functional.one_hot


IDX = ("graphc.Index", "graphc.IndexGrad")

CASES = [
    # x[idx]: basic
    Case(IDX, lambda m, x: x[1], args(randn(3, 4)), id="index-int"),
    Case(IDX, lambda m, x: x[-1, 1:3], args(randn(3, 4)), id="index-negative-int-slice"),
    Case(IDX, lambda m, x: x[None, ..., ::2], args(randn(2, 3, 5)), id="index-none-ellipsis-step"),
    Case(IDX, lambda m, x: x[1:, None, -2], args(randn(3, 4, 2)), id="index-slice-none-int"),
    Case(IDX, lambda m, x: x[..., 1, :], args(randn(2, 3, 4)), id="index-ellipsis-int"),
    Case(IDX, lambda m, x: x[0, 1], args(randn(3, 4)), id="index-scalar"),
    Case(IDX, lambda m, x: x[m.tensor(1)], args(randn(3, 4)), id="index-0d-tensor"),
    # x[idx]: advanced and mixed
    Case(IDX, lambda m, x: x[[0, 2, 0]], args(randn(3, 4)), id="index-list"),
    Case(IDX, lambda m, x, i: x[i], args(randn(5, 3), ints(-5, 5, 2, 4)), id="index-tensor-negative"),
    Case(IDX, lambda m, x, i: x[:, i], args(randn(3, 5, 2), ints(0, 5, 6)), id="index-tensor-dim1"),
    Case(IDX, lambda m, x, i, j: x[:, i, j], args(randn(2, 4, 5), ints(0, 4, 3), ints(0, 5, 2, 1)),
         id="index-adjacent"),
    Case(IDX, lambda m, x, i, j: x[i, :, j], args(randn(4, 3, 5), ints(0, 4, 3), ints(0, 5, 3)),
         id="index-apart"),
    Case(IDX, lambda m, x, i: x[0, :, i], args(randn(2, 3, 4), ints(0, 4, 2)), id="index-int-then-tensor"),
    Case(IDX, lambda m, x, i: x[None, 1:, i, ...], args(randn(3, 4, 2), ints(0, 4, 5)), id="index-mixed"),
    Case(IDX, lambda m, x: x[True], args(randn(3, 2)), id="index-true"),
    Case(IDX, lambda m, x: x[0, False], args(randn(3, 2)), id="index-false"),
    # x[mask]
    Case(IDX, lambda m, x, y: x[y > 0], args(randn(3, 4), randn(3, 4)), id="index-mask"),
    Case(IDX, lambda m, x: x[x > 0], args(randn(3, 4, away=0)), id="index-mask-self"),
    Case(IDX, lambda m, x, y: x[:, y > 0], args(randn(2, 3, 4), randn(3, 4)), id="index-mask-inner"),
    Case(IDX, lambda m, x, y, i: x[y > 0, i], args(randn(3, 4), randn(3), ints(0, 4, 1)), id="index-mask-tensor"),
    Case(IDX, lambda m, x: _double(m, lambda t: t[[0, 1, 1]] ** 3, x), args(randn(3, 2)), id="index-double"),
    Case(IDX, lambda m, x: _double(m, lambda t: t[1:, 0] ** 3, x), args(randn(3, 2)), id="index-double-basic"),
    Case(IDX, lambda m, x: m.masked_select(x, x[0] > 0), args(randn(3, 4, away=0)), id="masked-select"),
    # x[idx] = value
    Case(("graphc.IndexPut",), _setitem(0), args(randn(3, 4)), id="setitem-row"),
    Case(("graphc.IndexPut",), _setitem((slice(1, None), [0, 2])), args(randn(3, 4), randn(2, 1)), grad=(0, 1),
         id="setitem-value-grad"),
    Case(("graphc.IndexPut",), _setitem(lambda m, y: y > 0), args(randn(3, 4), randn(1), randn(3, 4)),
         grad=(0, 1), id="setitem-mask"),
    Case(("graphc.IndexPut",), _setitem(lambda m, i: i), args(randn(5, 3), randn(3), perm(1, 5, 2)),
         grad=(0, 1), id="setitem-tensor"),
    Case(("graphc.IndexPut",), _setitem((Ellipsis, 1)), args(randn(2, 3), randn(1, 2)), grad=(0, 1),
         id="setitem-leading-one"),
    Case(("graphc.IndexPut",), lambda m, x, i: x.index_fill(1, i, -1.5), args(randn(3, 4), ints(0, 4, 2)),
         id="index-fill"),
    # gather / scatter
    Case(("GatherElements", "ScatterElements"), lambda m, x, i: m.gather(x, 1, i),
         args(randn(3, 5), ints(0, 5, 3, 4))),
    Case(("GatherElements", "ScatterElements"), lambda m, x, i: x.gather(0, i),
         args(randn(4, 5), ints(0, 4, 3, 2)), id="gather-smaller-index"),
    Case(("GatherElements", "ScatterElements"), lambda m, x, i: m.take_along_dim(x, i, 1),
         args(randn(3, 5), ints(0, 5, 1, 2)), id="take-along-dim"),
    Case(("ScatterElements", "GatherElements"), lambda m, x, i, s: x.scatter(1, i, s),
         args(randn(3, 5), perm(3, 5, 3), randn(3, 3)), grad=(0, 2), id="scatter"),
    Case(("ScatterElements", "GatherElements"), lambda m, x, i, s: x.scatter(1, i, s),
         args(randn(3, 5), perm(3, 5, 3), randn(4, 4)), grad=(0, 2), torch=False, id="scatter-larger-src"),
    Case(("ScatterElements",), lambda m, x, i: x.scatter(1, i, 2.0), args(randn(3, 5), perm(3, 5, 2)),
         id="scatter-value"),
    Case(("ScatterElements", "GatherElements"), lambda m, x, i, s: m.scatter_add(x, 0, i, s),
         args(randn(3, 4), ints(0, 3, 5, 4), randn(5, 4)), grad=(0, 2), id="scatter-add"),
    Case(("ScatterElements", "GatherElements"), lambda m, x, i: _double(m, lambda t: t.gather(1, i) ** 3, x),
         args(randn(3, 4), ints(0, 4, 3, 5)), id="gather-double"),
    # index_select / index_add
    Case(("Gather", "graphc.GatherGrad"), lambda m, x, i: x.index_select(0, i), args(randn(5, 3), ints(0, 5, 7))),
    Case(("Gather", "graphc.GatherGrad"), lambda m, x, i: m.index_select(x, 1, i),
         args(randn(2, 4, 3), ints(0, 4, 6)), id="index-select-dim1"),
    Case(("Gather", "graphc.GatherGrad"), lambda m, w, i: m.index_select(w, 0, i.reshape(-1)).reshape(2, 3, 4),
         args(randn(5, 4), ints(0, 5, 2, 3)), id="embedding-lookup"),
    Case(("graphc.GatherGrad", "Gather"), lambda m, x, i, s: x.index_add(1, i, s, alpha=2.0),
         args(randn(3, 4), ints(0, 4, 5), randn(3, 5)), grad=(0, 2), id="index-add"),
    # sorting
    Case(("TopK", "ScatterElements"), lambda m, x: m.topk(x, 2, dim=1), args(randn(3, 5))),
    Case(("TopK", "ScatterElements"), lambda m, x: x.topk(3, 0, largest=False), args(randn(20, 3)),
         id="topk-smallest-partition"),
    Case(("TopK", "ScatterElements"), lambda m, x: x.sort(dim=0, descending=True), args(randn(4, 3)),
         id="sort-descending"),
    Case(("TopK",), lambda m, x: m.sort(x).values * 1, args(randn(3, 4)), id="sort"),
    Case(("TopK",), lambda m, x: x.argsort(1), args(randn(3, 4)), grad=(), fd=False, id="argsort"),
    # flip, tril/triu
    Case(("graphc.Flip",), lambda m, x: x.flip(0, 2), args(randn(2, 3, 4))),
    Case(("graphc.Flip",), lambda m, x: m.flip(x, [-1]) * 1, args(randn(2, 3)), id="flip-list"),
    Case(("Trilu",), lambda m, x: x.tril(), args(randn(2, 3, 4))),
    Case(("Trilu",), lambda m, x: m.triu(x, 1), args(randn(4, 3)), id="triu"),
    # integer outputs
    Case(("graphc.NonZero",), lambda m, x: m.nonzero(x > 0), args(randn(3, 4)), grad=(), fd=False),
    Case(("graphc.NonZero", "graphc.Index"), lambda m, x: m.nonzero(x > 0, as_tuple=True), args(randn(3, 4)),
         grad=(), fd=False, id="nonzero-tuple"),
    Case(("graphc.NonZero", "graphc.Index", "graphc.IndexGrad"), lambda m, x: x[m.where(x > 0)],
         args(randn(3, 4, away=0)), id="where-one-arg"),
    Case(("graphc.OneHot",), lambda m, i: _one_hot(m)(i, 5), args(ints(0, 5, 2, 3)), grad=(), fd=False),
    Case(("graphc.OneHot",), lambda m, i: _one_hot(m)(i), args(ints(0, 5, 7)), grad=(), fd=False,
         id="one-hot-infer"),
]
