"""graphc's tensor repr must equal PyTorch's character for character, dtypes named graphc.*.

Random arrays come from hypothesis-drawn recipes (dtype, shape, value kind, seed) built with a
NumPy generator, so arrays far over the summarization threshold stay cheap to draw and shrink.
"""
import importlib
import math
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

from graphc import dtypes, printing  # noqa: E402


def _maker():
    """Real graphc tensors when the package imports; otherwise a stand-in with the same fields."""
    try:
        graphc = importlib.import_module("graphc")
        return getattr(graphc, "Tensor", None) or importlib.import_module("graphc.tensor").Tensor
    except Exception:  # the package around printing.py is being written at the same time
        return None


_Tensor = _maker()


def make(arr, requires_grad=False, grad_fn=None):
    if _Tensor is not None and not requires_grad and grad_fn is None:
        return _Tensor._make(arr)
    return types.SimpleNamespace(_value=arr, _aval=None, dtype=dtypes.from_numpy(arr.dtype),
                                 requires_grad=requires_grad, grad_fn=grad_fn,
                                 is_leaf=grad_fn is None)


def _graphc_str(obj, *args):
    """``str`` as torch/_tensor_str.py sees it in these tests: dtypes print with graphc's name."""
    if isinstance(obj, torch.dtype):
        return "graphc." + repr(obj).split(".")[-1]
    return str(obj, *args)


def torch_repr(arr_or_tensor):
    """PyTorch's repr, produced as if its dtypes were named ``graphc.*``.

    Replacing 'torch.' afterwards is not enough: 'dtype=graphc.float16' is one character longer
    than 'dtype=torch.float16', which can move the suffix to its own line. So PyTorch's own
    printer is made to write graphc's name (it looks up ``str`` as a module global).
    """
    t = arr_or_tensor
    if not isinstance(t, torch.Tensor):
        t = torch.from_numpy(np.array(t, copy=True))
    torch._tensor_str.str = _graphc_str
    try:
        return repr(t)
    finally:
        del torch._tensor_str.str


@pytest.fixture(autouse=True)
def default_options():
    """Both libraries start every test from the defaults and are left there afterwards."""
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    yield
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def check(arr):
    got, want = printing.tensor_repr(make(arr)), torch_repr(arr)
    assert got == want, f"\n--- graphc\n{got}\n--- torch\n{want}"


# -- the cases named in the spec, as literal PyTorch output --------------------------------
GOLDEN = [
    (np.float32(3.5), "tensor(3.5000)"),
    (np.array([], np.float32), "tensor([])"),
    (np.zeros((0, 3), np.float32), "tensor([], size=(0, 3))"),
    (np.array([], np.int64), "tensor([], dtype=graphc.int64)"),
    (np.array([1, -2, 300]), "tensor([  1,  -2, 300])"),
    (np.array([True, False]), "tensor([ True, False])"),
    (np.array([1.0, 2.0], np.float32), "tensor([1., 2.])"),
    (np.array([1e-5, 1e5], np.float32), "tensor([1.0000e-05, 1.0000e+05])"),
    (np.array([np.nan, np.inf, -np.inf, 1.5], np.float32), "tensor([   nan,    inf,   -inf, 1.5000])"),
    (np.array([1.0, 2.0]), "tensor([1., 2.], dtype=graphc.float64)"),
    (np.array([1, 2], np.int32), "tensor([1, 2], dtype=graphc.int32)"),
    (np.array([0.5], np.float16), "tensor([0.5000], dtype=graphc.float16)"),
]


@pytest.mark.parametrize("arr, text", GOLDEN, ids=[t for _, t in GOLDEN])
def test_golden(arr, text):
    arr = np.asarray(arr)
    assert printing.tensor_repr(make(arr)) == text
    # the literal really is what PyTorch prints
    assert repr(torch.from_numpy(arr)).replace("torch.", "graphc.") == text


FIXED = [
    np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5,
    np.arange(2000, dtype=np.float32),  # summarized 1-d
    np.arange(24 * 50, dtype=np.int64).reshape(2, 3, 4, 50),  # summarized 4-d
    np.linspace(-1e3, 1e3, 40).astype(np.float32),  # wraps at linewidth
    np.full((2, 2), -0.0, np.float32),
    np.array([np.nan, 0.0], np.float32),
    np.array(1e300),
    np.array([65504, 1e-7], np.float16),
    np.array(-7, np.int32),
    np.array(True),
    np.zeros((2, 0, 3), np.bool_),
    np.array([255, 0], np.uint8),
    np.array([1e308, 5e-324, -1.7e308]),  # max/min overflows float64: must not warn
]


@pytest.mark.parametrize("arr", FIXED, ids=range(len(FIXED)))
def test_fixed_cases(arr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # printing must never warn
        check(arr)


# -- random arrays ---------------------------------------------------------------------------
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]
KINDS = ["logmag", "intvalued", "special", "narrow"]


