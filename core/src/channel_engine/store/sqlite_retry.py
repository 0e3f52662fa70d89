"""Retry keys on SQLite: the keys of the messages accepted in the last `RETRY_WINDOW` seconds, kept in the
writer's memory instead of an index.

Why: an index of keys that are digests takes a random page of its B-tree on every insert, and the commit
writes each such page to the log. For a host that sends a message per request (an SFMC execute) that was a
third of what a message's writes cost. Retries come within seconds, so a window held in memory is enough.

How: the writer's connection (`WriterConnection`) carries `RecentRetryKeys`, a map from a key's hash to its
message's rowid. The map follows the `messages` table by rowid: before it answers, it reads the rows added
since it last looked (this writer's, or another process's when each engine process writes the file itself),
all inside the transaction that holds the write lock, so nothing is missed. A hit is confirmed by reading its
row, so a hash collision or a row rolled back is never mistaken for a retry. Started (and after a rollback,
which may have taken rows it had read), it reads back the window's rows, newest first.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .base import RETRY_WINDOW

_NEW_ROWS = "SELECT rowid, retry_key, created_at FROM messages WHERE rowid > ? ORDER BY rowid DESC"
_CONFIRM = "SELECT id FROM messages WHERE rowid = ? AND retry_key = ?"


class RecentRetryKeys:
    """The retry keys of the messages accepted in the last `window` seconds (at most twice that), as two
    generations of `hash(key) -> rowid`: the newer takes every key, and when it is a window old it becomes
    the older and the older is dropped, which costs nothing per key."""

    def __init__(self, window: float = RETRY_WINDOW) -> None:
        self.window = window
        self._newer: dict[int, int] = {}
        self._older: dict[int, int] = {}
        self._since: float | None = None  # when the newer generation began, None until the first read
        self._last_added = 0.0
        self._last_rowid = 0  # the newest row read; 0 before it has read any (it then reads the window)

    def find(self, conn: sqlite3.Connection, keys: list[str], now: float) -> dict[str, str]:
        """Each of `keys` that a message accepted in the window has, and that message's id."""
        self.follow(conn, now)
        found = {}
        for key in keys:
            h = hash(key)
            rowid = self._newer.get(h) or self._older.get(h)
            if rowid is not None:
                row = conn.execute(_CONFIRM, (rowid, key)).fetchone()
                if row is not None:
                    found[key] = row[0]
        return found

    def follow(self, conn: sqlite3.Connection, now: float) -> None:
        """Take in the rows added since the last look; on the first look, the whole window's."""
        self._turn(now)
        (newest,) = conn.execute("SELECT max(rowid) FROM messages").fetchone()
        if newest is None or newest <= self._last_rowid:
            self._last_rowid = newest or 0  # nothing new (fewer rows only after a rollback)
            return
        start = now - self.window
        for rowid, key, created_at in conn.execute(_NEW_ROWS, (self._last_rowid,)):
            if created_at < start:
                # Older than the window, and so is every row before it (rows come in the order they were
                # accepted; clocks a little apart are within the window's margin): a first look, or the
                # first after a long stretch of messages without retry keys, stops here.
                break
            if key is not None:
                self._newer[hash(key)] = rowid
        self._last_added = max(self._last_added, now)
        self._last_rowid = newest

    def forget_position(self) -> None:
        """A rollback may have taken rows this map read: read the window again at the next look."""
        self._last_rowid = 0
        self._newer, self._older, self._since = {}, {}, None

    def _turn(self, now: float) -> None:
        if self._since is None:
            self._since = now
        elif now - self._since >= self.window:
            # Every key of the newer generation was added before the last addition; when even that is a
            # window ago, none is kept.
            self._older = self._newer if now - self._last_added < self.window else {}
            self._newer, self._since = {}, now


class WriterConnection(sqlite3.Connection):
    """The writer's connection: an ordinary one that also carries the recent retry keys (see above), and
    says whether it is the writer process's (`sqlite_writer.has_gil_to_itself`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_keys = RecentRetryKeys()
        self.gil_to_itself = False


def recent_retry_keys(conn: sqlite3.Connection) -> RecentRetryKeys:
    if not isinstance(conn, WriterConnection):
        raise TypeError("retry keys are written through the store's writer (a WriterConnection)")
    return conn.retry_keys


def forget_read_rows(conn: sqlite3.Connection) -> None:
    """Called after a rollback on the writer's connection (whatever its class)."""
    if isinstance(conn, WriterConnection):
        conn.retry_keys.forget_position()
