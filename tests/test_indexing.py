"""Behaviour of x[idx], x[idx] = v and the indexing family beyond the op tables: memory sharing,
in-place writes, autograd through setitem, errors, data-dependent shapes, NumPy agreement."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import graphc
from graphc.dispatch import STATE, dispatch
from graphc.ir.types import TensorType
from graphc.ops.gather import one_hot
from graphc.ops.index import INDEX, _parse


def _arange(*shape):
    return graphc.arange(float(np.prod(shape))).reshape(*shape)


# ---- views and in-place writes -----------------------------------------------------------------

def test_slice_shares_memory_both_ways():
    x = _arange(3, 4)
    v = x[1:, 0]
    v[0] = 100.0
    assert x[1, 0].item() == 100.0
    x[2, 0] = -1.0
    assert v[1].item() == -1.0
    assert np.shares_memory(v.numpy(), x.numpy())
    assert v._version is x._version


def test_int_index_is_a_view_even_for_a_scalar():
    x = _arange(2, 3)
    s = x[1, 2]
    assert s.shape == () and np.shares_memory(s.numpy(), x.numpy())


def test_advanced_index_copies():
    x = _arange(3, 4)
    y = x[[0, 2]]
    y[0] = 7.0
    assert x[0, 0].item() == 0.0
    assert y._version is not x._version
    assert not np.shares_memory(x[x > 3].numpy(), x.numpy())


def test_setitem_fast_path_writes_in_place():
    x = _arange(3, 4)
    ptr, version = x.data_ptr(), x._version[0]
    x[0] = 5.0
    x[x > 10] = graphc.tensor([-1.0])
    x[:, [1, 3]] = graphc.tensor([[9.0, 8.0]])
    assert x.data_ptr() == ptr and x._version[0] == version + 3
    expect = np.arange(12.0).reshape(3, 4)
    expect[0] = 5
    expect[expect > 10] = -1
    expect[:, [1, 3]] = [9, 8]
    np.testing.assert_array_equal(x.numpy(), expect)


def test_setitem_casts_to_the_tensor_dtype():
    x = graphc.zeros(3, dtype=graphc.int64)
    x[1] = 2.7
    x[2:] = graphc.tensor([3.9])
    assert x.dtype is graphc.int64 and x.tolist() == [0, 2, 3]


def test_setitem_under_no_grad_on_a_leaf():
    w = graphc.ones(2, 3, requires_grad=True)
    with graphc.no_grad():
        w[0] = 0.0
    assert w.is_leaf and w.requires_grad and w[0].sum().item() == 0.0


def test_setitem_on_a_leaf_that_requires_grad_raises():
    w = graphc.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 0.0


# ---- autograd --------------------------------------------------------------------------------

def test_setitem_with_autograd_zeroes_the_overwritten_gradient():
    x = graphc.randn(3, 4, requires_grad=True)
    y = x * 1
    y[0] = 0
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[np.zeros((1, 4)), np.ones((2, 4))])


def test_setitem_value_gradient_is_summed_over_broadcast():
    x = graphc.randn(3, 4, requires_grad=True)
    v = graphc.randn(4, requires_grad=True)
    y = x * 1
    y[[0, 2]] = v
    assert y.grad_fn.name() == "IndexPutBackward0"
    (y * 2).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), np.full(4, 4.0))
    np.testing.assert_allclose(x.grad.numpy()[[0, 2]], 0)


def test_setitem_after_use_in_a_saved_op_is_detected():
    x = graphc.randn(3, requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("index, name", [
    (1, "SelectBackward0"), ((slice(1, None), 0), "SelectBackward0"), ((0, slice(1, None)), "SliceBackward0"),
    ((0, None), "UnsqueezeBackward0"), ((Ellipsis,), "AliasBackward0"), ([0, 1], "IndexBackward0"),
    ((slice(None), [1]), "IndexBackward0"),
])
def test_grad_fn_names_follow_pytorch(index, name):
    x = graphc.randn(3, 4, requires_grad=True)
    assert x[index].grad_fn.name() == name


def test_index_grad_sums_duplicates_and_wraps_negative_indices():
    x = graphc.zeros(4, 2, requires_grad=True)
    x[graphc.tensor([0, -1, 3, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [3, 0, 0, 2])
    y = graphc.zeros(3, 4, requires_grad=True)
    y[[0, 0, 1], [1, 1, -1]].sum().backward()  # two index tensors: np.add.at
    expect = np.zeros((3, 4))
    np.add.at(expect, ([0, 0, 1], [1, 1, -1]), 1)
    np.testing.assert_array_equal(y.grad.numpy(), expect)


def test_embedding_style_gradient():
    w = graphc.randn(10, 3, requires_grad=True)
    idx = graphc.tensor([[1, 2, 1], [9, 1, 0]])
    graphc.index_select(w, 0, idx.reshape(-1)).reshape(2, 3, 3).sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=10)
    np.testing.assert_array_equal(w.grad.numpy(), np.repeat(counts[:, None], 3, 1))


# ---- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("index, error, match", [
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -9), IndexError, "index -9 is out of bounds for dimension 1 with size 4"),
    (0.5, IndexError, "valid indices"),
    ((0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ((Ellipsis, 0, Ellipsis), IndexError, "single ellipsis"),
    (graphc.tensor([True, False]), IndexError, "shape of the mask"),
    (graphc.tensor([1.0]), IndexError, "long, int, byte or bool"),
])
def test_bad_indices(index, error, match):
    with pytest.raises(error, match=match):
        _arange(3, 4)[index]


def test_zero_dim_tensor_index_error():
    with pytest.raises(IndexError, match="0-dim"):
        graphc.tensor(1.0)[0]


def test_shape_errors_name_the_op_and_shapes():
    x = _arange(3, 4)
    with pytest.raises(graphc.ShapeError, match=r"graphc.IndexPut: shape mismatch.*\[3\].*\[2, 4\].*f32\[3,4\]"):
        x[:2] = graphc.ones(3)
    with pytest.raises(graphc.ShapeError, match=r"GatherElements: .*same number of dimensions.*i64\[3\]"):
        x.gather(1, graphc.tensor([0, 1, 2]))
    with pytest.raises(graphc.ShapeError, match=r"TopK: .*k=5"):
        x.topk(5)
    with pytest.raises(graphc.ShapeError, match="Trilu"):
        graphc.ones(3).tril()


def test_out_of_range_index_tensor_names_the_op():
    with pytest.raises(graphc.ShapeError, match="graphc.Index.*out of bounds"):
        _arange(3, 4)[graphc.tensor([0, 3])]


# ---- data-dependent shapes -------------------------------------------------------------------

class _Recorder:
    def record(self, op, attrs, inputs, outs):
        pass

    def on_concrete_use(self, tensor, what):
        pass


def test_mask_shape_rule_needs_values():
    types = [TensorType((3, 4), graphc.float32), TensorType((3, 4), graphc.bool)]
    with pytest.raises(ValueError, match="depends on the mask's values"):
        INDEX.infer(types, spec=(("mask", 0, None),))
    assert INDEX.infer(types, spec=(("mask", 0, 5),))[0].shape == (5,)
    x = graphc.Tensor._abstract(types[0])
    mask = graphc.Tensor._abstract(types[1])
    STATE.recorder = _Recorder()
    try:
        with pytest.raises(graphc.ShapeError, match="graphc.Index: .*mask's values"):
            x[mask]
        with pytest.raises(graphc.ShapeError, match="graphc.NonZero: .*concrete data"):
            graphc.nonzero(x)
        assert x[1:, None][..., 0].shape == (2, 1)  # basic indexing traces without data
    finally:
        STATE.recorder = None


def test_a_mask_with_a_different_count_is_rejected():
    x = _arange(2, 2)
    with pytest.raises(graphc.ShapeError, match="built for 1"):
        dispatch(INDEX, [x, graphc.tensor([[True, True], [False, False]])],
                 {"spec": (("mask", 0, 1),)})


def test_nonzero_and_one_arg_where():
    x = graphc.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]]
    rows, cols = graphc.where(x > 0)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert graphc.nonzero(graphc.tensor(3.0)).shape == (1, 0)


def test_one_hot():
    assert one_hot(graphc.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(graphc.ShapeError, match="smaller than num_classes"):
        one_hot(graphc.tensor([3]), 3)


# ---- sorting -----------------------------------------------------------------------------------

def test_sort_is_stable_both_ways_and_returns_named_tuples():
    x = graphc.tensor([1, 0, 1, 0])
    up = graphc.sort(x)
    assert up.indices.tolist() == [1, 3, 0, 2] and up.values.tolist() == [0, 0, 1, 1]
    assert x.sort(descending=True).indices.tolist() == [0, 2, 1, 3]
    assert x.argsort(descending=True).tolist() == [0, 2, 1, 3]
    top = graphc.randn(50).topk(3)
    assert top.values.shape == (3,) and top.indices.dtype is graphc.int64


def test_topk_partition_path_matches_a_full_sort():
    a = np.random.default_rng(0).standard_normal((4, 100))
    x = graphc.tensor(a)
    values, indices = x.topk(5, dim=1)
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-a, axis=1)[:, :5])
    np.testing.assert_array_equal(values.numpy(), -np.sort(-a, axis=1)[:, :5])


# ---- agreement with NumPy ----------------------------------------------------------------------

def _positive_steps(index):
    def fix(e):
        return slice(e.start, e.stop, -e.step) if isinstance(e, slice) and e.step is not None and e.step < 0 else e

    return tuple(map(fix, index)) if isinstance(index, tuple) else fix(index)


@st.composite
def _basic_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return shape, _positive_steps(index)


@settings(max_examples=300, deadline=None)
@given(_basic_case())
def test_basic_indexing_matches_numpy(case):
    shape, index = case
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    x = graphc.tensor(a)
    y = x[index]
    expect = a[index]
    assert tuple(y.shape) == np.shape(expect)
    np.testing.assert_array_equal(y.numpy(), expect)
    if y.numel():
        assert np.shares_memory(y.numpy(), x.numpy())
    spec, _ = _parse(x, index)
    assert INDEX.infer([x.type], spec=spec)[0].shape == np.shape(expect)


@settings(max_examples=200, deadline=None)
@given(_basic_case(), st.integers(0, 2**16))
def test_basic_setitem_matches_numpy(case, seed):
    shape, index = case
    a = np.zeros(shape, np.float32)
    target = a[index]
    value = np.random.default_rng(seed).standard_normal(np.shape(target)[1:]).astype(np.float32)
    x = graphc.tensor(a)
    x[index] = graphc.tensor(value)
    a[index] = value
    np.testing.assert_array_equal(x.numpy(), a)


@st.composite
def _advanced_case(draw):
    """Tensor and slice entries only: there NumPy's rule and PyTorch's agree."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    index = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        if draw(st.booleans()):
            index.append(draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1))))
        else:
            index.append(slice(draw(st.integers(0, n)), None, draw(st.integers(1, 2))))
    return shape, tuple(index)


