"""Group commit: one thread runs every write, many callers' writes to one transaction and one fsync.

A caller hands over a function of the connection and awaits its result. The thread takes whatever is
waiting, runs it all in one transaction, commits once, and only then resolves the callers' futures: a
result means the write is durable. While one commit syncs, the next callers queue up and share the next.
When a function raises, the transaction is rolled back and the batch runs again with each caller's write in
its own SAVEPOINT, so the write that raised rolls back only its own changes and its caller alone gets the
exception. Savepoints are not used otherwise: each costs two more statements, and every statement hands the
GIL to the event loop and waits to get it back (in an engine that also sends, savepoints took about 6% of
the writer's time). So a function may run twice, and must depend on nothing but the database and its
arguments, which it leaves unchanged.

Rows for one function (`submit_rows`: each intake request's messages, each plugin put) are handed over at
once and merged on the thread: the waiting jobs of one function become one call over all their rows, also
when jobs of another row function come between them (a host enqueues a message and puts a value of its
own with it). So the first request of a burst starts a commit at once, the rest of the burst shares the next
one, and the event loop keeps answering requests while the disk syncs (joining them on the event loop
instead, at the end of its turn, made every request of a burst wait for the whole burst before its write
even started). One caller's rows for several row functions (`submit_together`: a message and a host's value
stored with it) are one job with one future: each part joins its function's run, all in the same transaction.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from .records import StoreClosedError
from .sqlite_retry import forget_read_rows
from .sqlite_schema import execute_when_unlocked

__all__ = [
    "Committer",
    "GroupCommitWriter",
    "Job",
    "OneStatement",
    "StoreClosedError",
    "hand_back",
    "has_gil_to_itself",
    "writer_connection",
]

T = TypeVar("T")
BUSY_WAIT = 10.0  # seconds a write waits for another process's write lock before it fails
R = TypeVar("R")
Outcome = tuple[Any, BaseException | None]  # what a job answered, or what it raised
JobOutcome = tuple["Job", Outcome]


class Job:
    """One caller's write: `fn(conn, *args)`, or with `rows`, `fn(conn, rows)` (which jobs of one fn can
    share). `future` stands for the caller: the parts of a `submit_together` share one. In the writer
    process it is not a future but the engine's request, and `loop` is None."""

    __slots__ = ("args", "fn", "future", "loop", "rows")

    def __init__(
        self,
        fn: Callable[..., Any],
        rows: list[Any] | None,
        future: Any,
        loop: asyncio.AbstractEventLoop | None,
        args: tuple[Any, ...] = (),
    ) -> None:
        self.fn = fn
        self.rows = rows
        self.future = future
        self.loop = loop
        self.args = args


class OneStatement:
    """A row function that is one SQL statement over all its rows: `params(rows)` gives its parameters.
    Alone in a batch it runs as its own transaction (see `GroupCommitWriter._commit_at_once`).

    With `each_sql` and `each(rows)` (the rows as that statement's parameters, one tuple per row), a
    writer that has the GIL to itself (see `has_gil_to_itself`) runs `each_sql` over them with
    `executemany` instead, inside its transaction."""

    __slots__ = ("each", "each_sql", "params", "sql")

    def __init__(
        self,
        sql: str,
        params: Callable[[list[Any]], Sequence[Any]],
        *,
        each_sql: str | None = None,
        each: Callable[[list[Any]], list[tuple[Any, ...]]] | None = None,
    ) -> None:
        self.sql = sql
        self.params = params
        self.each_sql = each_sql
        self.each = each

    def __call__(self, conn: sqlite3.Connection, rows: list[Any]) -> None:
        if self.row_by_row(conn):
            conn.executemany(self.each_sql, self.each(rows))  # type: ignore[arg-type,misc]
        else:
            conn.execute(self.sql, self.params(rows))

    def row_by_row(self, conn: sqlite3.Connection) -> bool:
        """Whether it runs with `executemany` on `conn` (and so needs a transaction around it)."""
        return self.each is not None and has_gil_to_itself(conn)

    # Equal by what it runs: the writer process unpickles a new one from every frame, and the jobs of
    # different frames must still join one statement (`_merged` groups by function).
    def _key(self) -> tuple[Any, ...]:
        return (self.sql, self.params, self.each_sql, self.each)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OneStatement) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def has_gil_to_itself(conn: sqlite3.Connection) -> bool:
    """Whether `conn` is the writer process's, which no event loop shares the GIL with.

    A writer thread must hand its rows to SQLite packed in one parameter (see `sqlite_bulk`): every
    statement step lets go of the GIL and waits for the event loop to give it back. The writer process
    waits for nobody, and there `executemany` over plain rows costs SQLite less than reading them back out
    of JSON: an enqueued message took 77,000 instructions against 124,000 packed (callgrind, 14 to a
    commit)."""
    return getattr(conn, "gil_to_itself", False)


