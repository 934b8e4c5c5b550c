"""F.interpolate (nearest, linear/bilinear/trilinear, area) and pixel (un)shuffle, as compositions.

Resizing is separable: along each spatial dim the output gathers input rows (index_select) and, for
the linear modes, blends two neighbours with constant weights. Indices and weights follow PyTorch's
source-index rules (float32 `floor(i * scale)` for nearest; half-pixel centres clamped at 0, or
align_corners), so results match PyTorch and gradients flow through Gather and Mul.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..ops import elementwise as ew
from ..ops.gather import index_select
from ..ops.shape import permute, reshape
from ..tensor import Tensor

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(array)


def _output_size(spatial, size, scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of {list(out)}. "
                             "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                             "in (o1, o2, ...,oK) format.")
        return tuple(int(o) for o in out), (None,) * nd
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                         f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                         f"{list(scales)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         "scale_factor in (s1, s2, ...,sK) format.")
    return tuple(int(math.floor(n * float(s))) for n, s in zip(spatial, scales)), tuple(float(s) for s in scales)


def _nearest_index(n: int, o: int, scale) -> np.ndarray:
    s = np.float32(1.0 / scale) if scale is not None else np.float32(n) / np.float32(o)
    idx = np.floor(np.arange(o, dtype=np.float32) * s).astype(np.int64)
    return np.minimum(idx, n - 1)


def _linear_taps(n: int, o: int, scale, align_corners: bool):
    """Two source indices and their weights per output position along one dim."""
    i = np.arange(o, dtype=np.float64)
    if align_corners:
        src = i * ((n - 1) / (o - 1)) if o > 1 else np.zeros(o)
    else:
        s = (1.0 / scale) if scale is not None else n / o
        src = np.maximum((i + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w1 = src - i0
    return i0, i1, 1.0 - w1, w1


def _along(x: Tensor, dim: int, values: np.ndarray) -> Tensor:
    """A per-position constant shaped to broadcast along `dim` of x."""
    shape = [1] * x.ndim
    shape[dim] = values.shape[0]
    return _const(values.astype(x.dtype.np).reshape(shape))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
                         f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                         f"(got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")
    spatial = tuple(input.shape[2:])
    out, scales = _output_size(spatial, size, scale_factor, nd)
    if recompute_scale_factor:
        scales = (None,) * nd
    if mode == "area":
        from .functional import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, out)
    x = input
    for k, (n, o, s) in enumerate(zip(spatial, out, scales)):
        d = 2 + k
        if mode == "nearest":
            if n != o:
                x = index_select(x, d, _const(_nearest_index(n, o, s)))
        elif mode in _LINEAR:
            if align_corners is None:
                align_corners = False
            i0, i1, w0, w1 = _linear_taps(n, o, s, align_corners)
            x = ew.add(ew.mul(index_select(x, d, _const(i0)), _along(x, d, w0)),
                       ew.mul(index_select(x, d, _const(i1)), _along(x, d, w1)))
        else:
            raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by graphc "
                                      "(nearest, linear, bilinear, trilinear, area)")
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor: int):
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    b = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = permute(x, tuple(range(b)) + (b, b + 3, b + 1, b + 4, b + 2))
    return reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    b = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, tuple(range(b)) + (b, b + 2, b + 4, b + 1, b + 3))
    return reshape(x, (*lead, c * r * r, h // r, w // r))
