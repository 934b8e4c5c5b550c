"""Process-wide mode flags read on every op: grad mode and the active recorder."""


class _State:
    """Process-wide mode flags read on every op (a plain object: cheaper than thread-locals)."""

    __slots__ = ("grad_enabled", "recorder")

    def __init__(self):
        self.grad_enabled = True
        self.recorder = None


STATE = _State()
