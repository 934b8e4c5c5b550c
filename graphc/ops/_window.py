"""Kernel-window geometry shared by convolution (conv.py) and pooling (pool.py).

Both read their input through strided NumPy views of a padded copy (one view per kernel tap, or
all taps at once for im2col), so there are no index arrays and no Python loop over elements or
batch; the only loops are over kernel taps and over cache-sized batch blocks. `_Windows` holds
that geometry for one (spatial, kernel, strides, pads, dilations) and is cached per geometry.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

_CHUNK_BYTES = 2 << 20  # im2col columns per batch block: the copy and its GEMM stay in cache


def _axes_but_channel(ndim: int) -> tuple[int, ...]:
    """The batch and spatial axes of (N, C, *spatial): what per-channel sums reduce over."""
    return (0,) + tuple(range(2, ndim))


def _out_len(size, k, s, pb, pe, d, ceil):
    """PyTorch's pooling_output_shape (a convolution is the case ceil=False)."""
    span = d * (k - 1) + 1
    out = (size + pb + pe - span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + pb:
        out -= 1
    return out


class _Windows:
    """Where every kernel tap reads in a padded (N, C, *spatial) array, as strided views.

    Positions are the output locations in the padded input's flat index space. With unit strides
    they are one flat run per tap ("wide" columns, which also cover the padding columns between
    rows): the im2col copy then moves long contiguous runs, and the results at the padding
    columns are dropped (forward) or multiplied by zeros (gradients).
    """

    def __init__(self, spatial, kernel, strides, pads, dilations, ceil=False, wide=False):
        nd = len(kernel)
        self.spatial, self.kernel, self.strides = tuple(spatial), tuple(kernel), tuple(strides)
        self.dilations, self.begin, self.end = tuple(dilations), tuple(pads[:nd]), tuple(pads[nd:])
        self.out = tuple(_out_len(*a, ceil) for a in zip(spatial, kernel, strides, self.begin, self.end,
                                                         dilations))
        if any(o < 1 for o in self.out):
            raise ValueError(f"kernel {list(kernel)} (dilation {list(dilations)}) does not fit the "
                             f"padded input {list(spatial)} + pads {list(pads)}")
        self.padded = tuple(max(n + b + e, (o - 1) * s + d * (k - 1) + 1) for n, b, e, o, s, d, k in
                            zip(spatial, self.begin, self.end, self.out, strides, dilations, kernel))
        rows = tuple(int(np.prod(self.padded[i + 1:])) for i in range(nd))
        self.tap_step = tuple(d * r for d, r in zip(dilations, rows))
        self.wide = wide and all(s == 1 for s in strides)
        if self.wide:
            self.positions = (sum((o - 1) * r for o, r in zip(self.out, rows)) + 1,)
            self.pos_step, self.out_step = (1,), rows
        else:
            self.positions = self.out
            self.pos_step = tuple(s * r for s, r in zip(strides, rows))
        self.npos = int(np.prod(self.positions))
        self.taps = tuple(itertools.product(*map(range, kernel)))
        self.interior = (slice(None),) * 2 + tuple(slice(b, b + n) for b, n in zip(self.begin, spatial))

    def pad(self, x: np.ndarray, fill=0) -> np.ndarray:
        if self.padded == x.shape[2:]:
            return np.ascontiguousarray(x)
        xp = np.full(x.shape[:2] + self.padded, fill, x.dtype)
        xp[self.interior] = x
        return xp

    def zeros(self, lead, dtype) -> np.ndarray:
        return np.zeros(tuple(lead) + self.padded, dtype)

    def unpad(self, xp: np.ndarray) -> np.ndarray:
        return xp if self.padded == self.spatial else np.ascontiguousarray(xp[self.interior])

    @staticmethod
    def _strided(a, shape, steps, writeable=True):
        return as_strided(a, a.shape[:2] + tuple(shape), a.strides[:2] + tuple(s * a.itemsize for s in steps),
                          writeable=writeable)

    def columns(self, xp: np.ndarray) -> np.ndarray:
        """Every tap at every position, (n, C, *kernel, *positions), read-only (for im2col)."""
        return self._strided(xp, self.kernel + self.positions, self.tap_step + self.pos_step, False)

    def tap(self, xp: np.ndarray, idx) -> np.ndarray:
        """One tap at every position, (n, C, *positions), by basic slicing; writing it writes xp."""
        if self.wide:
            off = sum(i * t for i, t in zip(idx, self.tap_step))
            return xp.reshape(xp.shape[:2] + (-1,))[:, :, off:off + self.npos]
        return xp[(slice(None),) * 2 + tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in
                                             zip(idx, self.dilations, self.strides, self.out))]

    def to_out(self, pos: np.ndarray) -> np.ndarray:
        """(n, C, *positions) -> (n, C, *out): the view that drops wide padding columns."""
        return self._strided(pos, self.out, self.out_step) if self.wide else pos

    def to_positions(self, g: np.ndarray) -> np.ndarray:
        """(n, C, *out) -> (n, C, *positions), zero at the padding columns."""
        if not self.wide:
            return g
        pos = np.zeros(g.shape[:2] + self.positions, g.dtype)
        self.to_out(pos)[...] = g
        return pos

    def shifted(self, rows: np.ndarray) -> np.ndarray:
        """col2im for wide windows as one strided view: rows (n, C * taps, P), P the padded flat
        size, holds each tap's columns at [P - npos:] after zeros; returns the read-only
        (n, C, *kernel, P) view whose [..., tap, q] is that tap's column at padded index q (or
        zero), so its sum over the kernel axes is the padded input gradient. A shifted row
        reads the next row's leading zeros past its end (unit strides: P - npos is the
        largest tap offset)."""
        n, rows_per_item, size = rows.shape
        k, it = len(self.taps), rows.itemsize
        steps = tuple((int(np.prod(self.kernel[a + 1:])) * size - self.tap_step[a]) * it
                      for a in range(len(self.kernel)))
        return as_strided(rows[:, :, size - self.npos:], (n, rows_per_item // k) + self.kernel + (size,),
                          (rows.strides[0], k * size * it) + steps + (it,), writeable=False)

    def scatter(self, out: np.ndarray, cols: np.ndarray) -> None:
        """out[tap positions] += cols[:, :, *tap] for every tap (col2im); out is padded."""
        lead = (slice(None),) * 2
        for idx in self.taps:
            target = self.tap(out, idx)
            np.add(target, cols[lead + idx].reshape(target.shape), out=target)


@functools.lru_cache(maxsize=512)
def _windows(spatial, kernel, strides, pads, dilations, ceil, wide) -> _Windows:
    """_Windows per geometry, built once: its set-up costs as much as a small kernel."""
    return _Windows(spatial, kernel, strides, pads, dilations, ceil, wide)


def _chunks(n: int, bytes_per_item: int):
    step = max(1, _CHUNK_BYTES // max(bytes_per_item, 1))
    return [slice(i, min(n, i + step)) for i in range(0, n, step)]


def _spatial_attrs(nd, strides, pads, dilations):
    return (tuple(strides) if strides else (1,) * nd, tuple(pads) if pads else (0,) * (2 * nd),
            tuple(dilations) if dilations else (1,) * nd)


def _check_lengths(op, nd, kernel, strides, pads, dilations):
    if len(kernel) != nd or len(strides) != nd or len(dilations) != nd or len(pads) != 2 * nd:
        raise ValueError(f"{op} on {nd} spatial dims needs {nd} kernel sizes, strides and dilations "
                         f"and {2 * nd} pads, got kernel_shape={list(kernel)}, strides={list(strides)}, "
                         f"dilations={list(dilations)}, pads={list(pads)}")
    if min(strides) < 1 or min(dilations) < 1 or min(kernel) < 1 or min(pads, default=0) < 0:
        raise ValueError(f"{op}: kernel sizes, strides and dilations must be positive and pads "
                         "non-negative")
