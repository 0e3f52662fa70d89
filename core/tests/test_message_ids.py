"""Message ids: unique, 32 hex digits, and ordered by the millisecond they were made in."""

from __future__ import annotations

from channel_engine import intake


def test_ids_are_32_hex_digits_and_unique() -> None:
    ids = {intake.new_message_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_later_millisecond_sorts_after_an_earlier_one(monkeypatch) -> None:
    now = [1_790_000_000_000_000_000]
    monkeypatch.setattr(intake.time, "time_ns", lambda: now[0])
    earlier = [intake.new_message_id() for _ in range(100)]
    now[0] += 1_000_000  # one millisecond on
    later = [intake.new_message_id() for _ in range(100)]
    assert max(earlier) < min(later)
    assert {i[:12] for i in earlier} == {f"{1_790_000_000_000:012x}"}
