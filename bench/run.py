"""Benchmarks: intake against a bare starlette endpoint, and end-to-end SMS per second.

    python3 dev.py bench [--quick]
    python3 dev.py bench --scale [--quick]     scale-out and memory instead (bench/scale.py)
    python3 dev.py bench --sfmc [--quick]      only SFMC's JWT-signed execute (bench/sfmc_execute.py), which
                                               the default run also runs last

Every figure is compared with a baseline measured in the same run on the same machine, because the machine
is shared and noisy: the ratio is the result, the absolute numbers are context. Results are written to
bench/results.md (and printed).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import build_request, run_load

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def message(i: int) -> dict:
    return {
        "channel": "sms",
        "destination": f"4179{i:07d}0{i % 100:02d}",  # never a magic ending (991-999)
        "sender": "Bench",
        "content": {"text": f"Hello {i}, your order has shipped: https://example.com/o/{i}"},
        "options": {"callbackData": f"order={i}"},
    }


class Proc:
    """A server in a subprocess; its base URL is read from the line it prints when listening."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **(env or {})}, stderr=subprocess.PIPE, text=True
        )
        self.url = ""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1)
                break
        if not self.url:
            self.proc.kill()  # it said nothing like a URL before it closed its stderr, or it hangs
            self.proc.wait()
            raise RuntimeError(f"{args} did not start")
        # Keep reading what it says, so a full pipe never blocks it in a long run; the last lines explain a
        # failure.
        self.tail: collections.deque[str] = collections.deque(maxlen=50)
        threading.Thread(target=self.tail.extend, args=(self.proc.stderr,), daemon=True).start()

    def ready(self, seconds: float = 10.0) -> None:
        """Wait until it answers (uvicorn binds before the app's start-up completes)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=max(1.0, seconds / 10))
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.url} never answered")

    def minor_faults(self) -> int:
        """Minor page faults so far of this process and its descendants (its writer process): each is a page
        of memory touched for the first time (Linux /proc)."""
        total, pids = 0, [self.proc.pid]
        while pids:
            pid = pids.pop()
            try:
                total += int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])
                pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except (OSError, IndexError, ValueError):  # it ended meanwhile
                continue
        return total

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# The bare endpoints that take turns with an engine: the baseline, on uvicorn's own HTTP protocol, and the
# same endpoint on the engine's protocol (one send per answer), to show what the engine's work costs beside
# a bare endpoint that has the same protocol.
BARE_PROTOCOLS = {"bare": "uvicorn", "bare_engine_protocol": "engine"}


def bare_command(protocol: str = "uvicorn") -> list[str]:
    """The command that serves bench/bare_app.py on uvicorn's own HTTP protocol, or on the engine's
    ("engine")."""
    return [PYTHON, str(ROOT / "bench" / "bare_app.py"), "--protocol", protocol]


def bare_endpoint(protocol: str = "uvicorn") -> Proc:
    return Proc(bare_command(protocol))


def engine(
    data_dir: str, roles: str | None = None, *, workers: int = 1, store_url: str | None = None
) -> Proc:
    """`channel-engine serve` on a free port: SQLite in `data_dir` unless `store_url` names another store."""
    env = {"CHANNEL_ENGINE_DATA_DIR": data_dir}
    if roles:
        env["CHANNEL_ENGINE_ROLES"] = roles
    if store_url:
        env["CHANNEL_ENGINE_STORE"] = store_url
    args = [PYTHON, "-m", "channel_engine.cli", "serve", "--port", "0", "--log-level", "warning"]
    return Proc([*args, "--workers", str(workers)], env)


async def intake(batch: int, connections: int, total_messages: int) -> dict:
    """Batches of `batch` messages: the engine's messages per second, beside the bare endpoint's requests per
    second for the same bodies (it only reads them, so no ratio is drawn)."""
    body = json.dumps({"messages": [message(i) for i in range(batch)]}).encode()
    requests = max(connections, total_messages // batch)
    out = {}
    with bare_endpoint() as bare:
        bare.ready()
        await run_load(
            bare.url + "/v1/messages",
            build_request(bare.url + "/v1/messages", body),
            connections=connections,
            total=min(200, requests),
        )
        result = await run_load(
            bare.url + "/v1/messages",
            build_request(bare.url + "/v1/messages", body),
            connections=connections,
            total=requests,
        )
        out["bare_requests"] = result.per_second
    with tempfile.TemporaryDirectory() as data, engine(data, roles="intake") as eng:
        eng.ready()
        url = eng.url + "/v1/messages"
        await run_load(url, build_request(url, body), connections=connections, total=min(200, requests))
        result = await run_load(url, build_request(url, body), connections=connections, total=requests)
        if set(result.statuses) != {202}:
            raise RuntimeError(f"intake answered {result.statuses}")
        out["engine_messages"] = result.per_second * batch
    return out


def message_states(metrics_text: str) -> dict[str, int]:
    return {
        m.group(1): int(float(m.group(2)))
        for m in re.finditer(r'channel_engine_messages\{state="(\w+)"\} (\S+)', metrics_text)
    }


async def end_to_end(total: int, batch: int) -> dict:
    """Messages per second from the first POST until every message has its final delivery report, with the
    engine on embedded defaults (SQLite, in-process simulator) in one process."""
    with tempfile.TemporaryDirectory() as data, engine(data) as eng:
        eng.ready()
        return await deliver_all(eng.url, total, batch)


async def deliver_all(url: str, total: int, batch: int) -> dict:
    """POST `total` messages in batches from 4 concurrent posters to the engine at `url`, then wait until the
    store counts them all DELIVERED; the engine's store must start empty."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        chunks = [[message(i) for i in range(s, min(total, s + batch))] for s in range(0, total, batch)]
        started = time.perf_counter()

        async def post(chunks: list) -> None:
            while chunks:
                response = await client.post("/v1/messages", json={"messages": chunks.pop()})
                response.raise_for_status()

        await asyncio.gather(*(post(chunks) for _ in range(4)))
        intake_done = time.perf_counter() - started
        while True:
            states = message_states((await client.get("/metrics")).text)
            if states.get("DELIVERED", 0) >= total:
                break
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"not all delivered: {states}")
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
    return {
        "messages": total,
        "seconds": seconds,
        "per_second": total / seconds,
        "intake_seconds": intake_done,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    parser.add_argument(
        "--scale", action="store_true", help="run bench/scale.py (processes and memory) instead"
    )
    parser.add_argument(
        "--sfmc", action="store_true", help="only run bench/sfmc_execute.py (SFMC execute, latency)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only run bench/instructions.py (SFMC execute's instructions per request, under valgrind)",
    )
    args = parser.parse_args()
    if args.scale:
        from scale import main as scale_out

        return scale_out(["--quick"] if args.quick else [])
    if args.instructions:
        from instructions import main as instructions

        return instructions(["--quick"] if args.quick else [])
    from sfmc_execute import main as sfmc_execute

    if args.sfmc:
        return sfmc_execute(["--quick"] if args.quick else [])
    scale = 0.2 if args.quick else 1.0
    ceiling = intake_ceiling(int(10_000 * scale), rounds=1 if args.quick else 5)
    rows = []
    for batch, connections in ((100, 8), (1000, 4)):
        r = asyncio.run(intake(batch, connections, int(200_000 * scale)))
        rows.append((batch, connections, r))
        print(
            f"intake batch={batch:<5} engine {r['engine_messages']:>9,.0f} msg/s  "
            f"(bare endpoint {r['bare_requests']:>7,.0f} req/s of the same bodies)"
        )
    e2e = asyncio.run(end_to_end(int(50_000 * scale), 1000))
    print(f"end to end: {e2e['messages']:,} SMS in {e2e['seconds']:.1f} s = {e2e['per_second']:,.0f} SMS/s")
    write_results(ceiling, rows, e2e)
    return sfmc_execute(["--quick"] if args.quick else [])  # adds its rows to bench/results.md


def intake_ceiling(
    total: int, connections: tuple[int, ...] = (16, 32, 64, 128), rounds: int = 5, warm_up: int = 5_000
) -> dict:
    """Single-message intake at its ceiling: for each server, the connection count with the highest median
    rate over the rounds.

    The servers (the engine and the bare endpoints of BARE_PROTOCOLS) run side by side for the whole
    measurement, are warmed up first (the engine until its memory stops growing: warm_until_steady), and
    take turns in short bursts of `total` requests (which goes first alternates by round), so all meet the
    same moments of a noisy machine: its slow and fast phases last seconds. The goal's ratio is over the
    bare endpoint on uvicorn's own protocol. A fresh engine for each sample measured its first second of
    life (the writer process starting, the log file growing from nothing) and met other moments than the
    bare endpoint a few seconds before. The median, not the best single sample: one quiet second can lift
    either server's best by a third. With few connections the engine is bound by latency, not by
    work: every answer waits for its commit's fsync."""
    body = json.dumps(message(0)).encode()
    # The temporary directory outlives the servers; each server is stopped, even when a later one fails to
    # start.
    with tempfile.TemporaryDirectory() as data, contextlib.ExitStack() as started:
        servers = {
            name: started.enter_context(bare_endpoint(protocol)) for name, protocol in BARE_PROTOCOLS.items()
        }
        servers["engine"] = started.enter_context(engine(data, "intake"))
        requests = {}
        for name, server in servers.items():
            server.ready()
            url = server.url + "/v1/messages"
            requests[name] = (url, build_request(url, body))
            asyncio.run(run_load(url, requests[name][1], connections=max(connections), total=warm_up))

        def warm_burst() -> int:
            url, request = requests["engine"]
            asyncio.run(run_load(url, request, connections=max(connections), total=warm_up))
            return warm_up

        warm_until_steady(
            servers["engine"], warm_burst, most=WARM_MOST, say=lambda line: print("intake " + line)
        )

        def burst(name: str, c: int) -> float:
            url, request = requests[name]
            result = asyncio.run(run_load(url, request, connections=c, total=total))
            if name == "engine" and set(result.statuses) != {202}:
                raise RuntimeError(f"intake answered {result.statuses}")
            return result.per_second

        rates = in_turns(burst, tuple(servers), connections, rounds, say=lambda line: print("intake " + line))
    medians = {server: {c: statistics.median(xs) for c, xs in by_c.items()} for server, by_c in rates.items()}
    out: dict[str, Any] = {server: best_median(by_c) for server, by_c in medians.items()}
    out["ratio"] = out["engine"][1] / out["bare"][1]
    best = {server: max(max(xs) for xs in by_c.values()) for server, by_c in rates.items()}
    out["best_sample_ratio"] = best["engine"] / best["bare"]
    out["fewest"] = {server: (connections[0], by_c[connections[0]]) for server, by_c in medians.items()}
    out["connections"], out["rounds"] = connections, rounds
    print(
        f"intake ceiling (medians): bare {out['bare'][1]:,.0f}  engine {out['engine'][1]:,.0f}  "
        f"ratio {out['ratio']:.2f}; best single samples: bare {best['bare']:,.0f}  engine "
        f"{best['engine']:,.0f}  ratio {out['best_sample_ratio']:.2f}; the bare endpoint on the engine's "
        f"protocol {out['bare_engine_protocol'][1]:,.0f} (engine over it "
        f"{out['engine'][1] / out['bare_engine_protocol'][1]:.2f})"
    )
    return out


STEADY_FAULTS = 0.05  # minor page faults per request under which a server's memory has stopped growing
# Requests at most to warm the intake engine up with: its 64 MiB page cache fills after about 100,000
# messages of this bench (0.16 new pages each).
WARM_MOST = 160_000


def warm_until_steady(
    server: Proc, burst: Callable[[], int], *, most: int, say: Callable[[str], None]
) -> int:
    """Warm `server` up until its memory stops growing: `burst()` sends it a burst and answers how many
    requests that was; bursts go on until the server's processes take fewer than STEADY_FAULTS new pages per
    request, or until `most` requests have been sent. How many were sent.

    A fresh engine's SQLite writer fills its page cache (64 MiB) over its first tens of thousands of
    messages, and on a virtual machine each page touched for the first time costs a fault that the host must
    back with memory: a sixth of the writer's CPU while it lasts (perf). A long-running engine paid that
    once, long ago; the ceiling measures it running, not starting."""
    sent = 0
    while sent < most:
        before = server.minor_faults()
        count = burst()
        sent += count
        per_request = (server.minor_faults() - before) / count
        say(f"warming up: {sent:,} requests, {per_request:.2f} new pages per request")
        if per_request < STEADY_FAULTS:
            return sent
    say(f"warning: still taking {per_request:.2f} new pages per request after {sent:,} requests")
    return sent


def in_turns(
    burst: Callable[[str, int], float],
    names: tuple[str, ...],
    connections: tuple[int, ...],
    rounds: int,
    say: Callable[[str], None],
) -> dict[str, dict[int, list[float]]]:
    """Servers running side by side take turns: each round, at each connection count, `burst(name,
    connections)` measures each server once, who goes first alternating by round, so all meet the same
    moments of a noisy machine (its slow and fast phases last seconds). Every rate, by server and count."""
    rates: dict[str, dict[int, list[float]]] = {name: {} for name in names}
    for round_ in range(rounds):
        for c in connections:
            for name in names if round_ % 2 == 0 else reversed(names):
                rates[name].setdefault(c, []).append(burst(name, c))
            latest = "  ".join(f"{name} {rates[name][c][-1]:>9,.0f}" for name in names)
            say(f"round {round_ + 1}, {c:>3} connections: {latest} req/s")
    return rates


def best_median(medians: dict[int, float]) -> tuple[int, float]:
    """A server's ceiling: the connection count whose median rate was the highest, and that rate."""
    return max(medians.items(), key=lambda item: item[1])


def spoken(counts: Iterable[int]) -> str:
    """16, 32 or 64."""
    *rest, last = (str(c) for c in counts)
    return ", ".join(rest) + f" or {last}" if rest else last


def write_results(ceiling: dict, rows: list, e2e: dict) -> None:
    """The intake and end-to-end rows of the table for the README, each figure beside the bare starlette
    baseline of the same run."""
    bare = ceiling["bare"][1]
    counts = spoken(ceiling["connections"])
    (engine_at, engine), (bare_at, _) = ceiling["engine"], ceiling["bare"]
    (few, engine_few), (_, bare_few) = ceiling["fewest"]["engine"], ceiling["fewest"]["bare"]
    lines = [
        f"| intake, 1 message per request, ceiling (the best of {counts} connections by the median of "
        f"{ceiling['rounds']} rounds; best single samples {ceiling['best_sample_ratio']:.2f}) "
        f"| {engine:,.0f} req/s ({engine_at} connections) "
        f"| {bare:,.0f} req/s ({bare_at} connections) | {ceiling['ratio']:.2f} | ≥ 0.50 |",
        f"| intake, 1 message per request, {few} connections (median; bound by each commit's fsync) "
        f"| {engine_few:,.0f} req/s | {bare_few:,.0f} req/s | {engine_few / bare_few:.2f} | none |",
    ]
    same_at, same = ceiling["bare_engine_protocol"]
    lines.append(
        f"| intake, 1 message per request, the same ceiling against a bare endpoint on the engine's own "
        f"HTTP protocol (one send per answer) in the same turns "
        f"| {engine:,.0f} req/s ({engine_at} connections) "
        f"| {same:,.0f} req/s ({same_at} connections) | {engine / same:.2f} "
        f"| none (the goal's baseline is the bare endpoint on uvicorn's own protocol) |"
    )
    for batch, connections, r in rows:
        lines.append(
            f"| intake, {batch} messages per request, {connections} connections "
            f"| {r['engine_messages']:,.0f} msg/s | {r['bare_requests']:,.0f} req/s | n/a | none |"
        )
    lines.append(
        f"| end to end, {e2e['messages']:,} SMS, embedded defaults | {e2e['per_second']:,.0f} SMS/s "
        f"| {bare:,.0f} req/s | {e2e['per_second'] / bare:.2f} | ≥ 5,000 SMS/s |"
    )
    write_rows(lines, prefix=("| intake", "| end to end"))  # the other benchmarks' rows stay


def write_rows(
    rows: list[str], prefix: str | tuple[str, ...], path: Path = ROOT / "bench" / "results.md"
) -> None:
    """Replace one benchmark's rows (those starting with `prefix`, or with any of several) in the results
    table, or add them, leaving the other rows alone."""
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines:
        lines = [
            "| benchmark | Channel Engine | bare starlette, same run | ratio | goal |",
            "|---|---|---|---|---|",
        ]
    kept = [line for line in lines if not line.startswith(prefix)]
    path.write_text("\n".join([*kept, *rows]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
