"""A one-line progress bar for long CLI work (stderr; redrawn in place on a terminal, a line now and then
otherwise so logs stay readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(1, total)
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self._last_line = 0.0
        self._tty = self.stream.isatty()

    def update(self, done: int, note: str = "") -> None:
        now = time.perf_counter()
        if not self._tty and now - self._last_line < 2.0 and done < self.total:
            return
        self._last_line = now
        share = min(1.0, done / self.total)
        bar = "#" * int(share * self.width)
        rate = done / max(1e-9, now - self.started)
        line = (
            f"{self.label:<10} [{bar:<{self.width}}] {done:>7}/{self.total} {share:6.1%} {rate:8.0f}/s {note}"
        )
        self.stream.write(("\r" + line) if self._tty else (line + "\n"))
        self.stream.flush()

    def finish(self, done: int, note: str = "") -> None:
        self._last_line = 0.0
        self.update(done, note)
        if self._tty:
            self.stream.write("\n")
