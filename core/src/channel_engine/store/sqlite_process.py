"""One writer process per database file, shared by every engine process that opens it.

SQLite lets one connection write at a time, and a commit holds that lock through its fsync. Two engine
processes with a writer each (`CHANNEL_ENGINE_ROLES` split across processes) take turns at the lock, each
commit paying its own fsync: at 1,000 SFMC executes a second the intake process's commits of two rows
waited 20-66 ms behind the sending process's transactions. With one writer, every process's writes join the
same group commits, in the order they came, and nobody waits for a lock. In one process it helps too: the
writer no longer takes turns with the event loop at the GIL (SQLite lets go of it on every statement).

The writer (`python -m channel_engine.store.sqlite_process`) is one thread: it reads the requests waiting
on every engine's socket, commits them as one batch (with the `Committer` that `GroupCommitWriter`'s thread
uses too), answers, and again. It listens on a Unix socket named after the database's path and the user
(abstract on Linux, so nothing is left on disk). A `ProcessWriter`, the writer interface the store uses,
connects to it, or starts it when none answers; both ends check that the other runs as the same user,
since what crosses is pickled: the write functions by name (they are module-level), their arguments,
results and errors. A future still resolves only once the writer has committed the write. The requests of
one event-loop turn go as one frame (several of FRAME_MOST in a long turn) and the answers of one commit
come back as one, read by the event loop that opened the store, which resolves the futures then and there
(a reader thread cost the engine about 15% more CPU per intake request: a wake-up across threads and turns
at the GIL for every answer frame).

The writer outlives the process that started it as long as another uses it (it has a session of its own,
and ignores SIGINT and SIGTERM: the engines stop, and it follows). When its last engine goes, by stopping or
by dying, it commits what it was sent, closes the database and ends; only then does the last engine's
`stop()` return.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import itertools
import logging
import os
import pickle
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .records import StoreClosedError
from .sqlite_writer import Committer, Job, hand_back, resolve, writer_connection

__all__ = ["ProcessWriter"]

log = logging.getLogger("channel_engine.store")
T = TypeVar("T")
HEADER = 4  # bytes of a frame's length, big-endian
START_WAIT = 30.0  # seconds to reach a writer, starting one if need be
# A turn's requests go in frames of at most this many. Sent only when the turn ends, the 128 requests of a
# busy turn kept the writer idle while the loop worked on them, and the loop idle while the writer then
# committed them all: the intake process alone was idle 11-16% of the time at its ceiling, 4-9% with this.
FRAME_MOST = 16
CALL, ROWS, TOGETHER, STOP = range(4)  # a request: GroupCommitWriter's submit, submit_rows, submit_together
Request = tuple[int, int, Any, Any]  # (id, kind, fn, args | rows | parts)
Reply = tuple[int, Any, BaseException | None]  # (id, result, error)


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


class FrameBuffer:
    """Whole frames out of a byte stream, read into one buffer kept for the connection's life.

    A buffer per read cost the writer process a tenth of its time in page faults: each read, the copy into
    the growing `bytearray` and the slice of each frame landed in fresh memory, whose pages the kernel
    zeroes on first touch. Here frames are unpickled straight from the buffer, and what follows the last
    whole frame moves to its start."""

    def __init__(self, size: int = 1 << 20) -> None:
        self._buffer = bytearray(size)
        self._filled = 0

    def recv_from(self, sock: socket.socket) -> int:
        """Read what the socket has (0 when it has closed)."""
        self._make_room(1 << 16)
        with memoryview(self._buffer) as view, view[self._filled :] as free:
            count = sock.recv_into(free)
        self._filled += count
        return count

    def feed(self, data: bytes) -> None:
        end = self._filled + len(data)
        self._make_room(len(data))
        self._buffer[self._filled : end] = data
        self._filled = end

    def frames(self) -> list[Any]:
        """The values of the whole frames read so far, taken out of the buffer."""
        values, start = [], 0
        with memoryview(self._buffer) as view:
            while self._filled - start >= HEADER:
                end = start + HEADER + int.from_bytes(view[start : start + HEADER], "big")
                if end > self._filled:
                    break
                with view[start + HEADER : end] as frame:
                    values.append(pickle.loads(frame))
                start = end
        if start:
            rest = self._filled - start
            self._buffer[:rest] = self._buffer[start : self._filled]
            self._filled = rest
        return values

    def _make_room(self, wanted: int) -> None:
        """Room for `wanted` more bytes, and for the whole of a frame begun (frames may be larger)."""
        size = self._filled + wanted
        if self._filled >= HEADER:
            size = max(size, HEADER + int.from_bytes(self._buffer[:HEADER], "big"))
        if size > len(self._buffer):
            self._buffer.extend(bytes(size - len(self._buffer)))


def address(database: Path) -> str:
    """The writer's socket for `database`: one per file and user."""
    digest = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:32]
    name = f"channel-engine-{os.getuid()}-{digest}"
    if sys.platform == "linux":
        return "\0" + name  # abstract: gone with the process, nothing to clean up
    return str(Path(tempfile.gettempdir()) / f"{name}.sock")  # pragma: no cover - not Linux


