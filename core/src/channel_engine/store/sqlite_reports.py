"""Recording reports in SQLite: dedupe, status rules, inbound pairing and the outbox, in one write.

Runs on the writer thread inside the caller's savepoint, so the reports, their messages' new status and
timeline entries, and the outbox items for hosts become durable together or not at all.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from ..models import FINAL_GROUPS, Report
from .records import report_line
from .sqlite_bulk import cells, named, pack

_encode = msgspec.json.encode

_TARGET_COLUMNS = "rowid, id, channel, host, wants_reports, final"
_BY_ID = (
    f"SELECT json_group_array(json_array({_TARGET_COLUMNS})) FROM messages "
    "WHERE id IN (SELECT value FROM json_each(?))"
)
_BY_DESTINATION = (
    f"SELECT {_TARGET_COLUMNS} FROM messages WHERE ltrim(destination, '+') = ? "
    "ORDER BY created_at DESC, rowid DESC LIMIT 1"
)
_KNOWN_KEYS = (
    "SELECT json_group_array(dedupe_key) FROM reports WHERE dedupe_key IN (SELECT value FROM json_each(?))"
)
_INSERT_REPORTS = (
    "INSERT INTO reports (dedupe_key, kind, message_id, recorded_at, body) "
    f"SELECT {cells(5, blobs={4})} FROM json_each(?1)"
)
_INSERT_OUTBOX = (
    f"INSERT INTO outbox (host, due_at, message_id, report) SELECT {cells(4, blobs={3})} FROM json_each(?1)"
)
# A new state or NULL to keep it; whether the status columns change, and to what.
_UPDATE_MESSAGES = f"""
UPDATE messages SET
    state = coalesce(new_state, state),
    status_group = CASE WHEN new_status THEN new_group ELSE status_group END,
    status_name = CASE WHEN new_status THEN new_name ELSE status_name END,
    error_name = CASE WHEN new_status THEN new_error ELSE error_name END,
    final = CASE WHEN new_status THEN new_final ELSE final END,
    message_count = coalesce(new_count, message_count),
    timeline = timeline || new_lines
FROM ({
    named(
        "new_state",
        "new_status",
        "new_group",
        "new_name",
        "new_error",
        "new_final",
        "new_count",
        "new_lines",
        "target",
    )
})
WHERE messages.rowid = target
"""
_decode_targets = msgspec.json.Decoder(list[tuple[int, str, str, str, int, int]]).decode
_decode_keys = msgspec.json.Decoder(list[str]).decode


def json_list(values: Any) -> str:
    """A list as one JSON text parameter, for `IN (SELECT value FROM json_each(?))`."""
    return _encode(list(values)).decode()


def insert_outbox(conn: sqlite3.Connection, rows: list[tuple[str, float, str | None, bytes]]) -> None:
    """Outbox items (host, due_at, message id, report), in one statement."""
    if rows:
        conn.execute(_INSERT_OUTBOX, pack(rows, blobs={3}))


class _Target:
    """The stored message a report belongs to (or, for an inbound message, is paired with)."""

    __slots__ = ("channel", "final", "host", "id", "rowid", "wants")

    def __init__(self, rowid: int, id: str, channel: str, host: str, wants: int, final: int) -> None:
        self.rowid = rowid
        self.id = id
        self.channel = channel
        self.host = host
        self.wants = bool(wants)
        self.final = bool(final)


class _Change:
    """Everything one batch does to one message, written with a single UPDATE."""

    __slots__ = ("lines", "message_count", "state", "status")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.state: str | None = None
        self.status: tuple[str | None, str | None, str | None, bool] | None = None
        self.message_count: int | None = None


def record_reports(conn: sqlite3.Connection, reports: list[Report], now: float) -> list[Report]:
    """Store the reports that are new and apply them; returns the new ones as stored (channel corrected
    to their message's, inbound messages paired)."""
    ids = {r.message_id for r in reports if r.kind != "INBOUND" and r.message_id}
    found = _decode_targets(conn.execute(_BY_ID, (json_list(ids),)).fetchone()[0]) if ids else []
    targets = {row[1]: _Target(*row) for row in found}
    pairs: dict[str, _Target | None] = {}
    prepared: list[tuple[Report, _Target | None]] = []
    for report in reports:
        target: _Target | None = None
        if report.kind == "INBOUND":
            if report.sender:
                number = report.sender.lstrip("+")
                if number not in pairs:
                    row = conn.execute(_BY_DESTINATION, (number,)).fetchone()
                    pairs[number] = (targets.get(row[1]) or _Target(*row)) if row else None
                target = pairs[number]
            if target is not None:
                report = msgspec.structs.replace(report, paired_message_id=target.id)
        elif report.message_id:
            target = targets.get(report.message_id)
            if target is not None and report.channel != target.channel:
                report = msgspec.structs.replace(report, channel=target.channel)
        prepared.append((report, target))

    keys = [report.dedupe_key() for report, _ in prepared]
    known = set(_decode_keys(conn.execute(_KNOWN_KEYS, (json_list(keys),)).fetchone()[0]))
    new: list[Report] = []
    report_rows: list[tuple[Any, ...]] = []
    outbox_rows: list[tuple[Any, ...]] = []
    changes: dict[int, _Change] = {}
    for (report, target), key in zip(prepared, keys, strict=True):
        if key in known:
            continue
        known.add(key)
        body = _encode(report)
        new.append(report)
        report_rows.append((key, report.kind, report.message_id, now, body))
        if target is None:
            continue
        change = changes.get(target.rowid)
        if change is None:
            change = changes[target.rowid] = _Change()
        change.lines.append(report_line(report, now))
        if report.kind == "DELIVERY":
            final = report.is_final
            if final or not target.final:  # a final status never regresses
                change.status = (report.status_group, report.status_name, report.error_name, final)
                target.final = final
                group = (report.status_group or "").upper()
                if final and group in FINAL_GROUPS:
                    change.state = group
                if report.message_count is not None:
                    change.message_count = report.message_count
        if target.wants:
            outbox_rows.append((target.host, now, target.id, body))

    if report_rows:
        conn.execute(_INSERT_REPORTS, pack(report_rows, blobs={4}))
    if changes:
        conn.execute(
            _UPDATE_MESSAGES,
            pack(
                (
                    change.state,
                    change.status is not None,
                    *(change.status or (None, None, None, False)),
                    change.message_count,
                    "".join(change.lines),
                    rowid,
                )
                for rowid, change in changes.items()
            ),
        )
    insert_outbox(conn, outbox_rows)
    return new
