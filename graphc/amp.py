"""graphc.amp: PyTorch's mixed-precision entry points, with an honest behaviour.

graphc does not yet run ops in reduced precision automatically: ``autocast`` (as a context
manager or decorator) leaves every op in its input dtypes, and says so once with a warning
when enabled; ``GradScaler`` is what PyTorch's is when ``enabled=False``, a pass-through (no
float16 gradients can underflow here), so training loops written for AMP run unchanged and
give float32 results."""
from __future__ import annotations

import functools
import warnings

_warned = False


class autocast:
    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True, cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        global _warned
        if self.enabled and not _warned:
            _warned = True
            warnings.warn("graphc.amp.autocast: graphc does not cast ops to lower precision; they run in "
                          "their input dtypes (float32)", stacklevel=2)
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


class GradScaler:
    """torch.amp.GradScaler with nothing to scale: scale() returns the loss, step() steps."""

    def __init__(self, device: str = "cpu", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._init_scale = init_scale

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        """Gradients are never scaled here."""

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """There is no scale to grow or back off."""

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore."""


__all__ = ["GradScaler", "autocast"]