class _Together:
    """Queued by `submit_together`: parts that the thread takes into one batch."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Job]) -> None:
        self.parts = parts


class _Stop:
    """Queued by `stop()`: everything queued before it is committed, then the thread ends."""

    def __init__(self) -> None:
        self.done: concurrent.futures.Future[None] = concurrent.futures.Future()


class GroupCommitWriter:
    """The single writer of one database. `commits` and `writes` count transactions and functions run."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, max_batch: int = 2000) -> None:
        self._connect = connect
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | _Together | _Stop] = queue.SimpleQueue()
        self._gate = threading.Lock()
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._committer: Committer | None = None

    @property
    def commits(self) -> int:
        return self._committer.commits if self._committer else 0

    @property
    def writes(self) -> int:
        return self._committer.writes if self._committer else 0

    def start(self, setup: Callable[[sqlite3.Connection], None]) -> concurrent.futures.Future[None]:
        """Start the thread; the future resolves once it has connected and run `setup` (or failed to)."""
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._accepting = True
        self._thread = threading.Thread(
            target=self._run, args=(setup, ready), name="sqlite-writer", daemon=True
        )
        self._thread.start()
        return ready

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue `fn(conn, *args)` for the next transaction; the future resolves once that transaction is
        committed. `fn` runs again when another write of its transaction raised (see the module's
        docstring)."""
        return self._put(fn, None, args)

    def submit_rows(
        self, fn: Callable[[sqlite3.Connection, list[R]], list[T] | None], rows: list[R]
    ) -> asyncio.Future[list[T] | None]:
        """Queue `fn(conn, rows)`; waiting jobs of the same `fn` run as one call over all their rows (in
        the order they were queued). `fn` answers None, or one answer per row: the future gets those of
        `rows`. `fn` must accept any number of rows and write only tables no other row function writes:
        row jobs of different functions may run in either order."""
        return self._put(fn, rows)

    def submit_together(
        self, parts: Sequence[tuple[Callable[[sqlite3.Connection, list[Any]], None], list[Any]]]
    ) -> asyncio.Future[None]:
        """Queue rows for several row functions as one caller's write: every part joins its function's
        run in the same batch, and the future resolves once their transaction is committed (with the
        first error of any part, if one failed)."""
        future = self._future()
        loop = future.get_loop()
        self._queue.put(_Together([Job(fn, rows, future, loop) for fn, rows in parts]))
        return future

    def _put(
        self, fn: Callable[..., Any], rows: list[Any] | None, args: tuple[Any, ...] = ()
    ) -> asyncio.Future[Any]:
        future = self._future()
        self._queue.put(Job(fn, rows, future, future.get_loop(), args))
        return future

    def _future(self) -> asyncio.Future[Any]:
        if not self._accepting:
            raise StoreClosedError("the store is not open")
        return asyncio.get_running_loop().create_future()

    def stop(self) -> concurrent.futures.Future[None]:
        """Refuse new writes, commit the queued ones, close the connection; the future says when done."""
        self._accepting = False
        stop = _Stop()
        if self._thread is None or not self._thread.is_alive():
            stop.done.set_result(None)
        else:
            self._queue.put(stop)
        return stop.done

    @property
    def backlog(self) -> int:
        """Writes queued and not yet taken by the thread."""
        return self._queue.qsize()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the thread from starting a transaction (tests use it to make a group on purpose)."""
        with self._gate:
            yield

    # -- the thread --------------------------------------------------------------------------------------

    def _run(
        self, setup: Callable[[sqlite3.Connection], None], ready: concurrent.futures.Future[None]
    ) -> None:
        try:
            conn = writer_connection(self._connect, setup)
        except BaseException as exc:
            self._accepting = False
            ready.set_exception(exc)
            return
        committer = self._committer = Committer(conn)
        ready.set_result(None)
        stop: _Stop | None = None
        try:
            while stop is None:
                first = self._queue.get()
                if isinstance(first, _Stop):
                    stop = first
                    break
                with self._gate:
                    batch = _jobs(first)
                    while len(batch) < self._max_batch:
                        try:
                            job = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if isinstance(job, _Stop):
                            stop = job
                            break
                        batch += _jobs(job)
                    outcomes = committer.commit(batch)
                    hand_back((job.loop, job.future, *outcome) for job, outcome in outcomes)
        finally:
            conn.close()
            if stop is not None:
                stop.done.set_result(None)


