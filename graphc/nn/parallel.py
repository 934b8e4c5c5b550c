"""DataParallel: split the batch over the available GPUs, run the module on each part, gather.

With no CUDA device (``graphc.cuda.device_count() == 0``) it is the module itself: forward calls
the module directly. With one device it moves the module there and calls it. With more, the
inputs are chunked along `dim`, the module runs on each chunk and the outputs are concatenated
along `dim` on `output_device`. graphc keeps a single copy of the module (it has no per-device
replicas yet), so the chunks run one after another on that copy: the results are what PyTorch's
replicas compute (layers that look across the batch, such as BatchNorm, see one chunk at a time,
as in PyTorch), and gradients reach the one set of parameters; what is missing is the speed-up.
"""
from __future__ import annotations

import itertools
import warnings

from .. import cuda
from ..device import device as Device
from ..ops.shape import cat, chunk, stack
from ..tensor import Tensor
from .modules.module import Module


def _device_index(d) -> int:
    if isinstance(d, int):
        return d
    d = Device(d)
    return d.index or 0


class DataParallel(Module):
    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not cuda.is_available():
            self.device_ids = []
            self.output_device = None
            return
        if device_ids is None:
            device_ids = range(cuda.device_count())
        self.device_ids = [_device_index(d) for d in device_ids]
        self.output_device = _device_index(output_device if output_device is not None else self.device_ids[0])
        self.src_device_obj = Device("cuda", self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in itertools.chain(self.module.parameters(), self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one of them on "
                                   f"device: {t.device}")
        parts, kw_parts = self.scatter(inputs, kwargs, self.device_ids)
        if len(self.device_ids) == 1 or len(parts) == 1:
            return self.module(*parts[0], **kw_parts[0])
        outputs = [self.module(*a, **k) for a, k in zip(parts, kw_parts)]
        return self.gather(outputs, self.output_device)

    def scatter(self, inputs, kwargs, device_ids):
        """Per-chunk (args, kwargs): tensors chunked along dim, everything else repeated."""
        n = len(device_ids)
        device = self.src_device_obj  # one module copy: every chunk runs where its parameters are
        args = _scatter(tuple(inputs), n, self.dim, device) if inputs else []
        kws = _scatter(dict(kwargs), n, self.dim, device) if kwargs else []
        count = max(len(args), len(kws), 1)
        args = list(args) + [()] * (count - len(args))
        kws = list(kws) + [{}] * (count - len(kws))
        return args, kws

    def gather(self, outputs, output_device):
        return _gather(outputs, self.dim, Device("cuda", output_device))


def _scatter(obj, n: int, dim: int, device) -> list:
    if isinstance(obj, Tensor):
        return [c.to(device) for c in chunk(obj, n, dim)]
    if isinstance(obj, tuple) and obj:
        return list(zip(*(_scatter(x, n, dim, device) for x in obj)))
    if isinstance(obj, list) and obj:
        return [list(x) for x in zip(*(_scatter(x, n, dim, device) for x in obj))]
    if isinstance(obj, dict) and obj:
        return [type(obj)(pairs) for pairs in zip(*(_scatter(item, n, dim, device) for item in obj.items()))]
    return [obj] * n


def _gather(outputs: list, dim: int, target: Device):
    out = outputs[0]
    if isinstance(out, Tensor):
        if out.ndim == 0:
            warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; "
                          "will instead unsqueeze and return a vector.", stacklevel=3)
            return stack(outputs).to(target)
        return cat(outputs, dim).to(target)
    if out is None:
        return None
    if isinstance(out, dict):
        return type(out)((k, _gather([o[k] for o in outputs], dim, target)) for k in out)
    if isinstance(out, (tuple, list)):
        return type(out)(_gather(list(parts), dim, target) for parts in zip(*outputs))
    return outputs
