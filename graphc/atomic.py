"""Atomic file writes: every file graphc saves goes through here.

Data goes to a temporary file in the destination's folder, is flushed to disk, and then
replaces the destination in one rename, so a reader never sees half a file and a failure
(an exception while writing, a full disk) leaves any earlier file as it was, with no
temporary file behind.
"""
from __future__ import annotations

import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_write(path):
    """``with atomic_write(path) as f: f.write(...)`` -- f is a binary file; the new file takes
    the old one's permissions, or the umask's for a new file."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _mode(path))
    except OSError as exc:  # name the file the caller asked for, not the temporary one
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror}", path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path, data: bytes) -> None:
    with atomic_write(path) as f:
        f.write(data)


def _mode(path: str) -> int:
    """An existing file's permission bits (0o666, which the umask narrows, for a new one)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o666
