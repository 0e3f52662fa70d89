"""Scale-out: end-to-end SMS per second with 1, 2 and 4 engine processes, and memory with a million queued.

    python3 dev.py bench --scale [--quick]
    python3 dev.py run python bench/scale.py [--messages N] [--rounds R] [--quick]

- **Processes**: `channel-engine serve --workers N` (N = 1, 2, 4) on Redis and on SQLite, measured as
  bench/run.py measures end to end (its helpers): 1,000-message batches POSTed until the store counts every
  message DELIVERED. Rounds are interleaved, so the shared machine's noise falls on every configuration
  alike; each figure is the median of its rounds and is reported as a ratio to the 1-process figure of the
  same store from the same run.
- **Memory**: `--messages` (a million) messages held in the queue by a sending speed limit of one a day,
  POSTed in 1,000-message batches by several concurrent posters to `--memory-workers` engine processes.
  Redis: its used_memory (INFO memory) and its append-only files, empty and full; SQLite: its database
  files. For both: each engine process's resident memory (VmRSS) when idle and when the queue is full.

Every Redis is a fresh redis-server (AOF with appendfsync always, as production should run it) and every
SQLite a fresh directory. Results go to bench/scale-results.md (and are printed); progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, Proc, deliver_all, engine, message, message_states

from channel_engine.testing.redis_server import RedisServer, redis_binary

STORES = ("redis", "sqlite")
PROCESSES = (1, 2, 4)
BATCH = 1000
POSTERS = 4
MIB = 1024 * 1024


def say(text: str) -> None:
    print(f"[scale] {text}", file=sys.stderr, flush=True)


# -- engines and their stores ---------------------------------------------------------------------------


@dataclass
class Engine:
    """A running `serve --workers N`, its engine processes' pids and, on Redis, its server."""

    proc: Proc
    pids: list[int]
    directory: Path
    redis: RedisServer | None = None

    @property
    def url(self) -> str:
        return self.proc.url


@contextlib.contextmanager
def running_engine(store: str, workers: int) -> Iterator[Engine]:
    """An engine on a fresh, empty store: a new redis-server, or a new SQLite directory."""
    with tempfile.TemporaryDirectory(prefix="ce-scale-") as tmp:
        directory = Path(tmp)
        server = None
        if store == "redis":
            binary = redis_binary()
            if binary is None:
                raise SystemExit("no redis-server: `python3 dev.py bench --scale` installs it")
            server = RedisServer(directory / "redis", binary).start()
        try:
            proc = engine(str(directory / "data"), workers=workers, store_url=server.url if server else None)
            pids: list[int] = []
            try:
                proc.ready()
                pids = engine_pids(proc, workers)
                yield Engine(proc, pids, directory, server)
            except Exception:
                say("the engine's last words:\n" + "".join(proc.tail)[-4000:])
                raise
            finally:
                stop(proc, pids)
        finally:
            if server is not None:
                server.stop()


def engine_pids(proc: Proc, workers: int) -> list[int]:
    """The processes that run the engine: `serve` itself with one worker, else the supervisor's spawned
    children. Waits until every worker answers /healthz (which names its process), so none is still
    starting when the measurement begins."""
    if workers == 1:
        pids = [proc.proc.pid]
    else:
        pids = wait_for(lambda: spawned_children(proc.proc.pid), workers, "worker processes")
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while seen != set(pids) and time.monotonic() < deadline:
        # A new connection per call: the kernel hands each to whichever worker accepts first.
        pid = httpx.get(proc.url + "/healthz", timeout=5, headers={"Connection": "close"}).json()["process"]
        if pid not in pids:
            raise RuntimeError(f"/healthz answered from process {pid}, not one of the workers {pids}")
        seen.add(pid)
    if seen != set(pids):
        say(f"only {sorted(seen)} of {pids} answered /healthz within 30 s; measuring anyway")
    return pids


def wait_for(find: Callable[[], list[int]], count: int, what: str) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = find()
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise RuntimeError(f"expected {count} {what}, found {found}")


