"""graphc.nn.functional: ``torch.nn.functional`` with PyTorch's signatures and defaults.

Convolution, pooling, softmax, dropout, batch norm, NLL and constant padding are registry ops
(graphc/ops/conv.py, pool.py, softmax.py, dropout.py, norm.py, loss.py, pad.py); the functions
here turn PyTorch's arguments (ints or tuples, padding='same', legacy size_average/reduce) into
op attributes. Everything else, losses and normalisations
included, is a composition of graphc ops, so it is differentiable to any order and traces as such.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.composite import fused
from ..dispatch import dispatch
from ..ops import elementwise as ew
from ..ops import softmax as sm
from ..ops.base import broadcast_shapes
from ..ops.conv import CONV
from ..ops.dropout import DROPOUT
from ..ops.gather import GATHER, index_select, one_hot
from ..ops.linalg import linear
from ..ops.loss import NLL
from ..ops.norm import BATCH_NORM
from ..ops.pad import PAD
from ..ops.pool import ADAPTIVE_AVG_POOL, AVG_POOL, GLOBAL_AVG_POOL, MAX_POOL, avg_pool_divisor
from ..ops.reduce import amax, mean, sum as _sum
from ..ops.shape import chunk, expand, flatten, reshape, squeeze, unsqueeze
from ..tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d",
    "relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "silu", "mish", "sigmoid", "tanh",
    "softplus", "softsign", "logsigmoid", "hardtanh", "hardsigmoid", "hardswish", "threshold", "glu",
    "softmax", "log_softmax", "softmin", "dropout", "dropout1d", "dropout2d", "dropout3d", "batch_norm",
    "layer_norm", "group_norm", "normalize", "cosine_similarity", "embedding", "one_hot", "pad", "linear",
    "flatten", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _const(array) -> Tensor:
    return Tensor._make(np.asarray(array))


def _ntuple(value, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (int(value[0]),) * n
        if len(value) != n:
            raise ValueError(f"expected {name} to be a single int or a tuple of {n} ints, got {value}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _batched(input: Tensor, nd: int, name: str):
    """(input with a batch dim, whether one was added): PyTorch accepts unbatched inputs."""
    if input.ndim == nd + 1:
        return unsqueeze(input, 0), True
    if input.ndim != nd + 2:
        raise RuntimeError(f"{name}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got "
                           f"input of size: {list(input.shape)}")
    return input, False


def _unbatch(t: Tensor, added: bool) -> Tensor:
    return squeeze(t, 0) if added else t


def _apply(fn, input: Tensor, inplace: bool, composite: bool = False) -> Tensor:
    """fn(input), written into input when inplace. A composite fn may save input for the backward
    of one of its inner ops, so under autograd it reads a copy (for a single op, _set_from already
    hands that op the old value)."""
    if not inplace:
        return fn(input)
    input._check_inplace()
    src = input.clone() if composite and input.requires_grad and is_grad_enabled() else input
    return input._set_from(fn(src))


# ---- convolution --------------------------------------------------------------------------------

def _conv_pads(padding, weight: Tensor, stride, dilation, nd: int) -> tuple[int, ...]:
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * nd)
        if padding != "same":
            raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
        return tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total)
    p = _ntuple(padding, nd, "padding")
    return p + p


def _conv(nd, input, weight, bias, stride, padding, dilation, groups):
    stride, dilation = _ntuple(stride, nd, "stride"), _ntuple(dilation, nd, "dilation")
    x, added = _batched(input, nd, f"conv{nd}d")
    attrs = {"kernel_shape": tuple(weight.shape[2:]), "strides": stride,
             "pads": _conv_pads(padding, weight, stride, dilation, nd), "dilations": dilation,
             "group": int(groups)}
    y = dispatch(CONV, [x, weight] + ([bias] if bias is not None else []), attrs)
    return _unbatch(y, added)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


# ---- pooling ------------------------------------------------------------------------------------

def _pool_attrs(nd, kernel_size, stride, padding, ceil_mode):
    k = _ntuple(kernel_size, nd, "kernel_size")
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    s = k if no_stride else _ntuple(stride, nd, "stride")
    p = _ntuple(padding, nd, "padding")
    return {"kernel_shape": k, "strides": s, "pads": p + p, "ceil_mode": int(bool(ceil_mode))}


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    attrs = _pool_attrs(nd, kernel_size, stride, padding, ceil_mode)
    attrs["dilations"] = _ntuple(dilation, nd, "dilation")
    for p, k, d in zip(attrs["pads"], attrs["kernel_shape"], attrs["dilations"]):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    x, added = _batched(input, nd, f"max_pool{nd}d")
    y, flat = dispatch(MAX_POOL, [x], attrs)
    if not return_indices:
        return _unbatch(y, added)
    return _unbatch(y, added), _unbatch(_plane_index(flat, x), added)


def _plane_index(flat: Tensor, x: Tensor) -> Tensor:
    """MaxPool's Indices (flat into the whole input) as PyTorch's: flat within each (n, c) plane."""
    n, c = x.shape[:2]
    base = np.arange(n * c, dtype=np.int64).reshape((n, c) + (1,) * (x.ndim - 2)) * int(np.prod(x.shape[2:]))
    return ew.sub(flat, _const(base))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
    attrs = _pool_attrs(nd, kernel_size, stride, padding, ceil_mode)
    for p, k in zip(attrs["pads"], attrs["kernel_shape"]):
        if p > k // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation=1")
    x, added = _batched(input, nd, f"avg_pool{nd}d")
    attrs["count_include_pad"] = int(bool(count_include_pad))
    y = dispatch(AVG_POOL, [x], attrs)
    if divisor_override:
        divisor = avg_pool_divisor(tuple(x.shape), attrs, x.dtype.np)
        y = ew.mul(y, _const(divisor / np.asarray(divisor_override, x.dtype.np)))
    return _unbatch(y, added)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_size(output_size, spatial) -> tuple[int, ...]:
    out = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * len(spatial)
    if len(out) != len(spatial):
        raise ValueError(f"output_size {output_size} must have {len(spatial)} elements")
    return tuple(int(n) if o is None else int(o) for o, n in zip(out, spatial))


def _adaptive_avg_pool(nd, input, output_size):
    x, added = _batched(input, nd, f"adaptive_avg_pool{nd}d")
    spatial = tuple(x.shape[2:])
    out = _adaptive_size(output_size, spatial)
    if all(o == 1 for o in out):
        y = dispatch(GLOBAL_AVG_POOL, [x], {})
    elif all(n % o == 0 for n, o in zip(spatial, out)):  # equal bins: a plain AveragePool
        k = tuple(n // o for n, o in zip(spatial, out))
        y = dispatch(AVG_POOL, [x], {"kernel_shape": k, "strides": k, "pads": (0,) * (2 * nd),
                                         "ceil_mode": 0, "count_include_pad": 0})
    else:
        y = dispatch(ADAPTIVE_AVG_POOL, [x], {"output_size": out})
    return _unbatch(y, added)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(3, input, output_size)


def _adaptive_max_pool(nd, input, output_size, return_indices):
    """Bins of unequal size are made equal by gathering each bin's rows (the last one repeated to
    the longest bin's length); then one MaxPool with kernel = stride = that length. Its indices map
    back through the gathered positions."""
    x, added = _batched(input, nd, f"adaptive_max_pool{nd}d")
    spatial = tuple(x.shape[2:])
    out = _adaptive_size(output_size, spatial)
    source, kernel = np.zeros((), np.int64), []
    for axis, (n, o) in enumerate(zip(spatial, out), 2):
        i = np.arange(o)
        start, stop = (i * n) // o, -((-(i + 1) * n) // o)
        length = int((stop - start).max())
        rows = np.minimum(start[:, None] + np.arange(length), stop[:, None] - 1).reshape(-1)
        if n % o:
            x = index_select(x, axis, _const(rows))
        source = source[..., None] * n + rows
        kernel.append(length)
    attrs = {"kernel_shape": tuple(kernel), "strides": tuple(kernel), "pads": (0,) * (2 * nd), "ceil_mode": 0,
             "dilations": None}
    y, flat = dispatch(MAX_POOL, [x], attrs)
    if not return_indices:
        return _unbatch(y, added)
    index = dispatch(GATHER, [_const(source.reshape(-1)), _plane_index(flat, x)], {"axis": 0})
    return _unbatch(y, added), _unbatch(index, added)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_pool(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(3, input, output_size, return_indices)


# ---- activations --------------------------------------------------------------------------------

def relu(input, inplace=False):
    return _apply(ew.relu, input, inplace)


def relu6(input, inplace=False):
    return _apply(ew.relu6, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _apply(lambda x: ew.leaky_relu(x, negative_slope), input, inplace)


def elu(input, alpha=1.0, inplace=False):
    return _apply(lambda x: ew.elu(x, alpha), input, inplace, composite=True)


def celu(input, alpha=1.0, inplace=False):
    def fn(x):
        return ew.where(ew.gt(x, 0), x, ew.mul(ew.expm1(ew.div(ew.minimum(x, 0), alpha)), alpha))

    return _apply(fn, input, inplace, composite=True)


def selu(input, inplace=False):
    return _apply(lambda x: ew.mul(ew.elu(x, _SELU_ALPHA), _SELU_SCALE), input, inplace, composite=True)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return ew.gelu(input, approximate)


def silu(input, inplace=False):
    return _apply(ew.silu, input, inplace, composite=True)


def mish(input, inplace=False):
    return _apply(lambda x: ew.mul(x, ew.tanh(ew.softplus(x))), input, inplace, composite=True)


def sigmoid(input):
    return ew.sigmoid(input)


def tanh(input):
    return ew.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    return ew.softplus(input, beta, threshold)


def softsign(input):
    return ew.div(input, ew.add(ew.abs(input), 1))


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|."""
    return ew.sub(ew.minimum(input, 0), ew.log1p(ew.exp(ew.neg(ew.abs(input)))))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _apply(lambda x: ew.hardtanh(x, min_val, max_val), input, inplace)