def _peer(sock: socket.socket) -> tuple[int, int] | None:
    """The process id and user id at the other end (SO_PEERCRED), where the system tells."""
    if not hasattr(socket, "SO_PEERCRED"):  # pragma: no cover - not Linux
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", creds)
    return pid, uid


def _same_user(sock: socket.socket) -> bool:
    """Whether the process at the other end runs as our user: only then may pickles cross."""
    peer = _peer(sock)
    return peer is None or peer[1] == os.getuid()  # without SO_PEERCRED the socket file is 0600


class ProcessWriter:
    """`GroupCommitWriter`'s interface for the engine, its work done by the database's writer process.

    The socket is a transport of the event loop that opened the store (its home): frames go out and answers
    come in on that loop, and a future of the home loop resolves there and then, with no thread between, no
    wake-up across threads and no turn at the GIL. A write from another thread's loop is carried over to the
    home loop and its answer back, so the home loop must be running for them (the engine has one loop)."""

    def __init__(self, database: Path, connect: Callable[[], Any], *, max_batch: int = 2000) -> None:
        self._database = database
        self._connect = connect
        self._max_batch = max_batch
        self._lock = threading.Lock()  # guards the pending requests, the waiting futures and `_held`
        self._pending: list[Request] = []
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self._ids = itertools.count(1)
        self._held = 0
        self._accepting = False
        self._stopping: concurrent.futures.Future[None] | None = None
        self._home: asyncio.AbstractEventLoop | None = None
        self._link: _Link | None = None
        self.pid: int | None = None  # the writer process's, once reached
        self.commits = 0  # the writer's, for every engine process it serves
        self.writes = 0

    def start(self, setup: Callable[[Any], None]) -> concurrent.futures.Future[None]:
        """Reach the writer, starting it (it runs `setup` first) when none is running; the future resolves
        once it answers, or fails with why it could not start. Called on the loop that will be its home."""
        home = self._home = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        async def adopt(sock: socket.socket) -> None:
            self._link = _Link(self)
            await home.connect_accepted_socket(lambda: self._link, sock)  # type: ignore[arg-type,return-value]
            self._accepting = True

        def reach() -> None:  # a thread: reaching may mean starting the writer and waiting for it
            try:
                sock = self._reach(setup)
                sock.setblocking(False)
                asyncio.run_coroutine_threadsafe(adopt(sock), home).result()
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)

        threading.Thread(target=reach, name="sqlite-writer-reach", daemon=True).start()
        return ready

    def _reach(self, setup: Callable[[Any], None]) -> socket.socket:
        where = address(self._database)
        deadline = time.monotonic() + START_WAIT
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(START_WAIT)
            try:
                sock.connect(where)
                if not _same_user(sock):
                    raise StoreClosedError(
                        f"another user's process holds the writer socket of {self._database}"
                    )
                if sock.recv(1) == b"+":  # the writer is serving (not closing down)
                    self.pid = (_peer(sock) or (None,))[0]
                    return sock
            except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError):
                pass
            except BaseException:
                sock.close()
                raise
            sock.close()
            if time.monotonic() > deadline:
                raise StoreClosedError(f"no SQLite writer process answered for {self._database}")
            self._start_writer(where, setup)

    def _start_writer(self, where: str, setup: Callable[[Any], None]) -> None:
        """Start a writer and wait until it serves, or says another one does; raise what it failed with."""
        config = base64.b64encode(pickle.dumps((where, self._connect, setup, self._max_batch))).decode()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        child = subprocess.Popen(
            [sys.executable, "-m", __name__, config],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # it serves other engines after this one has gone
        )
        assert child.stdout is not None
        with child.stdout:
            status = child.stdout.read()  # closed by the writer once it serves, or when it ends
        if status:
            raise pickle.loads(status)

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return self._request(CALL, fn, args)

    def submit_rows(
        self, fn: Callable[[Any, list[Any]], list[T] | None], rows: list[Any]
    ) -> asyncio.Future[list[T] | None]:
        return self._request(ROWS, fn, rows)

    def submit_together(
        self, parts: Sequence[tuple[Callable[[Any, list[Any]], None], list[Any]]]
    ) -> asyncio.Future[None]:
        return self._request(TOGETHER, None, list(parts))

    def _request(self, kind: int, fn: Any, payload: Any) -> asyncio.Future[Any]:
        if not self._accepting:
            raise StoreClosedError("the store is not open")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            ident = next(self._ids)
            self._waiting[ident] = (loop, future)
            self._pending.append((ident, kind, fn, payload))
            count = len(self._pending)
        if count == 1:  # the rest of this turn's requests join it in one frame
            self._on_home(self._flush)
        elif count >= FRAME_MOST and loop is self._home:
            self._flush()  # a long turn: the writer starts on these while the loop works on the rest
        return future

    def _on_home(self, callback: Callable[[], None]) -> None:
        home = self._home
        assert home is not None
        try:
            if asyncio.get_running_loop() is home:
                home.call_soon(callback)
                return
        except RuntimeError:  # no loop in this thread
            pass
        home.call_soon_threadsafe(callback)

    def _flush(self) -> None:
        with self._lock:
            if self._held:
                return
            requests, self._pending = self._pending, []
        if requests:
            self._send(requests)

    def _send(self, requests: list[Request]) -> None:
        try:
            frame = _frame(requests)
        except Exception as exc:  # an argument that cannot cross: find it, and fail it alone
            if len(requests) > 1:
                for request in requests:
                    self._send([request])
                return
            self._fail([requests[0][0]], TypeError(f"a write's arguments cannot go to the writer: {exc}"))
            return
        link = self._link
        if link is None or not link.send(frame):
            self._fail([ident for ident, *_ in requests], _gone())

    def stop(self) -> concurrent.futures.Future[None]:
        """Refuse new writes; the future resolves once the writer has answered every one sent (and, when
        this was its last engine, has closed the database and ended). The home loop must be running."""
        if self._stopping is not None:
            return self._stopping
        self._accepting = False
        stopping = self._stopping = concurrent.futures.Future()
        if self._link is None:
            stopping.set_result(None)
            return stopping

        def send_stop() -> None:
            with self._lock:
                requests, self._pending = self._pending, []
            self._send([*requests, (0, STOP, None, None)])

        self._on_home(send_stop)
        return stopping

    @property
    def backlog(self) -> int:
        """Writes handed over and not yet answered."""
        return len(self._waiting)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep requests from going to the writer (tests use it to make a group on purpose)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
            self._on_home(self._flush)  # the transport is the home loop's

    # -- answers, on the home loop -------------------------------------------------------------------------

    def _answered(self, replies: list[Reply], commits: int, writes: int) -> None:
        self.commits, self.writes = commits, writes
        with self._lock:
            outcomes = [(*self._waiting.pop(i), result, error) for i, result, error in replies]
        here = [(future, result, error) for loop, future, result, error in outcomes if loop is self._home]
        resolve(here)
        if len(here) < len(outcomes):  # futures of other threads' loops
            hand_back([outcome for outcome in outcomes if outcome[0] is not self._home])

    def _lost(self) -> None:
        """The connection has ended: the writer answered our STOP, or went away."""
        self._accepting = False
        with self._lock:
            lost = list(self._waiting)
        if self._stopping is None or lost:
            log.error("the SQLite writer process went away with %d writes unanswered", len(lost))
        self._fail(lost, _gone())
        if self._stopping is None:
            self._stopping = concurrent.futures.Future()
        if not self._stopping.done():
            self._stopping.set_result(None)

    def _fail(self, idents: list[int], error: BaseException) -> None:
        with self._lock:
            outcomes = [(*self._waiting.pop(i), None, error) for i in idents if i in self._waiting]
        hand_back(outcomes)


