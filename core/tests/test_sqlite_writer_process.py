"""The SQLite writer process: one per database, shared by every engine process, gone after the last.

The store contract suite runs on it too (kind "sqlite-process"); these are the things only it does.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import pickle
import select
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from channel_engine.config import from_env
from channel_engine.errors import ConfigError
from channel_engine.models import OutboundMessage
from channel_engine.store import sqlite_process
from channel_engine.store.sqlite import _INSERT_DUE_NOW, SQLiteStore, _claim, _executemany
from channel_engine.store.sqlite_process import FrameBuffer, ProcessWriter, _frame
from channel_engine.store.sqlite_retry import WriterConnection
from channel_engine.store.sqlite_schema import WRITER_PRAGMAS, connect, create_schema
from channel_engine.store.sqlite_writer import Committer, Job, StoreClosedError, _merged

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pidfd and SO_PEERCRED are Linux's")

ACCOUNT = "INSERT INTO accounts (name, sealed) VALUES (?, ?)"


def writer_of(store: SQLiteStore) -> ProcessWriter:
    assert isinstance(store.writer, ProcessWriter)
    return store.writer


def wait_until_ended(pid: int, timeout: float = 10.0) -> bool:
    """Whether process `pid` ends within `timeout` (a pidfd is readable once it has)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent has not asked how yet


async def test_engines_on_one_database_share_one_writer_which_ends_after_the_last(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "store.db", writer_process=True)
    second = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await first.open()
    await second.open()
    pid = writer_of(first).pid
    assert pid is not None and writer_of(second).pid == pid

    await asyncio.gather(first.put_account("a", b"sealed-a"), second.put_account("b", b"sealed-b"))
    await first.delete_account("a")
    assert first.writes == 3  # the writer's count, which has the other engine's write too
    await first.put_account("a", b"sealed-a")
    await first.close()
    assert alive(pid)  # the second engine still writes through it
    await second.put_account("c", b"sealed-c")
    await second.close()
    assert wait_until_ended(pid)

    again = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await again.open()
    try:
        assert writer_of(again).pid != pid  # a new writer, started by the engine that needed one
        assert await again.get_accounts() == {"a": b"sealed-a", "b": b"sealed-b", "c": b"sealed-c"}
    finally:
        await again.close()


async def test_the_writer_of_a_killed_engine_commits_and_ends(tmp_path: Path) -> None:
    source = textwrap.dedent(
        f"""
        import asyncio, sys
        from channel_engine.store.sqlite import SQLiteStore

        async def main():
            store = SQLiteStore({str(tmp_path / "store.db")!r}, writer_process=True)
            await store.open()
            await store.put_account("written", b"before the kill")
            print(store.writer.pid, flush=True)
            await asyncio.Event().wait()

        asyncio.run(main())
        """
    )
    engine = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True)
    try:
        assert engine.stdout is not None
        pid = int(engine.stdout.readline())
    finally:
        engine.kill()
        engine.wait()
    assert wait_until_ended(pid)  # no writer left behind by an engine that died
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    try:
        assert await store.get_accounts() == {"written": b"before the kill"}
    finally:
        await store.close()