@st.composite
def recipes(draw):
    ndim = draw(st.integers(0, 4))
    big = draw(st.booleans())  # crosses the default threshold of 1000
    hi = {1: 3000, 2: 60, 3: 15, 4: 8}.get(ndim, 1) if big else {1: 12, 2: 6, 3: 4, 4: 3}.get(ndim, 1)
    shape = tuple(draw(st.lists(st.integers(0 if draw(st.booleans()) else 1, hi),
                                min_size=ndim, max_size=ndim)))
    return dict(shape=shape, dtype=draw(st.sampled_from(DTYPES)), kind=draw(st.sampled_from(KINDS)),
                lo=draw(st.integers(-8, 8)), span=draw(st.integers(0, 16)),
                seed=draw(st.integers(0, 2**32 - 1)))


def build(shape, dtype, kind, lo, span, seed):
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        bound = min(10.0 ** abs(lo), float(info.max))
        return rng.uniform(max(-bound, info.min), bound, shape).astype(dtype)
    mags = 10.0 ** rng.uniform(lo, min(lo + span, 8), n)  # magnitudes 1e-8 .. 1e8
    if kind == "intvalued":
        mags = np.round(mags)
    elif kind == "narrow":
        mags = 10.0 ** lo * (1 + rng.random(n))
    vals = mags * rng.choice([-1.0, 1.0], n)
    if kind == "special":
        specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
        mask = rng.random(n) < 0.3
        vals[mask] = rng.choice(specials, mask.sum())
    with np.errstate(over="ignore"):  # float16 overflows to inf on purpose
        return vals.astype(dtype).reshape(shape)


@settings(max_examples=300, deadline=None)
@given(recipes())
def test_random_arrays_match_torch(recipe):
    check(build(**recipe))


OPTIONS = st.fixed_dictionaries({
    "precision": st.integers(0, 8), "threshold": st.integers(0, 60), "edgeitems": st.integers(0, 4),
    "linewidth": st.integers(10, 120), "sci_mode": st.sampled_from([None, True, False])})


@settings(max_examples=200, deadline=None)
@given(recipes(), OPTIONS)
def test_random_arrays_with_printoptions(recipe, opts):
    printing.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    check(build(**recipe))


@pytest.mark.parametrize("profile", ["short", "full", "default"])
def test_profiles(profile):
    printing.set_printoptions(profile=profile)
    torch.set_printoptions(profile=profile)
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    check(np.linspace(-3, 3, 1500).astype(np.float32))


def test_set_printoptions_resets_sci_mode_like_torch():
    printing.set_printoptions(sci_mode=True)
    printing.set_printoptions(precision=2)
    assert printing.get_printoptions()["sci_mode"] is None
    with printing.printoptions(precision=1):
        assert printing.tensor_repr(make(np.array([1.25], np.float32))) == "tensor([1.2])"
    assert printing.get_printoptions()["precision"] == 2


# -- autograd suffixes -------------------------------------------------------------------------
class _Node:
    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


def test_requires_grad_suffix():
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(leaf) == "tensor([1., 2.], requires_grad=True)"
    got = printing.tensor_repr(make(np.array([1.0, 2.0], np.float32), requires_grad=True))
    assert got == repr(leaf)


def test_grad_fn_suffix_and_order_after_dtype():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x.mean()) == "tensor(1.5000, grad_fn=<MeanBackward0>)"
    y = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True) + 1
    assert repr(y) == "tensor([2., 3.], dtype=torch.float64, grad_fn=<AddBackward0>)"
    got = printing.tensor_repr(make(np.array(1.5, np.float32), requires_grad=True,
                                    grad_fn=_Node("MeanBackward0")))
    assert got == "tensor(1.5000, grad_fn=<MeanBackward0>)"
    got = printing.tensor_repr(make(np.array([2.0, 3.0]), requires_grad=True,
                                    grad_fn=_Node("AddBackward0")))
    assert got == repr(y).replace("torch.", "graphc.")


def test_suffix_wraps_to_new_line_like_torch():
    base = torch.linspace(-1e3, 1e3, 36, dtype=torch.float64, requires_grad=True)
    y = base * 1
    want = torch_repr(y)
    assert "\n       dtype=" in want  # the case under test: the suffixes wrapped
    arr = y.detach().numpy()
    assert printing.tensor_repr(make(arr, True, _Node("MulBackward0"))) == want


def test_symbolic_tensor():
    from graphc.ir.types import TensorType

    t = types.SimpleNamespace(_value=None, _aval=TensorType((2, 3), dtypes.float32),
                              dtype=dtypes.float32, requires_grad=False, grad_fn=None)
    assert printing.tensor_repr(t) == "tensor(<symbolic f32[2,3]>)"