class _Link(asyncio.Protocol):
    """The engine's end of the socket, on the home loop: whole answer frames go to the writer's futures.
    Writes are buffered by the transport, so a large frame never blocks the loop (nor, while the writer
    sends a large answer, the two sides each other)."""

    def __init__(self, writer: ProcessWriter) -> None:
        self.writer = writer
        self.transport: asyncio.Transport | None = None
        self.received = FrameBuffer(1 << 16)  # answers are small

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, frame: bytes) -> bool:
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(frame)
        return True

    def data_received(self, data: bytes) -> None:
        self.received.feed(data)
        try:
            for replies, commits, writes in self.received.frames():
                self.writer._answered(replies, commits, writes)
        except Exception:  # an answer that could not be read: nothing after it can be trusted
            log.exception("the SQLite writer process answered what could not be read")
            assert self.transport is not None
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.writer._lost()


def _gone() -> StoreClosedError:
    return StoreClosedError("the SQLite writer process has gone away")


# -- the writer process -----------------------------------------------------------------------------------


class _Engine:
    """One connected engine process: what it has sent and not yet been read as whole frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = FrameBuffer()
        self.leaving = False  # it asked to stop, or went away


class _Writer:
    """One thread, no event loop: read every request waiting on every engine's socket, commit them as one
    batch, answer each engine, and again. While a commit syncs, new requests wait in the sockets."""

    def __init__(self, listener: socket.socket, committer: Committer, max_batch: int) -> None:
        self.listener = listener
        self.committer = committer
        self.max_batch = max_batch
        self.engines: dict[socket.socket, _Engine] = {}
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.pending: list[Job] = []
        self.joined = False

    def run(self) -> None:
        deadline = time.monotonic() + START_WAIT
        while self.engines or not self.joined:
            if self.pending:
                wait: float | None = 0
            elif not self.joined:
                wait = max(0.0, deadline - time.monotonic())
            else:
                wait = None
            events = self.selector.select(wait)
            if not events and not self.pending and not self.joined:
                return  # the engine that started us went away before it connected
            for key, _ in events:
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._read(self.engines[key.fileobj])  # type: ignore[index]
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            if batch:
                self._answer(self.committer.commit(batch))
            for engine in [e for e in self.engines.values() if e.leaving]:
                self._drop(engine)
        # The last engine has gone: the database closes before its stop() returns (see _drop).

    def _accept(self) -> None:
        sock, _ = self.listener.accept()
        if not _same_user(sock):
            sock.close()
            return
        sock.sendall(b"+")  # blocking: read only when the selector says there is something
        self.engines[sock] = _Engine(sock)
        self.selector.register(sock, selectors.EVENT_READ)
        self.joined = True

    def _read(self, engine: _Engine) -> None:
        try:
            count = engine.received.recv_from(engine.sock)
        except OSError:
            count = 0
        if not count:  # gone: what it sent is still committed
            engine.leaving = True
            return
        for requests in engine.received.frames():
            for ident, kind, fn, payload in requests:
                if kind == STOP:
                    engine.leaving = True
                elif kind == TOGETHER:
                    self.pending += [Job(part, rows, (engine, ident), None) for part, rows in payload]
                elif kind == ROWS:
                    self.pending.append(Job(fn, payload, (engine, ident), None))
                else:
                    self.pending.append(Job(fn, None, (engine, ident), None, payload))

    def _answer(self, outcomes: list[tuple[Job, tuple[Any, BaseException | None]]]) -> None:
        replies: dict[_Engine, list[Reply]] = {}
        for job, (result, error) in outcomes:
            engine, ident = job.future
            replies.setdefault(engine, []).append((ident, result, error))
        for engine, items in replies.items():
            frame = _answers(items, self.committer)
            try:
                engine.sock.sendall(frame)  # its replies thread reads all the time
            except OSError:
                engine.leaving = True

    def _drop(self, engine: _Engine) -> None:
        if any(job.future[0] is engine for job in self.pending):
            return  # answer what it sent first
        self.selector.unregister(engine.sock)
        del self.engines[engine.sock]
        if not self.engines:  # the last one: take no more, and close the database before it hears
            self.selector.unregister(self.listener)
            self.listener.close()
            self.committer.conn.close()
        engine.sock.close()


def _answers(replies: list[Reply], commits: Committer) -> bytes:
    try:
        return _frame((replies, commits.commits, commits.writes))
    except Exception:  # a result or an error that cannot cross: say so in its place
        crossable = [(ident, *_crossable_outcome(result, error)) for ident, result, error in replies]
        return _frame((crossable, commits.commits, commits.writes))


def _crossable_outcome(result: Any, error: BaseException | None) -> tuple[Any, BaseException | None]:
    try:
        pickle.dumps((result, error))
        return result, error
    except Exception as exc:
        if error is not None:
            return None, _crossable(error)
        return None, TypeError(f"a write's result cannot go back to the engine: {exc}")


def _crossable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _bind(listener: socket.socket, where: str) -> None:
    if where.startswith("\0"):
        listener.bind(where)
        return
    with contextlib.suppress(OSError):  # pragma: no cover - not Linux: a socket file left by a dead writer
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(where)
        except ConnectionRefusedError:
            os.unlink(where)
        finally:
            probe.close()
    old = os.umask(0o177)  # pragma: no cover - the file is ours alone: 0600
    try:
        listener.bind(where)
    finally:
        os.umask(old)


def _run_writer(config: str, status: BinaryIO) -> None:
    where, connect, setup, max_batch = pickle.loads(base64.b64decode(config))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _bind(listener, where)
    except OSError:  # another writer has the address: the engine connects to it
        status.close()
        return
    try:
        conn = writer_connection(connect, setup)
        conn.gil_to_itself = True  # type: ignore[attr-defined]  # no event loop here: see `OneStatement`
    except Exception as exc:
        status.write(pickle.dumps(_crossable(exc)))
        status.close()
        return
    listener.listen(64)
    status.close()  # serving: the engine that started us connects now
    _Writer(listener, Committer(conn), max_batch).run()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engines stop; we end after the last of them
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    status = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    _run_writer(sys.argv[1], status)


if __name__ == "__main__":
    main()
