"""Grad-mode switches: context managers that also work as decorators, as in PyTorch."""
from __future__ import annotations

import functools

from ..state import STATE


class _GradMode:
    _enabled: bool

    def __enter__(self):
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self._enabled

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()


class no_grad(_GradMode):
    _enabled = False


class enable_grad(_GradMode):
    _enabled = True


class set_grad_enabled(_GradMode):
    """Sets the mode immediately (like PyTorch), and restores it on exit when used as a context."""

    def __init__(self, mode: bool):
        self._enabled = bool(mode)
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self._enabled

    def __enter__(self):
        pass

    def _args(self):
        return (self._enabled,)

    def __call__(self, fn):
        STATE.grad_enabled = self._prev
        return super().__call__(fn)


class inference_mode(no_grad):
    def __init__(self, mode: bool = True):
        self._enabled = not mode


def is_grad_enabled() -> bool:
    return STATE.grad_enabled