def spawned_children(parent: int) -> list[int]:
    """Children of `parent` started by multiprocessing's spawn (uvicorn's workers; not its resource
    tracker)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in field 2 may hold spaces and parentheses: split after its closing one.
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (entry / "cmdline").read_bytes():
                children.append(int(entry.name))
        except (OSError, IndexError, ValueError):  # the process ended while we looked
            continue
    return sorted(children)


def stop(proc: Proc, pids: list[int]) -> None:
    """SIGTERM to `serve` (its supervisor stops the workers); a worker still alive 15 s later is killed, so
    no run leaves processes eating the CPU of the next one."""
    proc.stop()
    deadline = time.monotonic() + 15
    for pid in pids:
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            say(f"engine process {pid} outlived its supervisor: killing it; the engine's last words:")
            say("".join(proc.tail)[-4000:])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (its peak) from /proc, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def size_of(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


# -- (a) SMS per second by process count ----------------------------------------------------------------


def measure_throughput(total: int, rounds: int) -> dict[tuple[str, int], list[float]]:
    """SMS per second of every (store, processes), `rounds` times, interleaved."""
    results: dict[tuple[str, int], list[float]] = {(s, n): [] for s in STORES for n in PROCESSES}
    for round_number in range(1, rounds + 1):
        for store, workers in results:
            with running_engine(store, workers) as eng:
                result = asyncio.run(deliver_all(eng.url, total, BATCH))
            results[(store, workers)].append(result["per_second"])
            say(
                f"round {round_number}/{rounds}: {store}, {workers} process(es): {total:,} SMS in "
                f"{result['seconds']:.1f} s = {result['per_second']:,.0f} SMS/s"
            )
    return results


# -- (b) memory with the queue full ---------------------------------------------------------------------


def held_message(i: int) -> dict:
    """bench/run.py's message, held back by a speed limit of one a day: all but the first stay queued."""
    held = message(i)
    held["options"]["speedLimit"] = {"amount": 1, "timeUnit": "DAY", "key": "bench-held"}
    return held


async def queue_held(url: str, total: int) -> None:
    """POST `total` held messages in batches from concurrent posters, saying how far it got on stderr."""
    starts = iter(range(0, total, BATCH))
    done = 0
    started = time.perf_counter()
    next_report = total // 20 or total

    async def poster(client: httpx.AsyncClient) -> None:
        nonlocal done, next_report
        for start in starts:  # one shared iterator: each batch goes to exactly one poster
            batch = [held_message(i) for i in range(start, min(total, start + BATCH))]
            response = await client.post("/v1/messages", json={"messages": batch})
            response.raise_for_status()
            done += len(batch)
            if done >= next_report:
                next_report += total // 20 or total
                seconds = time.perf_counter() - started
                say(f"  queued {done:,} of {total:,} in {seconds:.0f} s ({done / seconds:,.0f} msg/s)")

    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await asyncio.gather(*(poster(client) for _ in range(POSTERS)))


@dataclass
class MemoryResult:
    store: str
    workers: int
    queued: int = 0
    seconds: float = 0.0
    store_memory: tuple[int, int] | None = None  # Redis used_memory, empty and full (bytes)
    disk: tuple[int, int] = (0, 0)  # the store's files, empty and full (bytes)
    rss: list[tuple[int, int, int]] = field(default_factory=list)  # per process: idle, full, peak (KiB)

    def per_message(self, before_after: tuple[int, int]) -> float:
        return (before_after[1] - before_after[0]) / self.queued


def measure_memory(store: str, total: int, workers: int) -> MemoryResult:
    result = MemoryResult(store, workers)
    with running_engine(store, workers) as eng:
        files = eng.redis.directory if eng.redis else eng.directory / "data"
        info = redis.Redis.from_url(eng.redis.url) if eng.redis else None
        used_before = info.info("memory")["used_memory"] if info else 0
        disk_before = size_of(files)
        idle = {pid: memory_kib(pid)["VmRSS"] for pid in eng.pids}
        started = time.perf_counter()
        asyncio.run(queue_held(eng.url, total))
        result.seconds = time.perf_counter() - started
        result.queued = message_states(httpx.get(eng.url + "/metrics", timeout=120).text)["QUEUED"]
        if info:
            result.store_memory = (used_before, info.info("memory")["used_memory"])
            info.close()
        result.disk = (disk_before, size_of(files))
        for pid in eng.pids:
            now = memory_kib(pid)
            result.rss.append((idle[pid], now["VmRSS"], now["VmHWM"]))
    return result