def hardsigmoid(input, inplace=False):
    return _apply(lambda x: ew.div(ew.relu6(ew.add(x, 3)), 6), input, inplace, composite=True)


def hardswish(input, inplace=False):
    return _apply(lambda x: ew.mul(x, ew.div(ew.relu6(ew.add(x, 3)), 6)), input, inplace, composite=True)


def threshold(input, threshold, value, inplace=False):
    return _apply(lambda x: ew.where(ew.gt(x, threshold), x, value), input, inplace)


def glu(input, dim=-1):
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    a, b = chunk(input, 2, dim)
    return ew.mul(a, ew.sigmoid(b))


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return sm.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return sm.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return sm.softmax(ew.neg(input), dim, dtype)


# ---- dropout ------------------------------------------------------------------------------------

def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if not training or p == 0:
        return input
    attrs = {"ratio": float(p), "training_mode": 1, "seed": None}
    return _apply(lambda x: dispatch(DROPOUT, [x], attrs)[0], input, inplace)


def _feature_dropout(input, p, training, inplace, nd):
    """Zero whole channels: a Dropout mask drawn per (N, C) and broadcast over the spatial dims."""
    _check_p(p)
    if not training or p == 0:
        return input
    batched = input.ndim == nd + 2 or (nd == 2 and input.ndim == 3)
    lead = tuple(input.shape[:2] if batched else input.shape[:1])
    keep = _const(np.ones(lead + (1,) * (input.ndim - len(lead)), input.dtype.np))
    scale, _ = dispatch(DROPOUT, [keep], {"ratio": float(p), "training_mode": 1, "seed": None})
    return _apply(lambda x: ew.mul(x, scale), input, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
                      "is the channel dim. This behavior will change in a future release to interpret "
                      "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
                      "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.")
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3)


