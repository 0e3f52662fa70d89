"""The SQLite store's tables, indexes and connection settings, in one place.

Shaped by the hot path (enqueue, claim, mark sent, one or two reports per message):

- `messages` keeps the message as msgspec JSON bytes beside the few columns that queries filter on. Its
  timeline is JSON lines in a text column, appended with `||` by the same UPDATE that changes the state:
  every event rewrites the row anyway, so a separate timeline table would only add an insert and an index
  entry per event.
- `messages_due (state, due_at)` serves claim (one range per state), `next_due` (min of each range) and
  `stats` (a count per state without touching rows). A SENDING message's `due_at` is its lease end, so an
  ended lease is found by the same index.
- `messages_by_destination` pairs an inbound message with the latest message sent to its sender; numbers
  are compared without their leading '+'.
- `messages.retry_key` has no index: the writer keeps the recent ones in memory (`sqlite_retry`).
- `reports.dedupe_key` is unique: replayed webhooks are recognised.
- `plugin_data` is the plugins' own key-value data (a host's configuration, its lookups); rows past their
  `expires_at` are invisible at once and deleted by the next write to that table.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    channel TEXT NOT NULL,
    destination TEXT,
    host TEXT NOT NULL,
    wants_reports INTEGER NOT NULL,
    state TEXT NOT NULL,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    status_group TEXT,
    status_name TEXT,
    final INTEGER NOT NULL DEFAULT 0,
    error_name TEXT,
    failure_reason TEXT,
    message_count INTEGER,
    timeline TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    retry_key TEXT
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (state, due_at);
CREATE INDEX IF NOT EXISTS messages_by_destination ON messages (ltrim(destination, '+'), created_at);

CREATE TABLE IF NOT EXISTS speed_limits (
    key TEXT PRIMARY KEY,
    last_due REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    message_id TEXT,
    recorded_at REAL NOT NULL,
    body BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a late ack cannot delete a newer item
    host TEXT NOT NULL,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    message_id TEXT,
    report BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at);

CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS plugin_data (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS plugin_data_expiry ON plugin_data (expires_at) WHERE expires_at IS NOT NULL;
"""

# synchronous=FULL: in WAL mode every commit syncs the log, so a write that returned survives a power cut.
WRITER_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -65536",  # KiB: 64 MiB keeps the indexes' hot pages in memory
    "PRAGMA temp_store = MEMORY",
    "PRAGMA journal_size_limit = 67108864",  # truncate the log back to 64 MiB after checkpoints
)
READER_PRAGMAS = (
    "PRAGMA busy_timeout = 10000",
    "PRAGMA cache_size = -16384",
    "PRAGMA query_only = ON",
)


def connect(
    path: str | os.PathLike[str],
    pragmas: tuple[str, ...],
    factory: type[sqlite3.Connection] = sqlite3.Connection,
) -> sqlite3.Connection:
    """A connection in autocommit mode (the store issues BEGIN and COMMIT itself)."""
    conn = sqlite3.connect(
        os.fspath(path), isolation_level=None, check_same_thread=False, cached_statements=256, factory=factory
    )
    for pragma in pragmas:
        execute_when_unlocked(conn, pragma)
    return conn


def execute_when_unlocked(
    conn: sqlite3.Connection, statement: str, wait: float = 10.0, params: Sequence[Any] = ()
) -> None:
    """Run `statement`, trying again while another process holds the lock it needs, for at most `wait`
    seconds. The pauses start at 0.1 ms and double up to 1 ms: SQLite's own busy handler sleeps 1, 2, 5 ...
    100 ms, and switching a new file to WAL answers "database is locked" at once, without any wait, when
    another process (`serve --workers N`) switches it at the same moment."""
    deadline = time.monotonic() + wait
    pause = 0.0001
    while True:
        try:
            conn.execute(statement, params)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.001)


# Columns added since the first release, created on a database made before them: (table, column, type).
ADDED_COLUMNS = (("messages", "idempotency_key", "TEXT"), ("messages", "retry_key", "TEXT"))
# Indexes on those columns, created once the columns exist.
LATER_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_idempotency_key ON messages (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
"""


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    execute_when_unlocked(conn, "BEGIN IMMEDIATE")  # another process may be adding the same columns
    try:
        for table, column, kind in ADDED_COLUMNS:
            if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        for statement in filter(str.strip, LATER_INDEXES.split(";")):
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
