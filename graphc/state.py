"""Process-wide mode flags read on every op: grad mode and the active recorder."""


class _State:
    """Process-wide mode flags read on every op (a plain object: cheaper than thread-locals)."""

    __slots__ = ("grad_enabled", "recorder", "devices_in_use")

    def __init__(self):
        self.grad_enabled = True
        self.recorder = None
        self.devices_in_use = False  # set once a tensor lives on a device other than the CPU


STATE = _State()