# ---- normalisation ------------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """One BatchNormalization op; in training mode the running stats given are updated in place
    (under no_grad) from the batch mean and unbiased variance, as PyTorch does."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.ndim}D input)")
    c = input.shape[1]
    if training and input.numel() // max(c, 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be given in evaluation mode")
    def given(t, value):  # the op takes all five inputs; absent ones are constants it ignores or applies
        return t if t is not None else _const(np.full(c, value, input.dtype.np))

    inputs = [input, given(weight, 1), given(bias, 0), given(running_mean, 0), given(running_var, 1)]
    y, batch_mean, batch_var = dispatch(BATCH_NORM, inputs, {"epsilon": float(eps),
                                                                 "training_mode": int(bool(training))})
    if training:
        with no_grad():
            for running, stat in ((running_mean, batch_mean), (running_var, batch_var)):
                if running is not None:
                    running.copy_(ew.add(ew.mul(stat, momentum), ew.mul(running, 1 - momentum)))
    return y


def _normalize_last(x, dims, eps):
    m = mean(x, dims, keepdim=True)
    centered = ew.sub(x, m)
    var = mean(ew.mul(centered, centered), dims, keepdim=True)
    return ew.mul(centered, ew.rsqrt(ew.add(var, eps)))


def _affine(y, weight, bias):
    if weight is not None:
        y = ew.mul(y, weight)
    return ew.add(y, bias) if bias is not None else y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    y = _normalize_last(input, tuple(range(-len(shape), 0)), eps)
    return _affine(y, weight, bias)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(input.shape)} and num_groups={num_groups}")
    y = reshape(_normalize_last(reshape(input, (n, num_groups, -1)), (-1,), eps), tuple(input.shape))
    per = (c,) + (1,) * (input.ndim - 2)
    return _affine(y, None if weight is None else reshape(weight, per),
                   None if bias is None else reshape(bias, per))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    norm = _vector_norm(input, p, dim)
    y = ew.div(input, expand(ew.clamp(norm, min=eps), tuple(input.shape)))
    return ew._to_out(y, out)


