"""Many rows in one SQLite statement, so the writer thread keeps the GIL while SQLite works.

Python's sqlite3 module lets go of the GIL around every step of a statement: `executemany` over 50 rows, or
fetching 50 rows, is 50 hand-offs. The writer thread then waits for the event loop to give the GIL back
after each one, and under load the event loop keeps it for up to the interpreter's switch interval (5 ms):
a claim of 50 messages took 27 ms of waiting for 2 ms of work. So the hot writes take their rows as two
parameters, a JSON array of rows and one blob holding every bytes value back to back, and SQLite reads
them with `json_each` in a single step; the hot reads return their rows as one JSON text.

    rows, blob = pack(rows, blobs={1})                     # column 1 holds bytes
    INSERT INTO t (a, b) SELECT {cells(2, blobs={1})} FROM json_each(?1)   -- with (rows, blob)

Needs SQLite's JSON functions (built in since 3.38, and in most builds before) and UPDATE ... FROM (3.33).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

_encode = msgspec.json.encode


def pack(
    rows: Iterable[Sequence[Any]], blobs: frozenset[int] | set[int] = frozenset()
) -> tuple[str] | tuple[str, bytes]:
    """The statement's parameters: the rows as a JSON array of arrays, then (with `blobs`) the blob: a bytes
    value in a column of `blobs` becomes [offset, length] into it (from 1, as SQLite's substr counts)."""
    packed: list[list[Any]] = []
    values: list[bytes] = []  # joined once at the end: a growing bytearray is copied as it grows, and again
    size = 0
    for row in rows:
        cells = list(row)
        for i in blobs:
            value = cells[i]
            if value is not None:
                cells[i] = [size + 1, len(value)]
                values.append(value)
                size += len(value)
        packed.append(cells)
    text = _encode(packed).decode()
    return (text, b"".join(values)) if blobs else (text,)


def cell(i: int, *, blob: bool = False) -> str:
    """The SQL for column `i` of a row from `json_each(?1)` (bytes columns read from the blob in ?2)."""
    if blob:
        return f"substr(?2, json_extract(value, '$[{i}][0]'), json_extract(value, '$[{i}][1]'))"
    return f"json_extract(value, '$[{i}]')"


def cells(count: int, *, blobs: frozenset[int] | set[int] = frozenset()) -> str:
    """The SQL for columns 0 to count-1, comma-separated."""
    return ", ".join(cell(i, blob=i in blobs) for i in range(count))


def as_json_text(column: str) -> str:
    """A stored msgspec JSON body (a BLOB) as a JSON value inside json_array()/json_group_array()."""
    return f"json(CAST({column} AS TEXT))"


def named(*names: str, blobs: frozenset[int] | set[int] = frozenset()) -> str:
    """`SELECT <column i> AS <names[i]>, ... FROM json_each(?1)`: the rows as a table to join."""
    columns = ", ".join(f"{cell(i, blob=i in blobs)} AS {name}" for i, name in enumerate(names))
    return f"SELECT {columns} FROM json_each(?1)"