# -- the report ----------------------------------------------------------------------------------------


def throughput_table(results: dict[tuple[str, int], list[float]], total: int, rounds: int) -> list[str]:
    lines = [
        f"End to end, {total:,} SMS per measurement, median of {rounds} interleaved round(s):",
        "",
        "| store | engine processes | SMS/s (slowest to fastest round) | 1 process, same store, same run "
        "| ratio to 1 process |",
        "|---|---|---|---|---|",
    ]
    for store in STORES:
        baseline = statistics.median(results[(store, 1)])
        for workers in PROCESSES:
            rounds = results[(store, workers)]
            figure = statistics.median(rounds)
            lines.append(
                f"| {store} | {workers} | {figure:,.0f} ({min(rounds):,.0f} to {max(rounds):,.0f}) "
                f"| {baseline:,.0f} | {figure / baseline:.2f} |"
            )
    return lines


def memory_table(results: list[MemoryResult]) -> list[str]:
    lines = [
        "Memory with the queue full (speed limit of one message a day):",
        "",
        "| store | engine processes | messages queued | store memory, empty → full | per queued message "
        "| store files, empty → full | per queued message | RSS of each engine process, idle → full (peak) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.store_memory:
            memory = f"{mib(r.store_memory[0])} → {mib(r.store_memory[1])}"
            memory_each = f"{r.per_message(r.store_memory):,.0f} B"
        else:
            memory, memory_each = "n/a (inside the engine)", "n/a"
        rss = "; ".join(
            f"{idle / 1024:.0f} → {full / 1024:.0f} ({peak / 1024:.0f}) MiB" for idle, full, peak in r.rss
        )
        lines.append(
            f"| {r.store} | {r.workers} | {r.queued:,} | {memory} | {memory_each} "
            f"| {mib(r.disk[0])} → {mib(r.disk[1])} | {r.per_message(r.disk):,.0f} B | {rss} |"
        )
    return lines


def mib(size: int) -> str:
    return f"{size / MIB:,.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, help="messages queued for the memory part (1,000,000)")
    parser.add_argument("--sms", type=int, help="SMS per end-to-end measurement (50,000)")
    parser.add_argument("--rounds", type=int, help="end-to-end rounds per configuration (3)")
    parser.add_argument("--memory-workers", type=int, default=2, help="engine processes for the memory part")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 queued, 5,000 SMS, 1 round")
    args = parser.parse_args(argv)
    # --quick changes the defaults only: a size given on the command line wins.
    quick = {"messages": 20_000, "sms": 5_000, "rounds": 1}
    full = {"messages": 1_000_000, "sms": 50_000, "rounds": 3}
    for name, default in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    started = time.perf_counter()
    say(
        f"end to end: {args.sms:,} SMS x {len(STORES) * len(PROCESSES)} configurations x {args.rounds} rounds"
    )
    throughput = measure_throughput(args.sms, args.rounds)
    memory = []
    for store in STORES:
        say(f"memory: {args.messages:,} held messages on {store}, {args.memory_workers} engine processes")
        memory.append(measure_memory(store, args.messages, args.memory_workers))
        say(f"  {memory[-1].queued:,} queued in {memory[-1].seconds:.0f} s")
    minutes = (time.perf_counter() - started) / 60
    lines = [
        *throughput_table(throughput, args.sms, args.rounds),
        "",
        *memory_table(memory),
        "",
        f"Measured on {os.cpu_count()} CPU cores in {minutes:.1f} minutes.",
    ]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "scale-results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