def _vector_norm(x, p, dim):
    if p == 2:
        return ew.sqrt(_sum(ew.mul(x, x), dim, keepdim=True))
    if p == math.inf:
        return amax(ew.abs(x), dim, keepdim=True)
    if p == 1:
        return _sum(ew.abs(x), dim, keepdim=True)
    return ew.pow(_sum(ew.pow(ew.abs(x), p), dim, keepdim=True), 1.0 / p)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """PyTorch's formula: each input divided by its norm, the norms clamped to eps in value only
    (the gradient flows as if unclamped)."""
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    a, b = expand(x1, shape), expand(x2, shape)
    units = []
    for v in (a, b):
        n = _vector_norm(v, 2, dim)
        units.append(ew.div(v, ew.add(n, ew.sub(ew.clamp(n, min=eps), n).detach())))
    return _sum(ew.mul(*units), dim)


# ---- embeddings and padding -----------------------------------------------------------------------

def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` gathered by index (Gather). padding_idx and scale_grad_by_freq change only
    the gradient: the output is mixed with a detached copy of itself."""
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    out = reshape(index_select(weight, 0, reshape(input, (-1,))), tuple(input.shape) + (weight.shape[1],))
    if not weight.requires_grad:
        return out
    frozen = out.detach()
    if scale_grad_by_freq:  # each row's gradient divided by how often the batch uses it
        idx = input._concrete("embedding").astype(np.int64) % n
        factor = 1 / np.bincount(idx.reshape(-1), minlength=n)[idx]
        if padding_idx is not None:
            factor[idx == padding_idx] = 0
        return ew.add(frozen, ew.mul(ew.sub(out, frozen), _const(factor[..., None].astype(weight.dtype.np))))
    if padding_idx is not None:
        return ew.where(unsqueeze(ew.ne(input, padding_idx), -1), out, frozen)
    return out


def _renorm_rows(weight, input, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows used by `input` with norm > max_norm are scaled down, in place."""
    rows = _const(np.unique(input._concrete("embedding").astype(np.int64)))
    with no_grad():
        picked = index_select(weight, 0, rows)
        norms = _vector_norm(picked, norm_type, 1)
        scale = ew.where(ew.gt(norms, max_norm), ew.div(max_norm, ew.add(norms, 1e-7)), 1.0)
        weight[rows] = ew.mul(picked, scale)


def _pad_index(n, begin, end, mode):
    """Source index of each padded position along one dim, for the non-constant modes."""
    i = np.arange(-begin, n + end)
    if mode == "reflect":
        if begin >= n or end >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({begin}, {end}) at dimension of input size {n}")
        period = 2 * (n - 1) if n > 1 else 1
        i = np.abs(i) % period
        return np.where(i >= n, period - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        if begin > n or end > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return i % n
    raise NotImplementedError(f"pad: mode {mode!r} is not supported (constant, reflect, replicate, circular)")


def pad(input, pad, mode="constant", value=None):
    """PyTorch order: pad = (last-dim begin, last-dim end, next-to-last begin, ...). Constant mode is
    the Pad op; the others gather the reflected/replicated/wrapped index along each padded dim."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {input.ndim}")
    pairs = {input.ndim - 1 - i: (int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(k)}
    if mode == "constant":
        begins = tuple(pairs.get(d, (0, 0))[0] for d in range(input.ndim))
        ends = tuple(pairs.get(d, (0, 0))[1] for d in range(input.ndim))
        return dispatch(PAD, [input], {"pads": begins + ends, "mode": "constant",
                                           "value": float(value or 0)})
    if value:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    out = input
    for d, (b, e) in sorted(pairs.items()):
        out = index_select(out, d, _const(_pad_index(input.shape[d], b, e, mode)))
    return out


# ---- losses -----------------------------------------------------------------------------------

def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                  "instead.")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return _sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _fused_loss(name, fn, input, target, weight=None):
    """fn(input, target[, weight]) shown as PyTorch's single grad_fn `name`."""
    return fused(name, fn, *(input, target) + (() if weight is None else (weight,)))


def _pointwise(input, target, reduction, weight, fn, weighted_mean_by_weight=True):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)
    loss = fn(ew.sub(input, target))
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = ew.mul(loss, weight)
    if reduction == "mean" and weighted_mean_by_weight:
        return ew.div(_sum(loss), _sum(weight))
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    return _fused_loss("MseLossBackward0", lambda x, t, w=None: _pointwise(
        x, t, reduction, w, lambda d: ew.mul(d, d)), input, target, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return _pointwise(input, target, _reduction(size_average, reduce, reduction), weight, ew.abs)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    def loss(d):
        a = ew.abs(d)
        if beta == 0:
            return a
        return ew.where(ew.lt(a, beta), ew.div(ew.mul(ew.mul(d, d), 0.5), beta), ew.sub(a, 0.5 * beta))

    reduction = _reduction(size_average, reduce, reduction)
    return _fused_loss("SmoothL1LossBackward0", lambda x, t: _pointwise(x, t, reduction, None, loss),
                       input, target)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    def loss(d):
        a = ew.abs(d)
        return ew.where(ew.lt(a, delta), ew.mul(ew.mul(d, d), 0.5), ew.mul(ew.sub(a, 0.5 * delta), delta))

    return _fused_loss("HuberLossBackward0", lambda x, t, w=None: _pointwise(
        x, t, reduction, w, loss, weighted_mean_by_weight=False), input, target, weight)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = unsqueeze(input, 0), unsqueeze(target, 0)
    attrs = {"reduction": reduction, "ignore_index": int(ignore_index)}
    loss = dispatch(NLL, [input, target] + ([weight] if weight is not None else []), attrs)
    return squeeze(loss, 0) if unbatched and reduction == "none" else loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax + NLL for class indices; -sum(p * log_softmax) for class probabilities; with
    label smoothing mixed in as PyTorch does."""
    reduction = _reduction(size_average, reduce, reduction)
    cdim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[cdim]
    logp = sm.log_softmax(input, cdim)
    wb = None if weight is None else reshape(weight, (n_classes,) + (1,) * (input.ndim - cdim - 1))
    if target.dtype.is_floating_point:
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = ew.add(ew.mul(target, 1 - label_smoothing), label_smoothing / n_classes)
        terms = ew.mul(logp, target)
        loss = ew.neg(_sum(terms if wb is None else ew.mul(terms, wb), cdim))
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    ignored = ew.eq(target, ignore_index)
    smooth = ew.neg(_sum(logp if wb is None else ew.mul(logp, wb), cdim))
    smooth = ew.where(ignored, 0.0, smooth)
    if reduction == "mean":
        if weight is None:
            total = ew.cast(_sum(ew.logical_not(ignored)), input.dtype)
        else:
            safe = ew.where(ignored, 0, target)
            picked = reshape(index_select(weight, 0, reshape(safe, (-1,))), tuple(target.shape))
            total = _sum(ew.where(ignored, 0.0, picked))
        smooth = ew.div(_sum(smooth), total)
    else:
        smooth = _reduce(smooth, reduction)
    return ew.add(ew.mul(nll, 1 - label_smoothing), ew.mul(smooth, label_smoothing / n_classes))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) with each log clamped at -100, as PyTorch."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    return _fused_loss("BinaryCrossEntropyBackward0", lambda x, t, w=None: _bce(x, t, w, reduction),
                       input, target, weight)


def _bce(input, target, weight, reduction):
    log_x = ew.clamp(ew.log(input), min=-100)
    log_1mx = ew.clamp(ew.log(ew.rsub(input, 1)), min=-100)
    loss = ew.neg(ew.add(ew.mul(target, log_x), ew.mul(ew.rsub(target, 1), log_1mx)))
    if weight is not None:
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """(1 - t) x - w_pos(t) log(sigmoid(x)), with log(sigmoid) computed stably."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if weight is not None or pos_weight is not None:
        return _bce_with_logits(input, target, weight, pos_weight, reduction)
    return _fused_loss("BinaryCrossEntropyWithLogitsBackward0",
                       lambda x, t: _bce_with_logits(x, t, None, None, reduction), input, target)


def _bce_with_logits(input, target, weight, pos_weight, reduction):
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_sig = ew.mul(log_sig, ew.add(ew.mul(ew.sub(pos_weight, 1), target), 1))
    loss = ew.sub(ew.mul(ew.rsub(target, 1), input), log_sig)
    if weight is not None:
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = _reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support "
                      "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
                      "major release.")
    if log_target:
        loss = ew.mul(ew.exp(target), ew.sub(target, input))
    else:
        positive = ew.gt(target, 0)
        xlogx = ew.where(positive, ew.mul(target, ew.log(ew.where(positive, target, 1.0))), 0.0)
        loss = ew.sub(xlogx, ew.mul(target, input))
    if reduction == "batchmean":
        return ew.div(_sum(loss), input.shape[0]) if input.ndim else _sum(loss)
    return _reduce(loss, reduction)


# ---- more activations, distances and margin losses ---------------------------------------------

def tanhshrink(input):
    return ew.sub(input, ew.tanh(input))


def hardshrink(input, lambd=0.5):
    return ew.where(ew.gt(ew.abs(input), lambd), input, 0.0)


def softshrink(input, lambd=0.5):
    return ew.where(ew.gt(input, lambd), ew.sub(input, lambd),
                    ew.where(ew.lt(input, -lambd), ew.add(input, lambd), 0.0))


def prelu(input, weight):
    """Slope per channel (dim 1) when weight has more than one element."""
    w = weight
    if weight.numel() > 1 and input.ndim > 1:
        w = reshape(weight, (-1,) + (1,) * (input.ndim - 2))
    return ew.where(ew.gt(input, 0), input, ew.mul(w, input))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim, as PyTorch."""
    d = ew.add(ew.sub(x1, x2), eps)
    return squeeze(_vector_norm(d, p, -1), -1) if not keepdim else _vector_norm(d, p, -1)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = ew.clamp(ew.add(ew.mul(ew.neg(target), ew.sub(input1, input2)), margin), min=0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ew.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(ew.clamp(ew.add(ew.sub(d_pos, d_neg), margin), min=0), reduction)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Each sample's channels normalised over their spatial dims (batch statistics only)."""
    y = _normalize_last(input, tuple(range(2, input.ndim)), eps)
    per = (input.shape[1],) + (1,) * (input.ndim - 2)
    return _affine(y, None if weight is None else reshape(weight, per),
                   None if bias is None else reshape(bias, per))


from .resample import interpolate, pixel_shuffle, pixel_unshuffle, upsample  # noqa: E402

__all__ += ["tanhshrink", "hardshrink", "softshrink", "prelu", "pairwise_distance", "margin_ranking_loss",
            "triplet_margin_loss", "instance_norm", "interpolate", "upsample", "pixel_shuffle",
            "pixel_unshuffle"]
