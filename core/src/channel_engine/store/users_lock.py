"""Who else has a SQLite store open: every open store holds a shared lock on a file beside the database.

Only a store that can briefly turn its shared lock into an exclusive one is alone; then every message left
SENDING belongs to a process that is gone. The kernel drops a killed process's locks with it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; one process per store is assumed there
    fcntl = None  # type: ignore[assignment]


class UsersLock:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    @contextlib.contextmanager
    def alone(self) -> Iterator[bool]:
        """Whether no other store has the file open; while the block runs, none can open it."""
        if fcntl is None:  # pragma: no cover
            yield True
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # A failed conversion may have dropped the shared lock (flock(2)): take it again.
            fcntl.flock(self.fd, fcntl.LOCK_SH)
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def release(self) -> None:
        os.close(self.fd)  # closing the file releases the lock