async def test_errors_come_back_with_their_type_and_fail_only_their_write(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    try:
        good = store.put_account("kept", b"1")
        duplicate = store.writer.submit(_executemany, ACCOUNT, [("twice", b"1"), ("twice", b"2")])
        results = await asyncio.gather(good, duplicate, return_exceptions=True)
        assert results[0] is None
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert "UNIQUE" in str(results[1])
        assert await store.get_accounts() == {"kept": b"1"}

        unpicklable = store.writer.submit(_executemany, ACCOUNT, [(lambda: "no", b"1")])
        kept, refused = await asyncio.gather(
            store.put_account("also kept", b"2"), unpicklable, return_exceptions=True
        )
        assert kept is None
        assert isinstance(refused, TypeError) and "cannot go to the writer" in str(refused)
        assert await store.get_accounts() == {"kept": b"1", "also kept": b"2"}
    finally:
        await store.close()


async def test_a_writer_that_cannot_open_the_database_says_why(tmp_path: Path) -> None:
    (tmp_path / "store.db").mkdir()  # a directory where the database file should be
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
        await store.open()


def test_one_statement_sent_in_two_frames_still_runs_once_for_both() -> None:
    """Each frame unpickles its own copy of a statement; the writer's batch joins their rows all the same
    (and a batch of one statement commits without BEGIN and COMMIT of its own)."""
    first, second = (pickle.loads(pickle.dumps(_INSERT_DUE_NOW)) for _ in range(2))
    assert first is not second
    groups = _merged([Job(first, ["a"], 1, None), Job(second, ["b"], 2, None)])
    assert [[job.rows for job in group] for group in groups] == [[["a"], ["b"]]]


def test_the_writer_process_inserts_row_by_row_what_a_writer_thread_inserts_packed(tmp_path: Path) -> None:
    """The writer process has the GIL to itself, so it runs the enqueue insert with `executemany`; a
    writer thread packs the rows into one statement. Both store the same rows, and a batch of that insert
    alone is still one transaction in the writer process (row by row, it could not run without one)."""
    rows = [
        (
            f"{i:032x}",
            b'{"n": %d}' % i,
            "sms",
            f"+4179000000{i}",
            "api",
            i % 2 == 0,
            None,
            0.0,
            1e9 + i,
            None,
            None,
        )
        for i in range(3)
    ]
    stored, statements = [], []
    for gil_to_itself in (False, True):
        conn = connect(tmp_path / f"store-{gil_to_itself}.db", WRITER_PRAGMAS, WriterConnection)
        assert isinstance(conn, WriterConnection)
        create_schema(conn)
        conn.gil_to_itself = gil_to_itself
        ran: list[str] = []
        conn.set_trace_callback(ran.append)
        committer = Committer(conn)
        committer.commit([Job(_INSERT_DUE_NOW, rows[:2], 1, None), Job(_INSERT_DUE_NOW, rows[1:], 2, None)])
        conn.set_trace_callback(None)
        statements.append(ran)
        stored.append(conn.execute("SELECT * FROM messages ORDER BY id").fetchall())
        conn.close()
    packed, row_by_row = statements
    assert [s.split()[:3] for s in packed] == [["INSERT", "OR", "IGNORE"]]  # no BEGIN: one statement
    assert row_by_row[0] == "BEGIN IMMEDIATE" and row_by_row[-1] == "COMMIT"
    assert sum("VALUES" in s for s in row_by_row) == 4  # the second job's first row is the first's second
    assert stored[0] == stored[1] and len(stored[0]) == 3


def test_frames_come_out_whole_however_the_stream_cuts_them() -> None:
    """Read from a socket or fed by the event loop, in pieces that cut headers and frames anywhere, into
    buffers far smaller than the largest frame."""
    values = [{"n": i, "pad": "x" * (i * 7919 % 50_000)} for i in range(40)] + [{"big": "y" * 3_000_000}]
    stream = b"".join(_frame(v) for v in values)
    pieces = [stream[cut : cut + 70_001] for cut in range(0, len(stream), 70_001)]
    read, fed = FrameBuffer(1024), FrameBuffer(1024)
    from_socket: list[object] = []
    from_feed: list[object] = []
    reader, writer = socket.socketpair()
    with reader, writer:
        for piece in pieces:
            writer.sendall(piece)
            received = 0
            while received < len(piece):
                received += read.recv_from(reader)
            from_socket += read.frames()
            fed.feed(piece)
            from_feed += fed.frames()
        writer.close()
        assert read.recv_from(reader) == 0  # the other end has gone
    assert from_socket == from_feed == values


def bulky(prefix: str, count: int) -> list[OutboundMessage]:
    text = "x" * 1500  # a few megabytes in all: more than a socket's buffers hold
    return [
        OutboundMessage(channel="sms", destination="41790000001", content={"text": text}, id=f"{prefix}{i}")
        for i in range(count)
    ]


async def test_a_large_write_goes_out_while_a_large_answer_comes_in(tmp_path: Path) -> None:
    """The socket is the event loop's: a frame larger than the socket's buffers is written as the writer
    reads it, while the loop goes on reading the writer's large answer (blocking on either would leave each
    side waiting for the other to read)."""
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    # Stuck, the loop could not even time out: end the run with every thread's stack instead of hanging.
    faulthandler.dump_traceback_later(60, exit=True)
    try:
        await store.enqueue(bulky("a", 2000), 1.0)
        claiming = store.writer.submit(_claim, 2.0, 2000, 62.0)  # its answer is a few megabytes
        await asyncio.sleep(0)  # one turn: the claim goes in a frame of its own, and the writer answers it...
        await store.enqueue(bulky("b", 2000), 2.0)  # ...while this frame goes out
        claimed = await claiming
        assert len(claimed) == 2000
        assert len(await store.claim(3.0, 5000, 60.0)) == 2000  # the second write, all of it
    finally:
        faulthandler.cancel_dump_traceback_later()
        await store.close()


async def test_a_write_from_another_threads_loop_is_answered_on_it(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    try:

        def elsewhere() -> None:
            asyncio.run(store.put_account("from a thread", b"1"))

        await asyncio.gather(asyncio.to_thread(elsewhere), store.put_account("from home", b"2"))
        assert await store.get_accounts() == {"from a thread": b"1", "from home": b"2"}
    finally:
        await store.close()


async def test_writes_fail_plainly_once_the_writer_has_gone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    pid = writer_of(store).pid
    assert pid is not None
    os.kill(pid, 9)
    assert wait_until_ended(pid)
    gone = r"the SQLite writer process has gone away|the store is not open"  # as soon as the loop has heard
    with pytest.raises(StoreClosedError, match=gone):
        await store.put_account("lost", b"1")
    await store.close()  # nothing left to wait for


def test_the_writer_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANNEL_ENGINE_SQLITE_WRITER", raising=False)
    assert from_env().sqlite_writer == "process"
    monkeypatch.setenv("CHANNEL_ENGINE_SQLITE_WRITER", "thread")
    assert from_env().sqlite_writer == "thread"
    monkeypatch.setenv("CHANNEL_ENGINE_SQLITE_WRITER", "fork")
    with pytest.raises(
        ConfigError, match="CHANNEL_ENGINE_SQLITE_WRITER must be process or thread, not 'fork'"
    ):
        from_env()


async def test_a_long_turns_writes_go_out_in_frames_while_the_turn_goes_on(tmp_path: Path) -> None:
    """Sent only once the turn ended, a busy turn's writes kept the writer idle while the loop worked on
    them: the first frames leave as soon as they are full, the rest when the turn ends."""
    store = SQLiteStore(tmp_path / "store.db", writer_process=True)
    await store.open()
    writer = writer_of(store)
    link = writer._link
    assert link is not None
    frames: list[int] = []
    real_send = link.send

    def counting(frame: bytes) -> bool:
        frames.append(len(pickle.loads(frame[sqlite_process.HEADER :])))
        return real_send(frame)

    link.send = counting  # type: ignore[method-assign]
    try:
        most = sqlite_process.FRAME_MOST
        puts = [store.put_account(f"account {i}", b"1") for i in range(2 * most + 3)]
        tasks = [asyncio.ensure_future(put) for put in puts]
        await asyncio.sleep(0)  # one turn: every task runs up to its write
        sent_during_the_turn = list(frames)
        await asyncio.gather(*tasks)
        assert sent_during_the_turn == [most, most]
        assert frames == [most, most, 3]
        assert len(await store.get_accounts()) == 2 * most + 3
    finally:
        await store.close()