@settings(max_examples=200, deadline=None)
@given(_advanced_case())
def test_advanced_indexing_and_gradient_match_numpy(case):
    shape, index = case
    a = np.random.default_rng(0).standard_normal(shape)
    x = graphc.tensor(a, requires_grad=True)
    as_tensors = tuple(graphc.tensor(e) if isinstance(e, np.ndarray) else e for e in index)
    y = x[as_tensors]
    np.testing.assert_array_equal(y.detach().numpy(), a[index])
    (y * 2).sum().backward()
    expect = np.zeros(shape)
    np.add.at(expect, index, 2.0)
    np.testing.assert_allclose(x.grad.numpy(), expect)


@st.composite
def _mixed_case(draw):
    """Ints, slices, None, bools, index tensors and masks together: PyTorch's own rule."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    index, dim = [], 0
    while dim < len(shape) and draw(st.integers(0, 6)):
        n = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "bool", "tensor", "mask"]))
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            index.append(slice(draw(st.integers(-n, n)), draw(st.integers(-n, n + 1)), draw(st.integers(1, 2))))
        elif kind == "none":
            index.append(None)
            continue
        elif kind == "bool":
            index.append(draw(st.booleans()))
            continue
        elif kind == "tensor":
            ishape = draw(st.sampled_from([(), (1,), (2,), (2, 1)]))
            index.append(("tensor", draw(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)))))
        else:
            k = draw(st.integers(1, len(shape) - dim))
            index.append(("mask", draw(hnp.arrays(np.bool_, shape[dim:dim + k]))))
            dim += k - 1
        dim += 1
    return shape, index


@settings(max_examples=300, deadline=None)
@given(_mixed_case())
def test_mixed_indexing_and_gradient_match_pytorch(case):
    torch = pytest.importorskip("torch")
    shape, index = case
    a = np.random.default_rng(0).standard_normal(shape)

    def run(m):
        x = m.tensor(a, requires_grad=True)
        y = x[tuple(m.tensor(e[1]) if isinstance(e, tuple) else e for e in index)]
        (y * m.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    try:
        y_ref, grad_ref = run(torch)
    except (IndexError, RuntimeError):  # e.g. index tensors that do not broadcast together
        with pytest.raises((IndexError, RuntimeError)):
            run(graphc)
        return
    y, grad = run(graphc)
    assert y.shape == y_ref.shape
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_allclose(grad, grad_ref)