class Committer:
    """Runs batches of writes on the writer's connection; `commits` and `writes` count transactions and
    the functions they carried. `GroupCommitWriter`'s thread uses one, and so does the writer process
    (`sqlite_process`), which reads its batches from sockets instead of a queue."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.commits = 0
        self.writes = 0

    def commit(self, batch: list[Job]) -> list[JobOutcome]:
        """The batch in one transaction (see the module's docstring): one outcome per caller, as the
        parts of a `submit_together` job share their caller (`future`), and an error wins."""
        outcomes = self._commit_at_once(_merged(batch))
        self.writes += len(batch)
        settled: dict[Any, JobOutcome] = {}
        for job, outcome in outcomes:
            if outcome[1] is not None or job.future not in settled:
                settled[job.future] = (job, outcome)
        return list(settled.values())

    def _commit_at_once(self, groups: list[list[Job]]) -> list[JobOutcome]:
        """The groups in one transaction without savepoints; a lone `OneStatement` group with its rows
        packed runs as its own transaction, without BEGIN and COMMIT, so it hands the GIL over once. When a
        write raises, all of it rolls back and each caller's write runs again in a savepoint of its own, so
        a failure is only that caller's. When the transaction cannot begin (another process held the write
        lock for all of `BUSY_WAIT`), every write fails at once: beginning again would only wait as long
        again."""
        conn = self.conn
        fn = groups[0][0].fn
        lone = len(groups) == 1 and isinstance(fn, OneStatement) and not fn.row_by_row(conn)
        if not lone:
            try:
                execute_when_unlocked(conn, "BEGIN IMMEDIATE", BUSY_WAIT)
            except Exception as exc:
                return [(job, (None, exc)) for group in groups for job in group]
        outcomes: list[JobOutcome] = []
        try:
            if lone:
                execute_when_unlocked(conn, fn.sql, BUSY_WAIT, fn.params(_rows_of(groups[0])))
                outcomes = [(job, (None, None)) for job in groups[0]]
            else:
                for group in groups:
                    outcomes += [(job, (result, None)) for job, result in _run_group(conn, group)]
                conn.execute("COMMIT")
        except Exception as exc:
            _roll_back(conn)
            jobs = [job for group in groups for job in group]
            if len(jobs) == 1:
                return [(jobs[0], (None, exc))]
            return self._commit_in_savepoints(_by_caller(jobs))  # find the ones that broke
        self.commits += 1
        return outcomes

    def _commit_in_savepoints(self, callers: list[list[Job]]) -> list[JobOutcome]:
        """Each caller's jobs in a savepoint of one transaction: a caller whose write raises has all of it
        rolled back (a message and the host's value stored with it), and the others' are committed."""
        conn = self.conn
        outcomes: list[JobOutcome] = []
        try:
            execute_when_unlocked(conn, "BEGIN IMMEDIATE", BUSY_WAIT)
            for jobs in callers:
                outcome = _in_savepoint(conn, lambda jobs=jobs: _run_jobs(conn, jobs))
                outcomes += [(job, outcome) for job in jobs]
            conn.execute("COMMIT")
            self.commits += 1
        except Exception as exc:  # the transaction itself failed: nobody's write is durable
            _roll_back(conn)
            return [(job, (None, exc)) for jobs in callers for job in jobs]
        return outcomes


def writer_connection(
    connect: Callable[[], sqlite3.Connection], setup: Callable[[sqlite3.Connection], None]
) -> sqlite3.Connection:
    conn = connect()
    setup(conn)
    # From here the writer waits for another process's write lock itself: SQLite's own busy handler
    # sleeps 1, 2, 5, 10 ... 100 ms between tries, which put 100 ms and more in the tail of every request
    # that met a commit of the other process.
    conn.execute("PRAGMA busy_timeout = 0")
    return conn


def _jobs(item: Job | _Together) -> list[Job]:
    return item.parts if isinstance(item, _Together) else [item]


def _by_caller(jobs: list[Job]) -> list[list[Job]]:
    """The jobs of each caller (the parts of a `submit_together` share its future), callers in the order
    they came. Only row jobs have parts, and row functions commute, so a part may move ahead of another
    caller's job."""
    callers: dict[asyncio.Future[Any], list[Job]] = {}
    for job in jobs:
        callers.setdefault(job.future, []).append(job)
    return list(callers.values())


def _merged(batch: list[Job]) -> list[list[Job]]:
    """The batch in runs: the row jobs between two other jobs, one run per function in the order each
    function first came; every other job a run of its own. Row functions write tables of their own
    (messages, plugin data), so they commute with each other; any other job may read what came before it,
    so none is moved across one."""
    groups: list[list[Job]] = []
    runs: dict[Callable[..., Any], list[Job]] = {}  # the row runs since the last other job
    for job in batch:
        if job.rows is None:
            groups.append([job])
            runs = {}
        elif job.fn in runs:
            runs[job.fn].append(job)
        else:
            runs[job.fn] = [job]
            groups.append(runs[job.fn])
    return groups


def _run_job(conn: sqlite3.Connection, job: Job) -> Any:
    return job.fn(conn, *job.args) if job.rows is None else job.fn(conn, job.rows)


def _run_jobs(conn: sqlite3.Connection, jobs: list[Job]) -> Any:
    """One caller's jobs (one job, or the parts of a `submit_together`), each on its own rows; the first
    one's answer is the caller's, as when they run merged with others' (see `Committer.commit`)."""
    results = [_run_job(conn, job) for job in jobs]
    return results[0]


def _run_group(conn: sqlite3.Connection, group: list[Job]) -> list[tuple[Job, Any]]:
    """One function's jobs as one call, and what each job gets: a row function answers None, or a list
    with one answer per row, of which each job gets those of its own rows (so no caller is handed, nor
    has to unpickle, everyone's)."""
    if len(group) == 1:
        return [(group[0], _run_job(conn, group[0]))]
    answer = group[0].fn(conn, _rows_of(group))
    if answer is None:
        return [(job, None) for job in group]
    shares, start = [], 0
    for job in group:
        count = len(job.rows or ())
        shares.append((job, answer[start : start + count]))
        start += count
    return shares


def _rows_of(group: list[Job]) -> list[Any]:
    return [row for job in group for row in job.rows or ()]


def _in_savepoint(conn: sqlite3.Connection, run: Callable[[], Any]) -> Outcome:
    """`run()` inside a savepoint: what it answered, or what it raised with its changes rolled back."""
    conn.execute("SAVEPOINT op")
    try:
        result = run()
    except Exception as exc:
        conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        forget_read_rows(conn)
        return None, exc
    conn.execute("RELEASE op")
    return result, None


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
    forget_read_rows(conn)  # the rows it took may have been read into the recent retry keys


def hand_back(
    outcomes: Iterable[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Any, BaseException | None]],
) -> None:
    """Resolve each future on its own event loop, from any thread: one call into each loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
    for loop, future, result, error in outcomes:
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody is waiting
            loop.call_soon_threadsafe(resolve, items)


def resolve(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """Settle each future with its result or error, on the thread of its loop."""
    for future, result, error in items:
        if future.done():  # the caller was cancelled; the write is committed all the same
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
