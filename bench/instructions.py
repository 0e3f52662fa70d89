"""SFMC execute: the instructions the serving process runs per request, and how often it misses the
processor's L2 cache, against the bare endpoint's.

    python3 dev.py bench --instructions [--quick]

Requests per second on this shared two-core machine swing by a third from one run to the next (see the
README's Benchmarks); the number of instructions a request takes does not. Each server runs under
`valgrind --tool=callgrind` with counting off: the engine as in sfmc_execute's execute-path row (the intake
process alone, the business unit configured, nothing sent), and bench/bare_app.py. Each is warmed up, then
counts (`callgrind_control -i on`) while `requests` signed execute bodies (the bare endpoint gets the same
bodies) arrive over 16 keep-alive connections, and stops counting; the dump callgrind writes then holds the
total. Only the serving process is counted: the engine's SQLite writer process runs outside valgrind (its
work is the commits), and so does the client.

What the count leaves out, both ways: valgrind runs OpenSSL without the processor's SHA extensions, so the
HMAC of each JWT counts tens of thousands more instructions than the processor runs (the engine's figure is
the higher for it); and an instruction is not a unit of time: after the engine's process sleeps through a
commit it runs slower for a while, which the count cannot see and the throughput figures do.

Callgrind also simulates the caches, here with this machine's L1 and L2 (read from sysfs; its L2 stands in
for callgrind's last level), and counts the misses of the L2: each one waits for the shared L3, or for
memory when other tenants of the machine have taken the L3, so they are the part of a request's time that
depends on its neighbours. The simulation sees this process alone, not the writer or the client.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import Proc, bare_command, write_rows
from sfmc_execute import GOAL_RATIO, MID, SfmcEngine, Signed, burst, run_async

ROW_PREFIX = "| instructions per request"
MISSES_PREFIX = "| L2 cache misses per request"
SYSFS_CACHES = Path("/sys/devices/system/cpu/cpu0/cache")
FALLBACK_L2 = "--LL=1048576,16,64"  # 1 MiB, 16-way, 64-byte lines: the L2 of recent x86 cores
CONNECTIONS = 16
PATIENCE = 600.0  # seconds for a server under valgrind to start and answer (imports run 50 times slower)


def counted(
    proc: Proc, path: str, bodies: list[bytes], warm: int, *, engine: bool, out: Path
) -> dict[str, float]:
    """Callgrind's events (Ir, the instructions; ILmr, DLmr, DLmw, the last level's misses) per request of
    `proc`'s process for the bodies after the first `warm`."""
    pid = str(proc.proc.pid)
    run_async(burst(proc.url, path, bodies[:warm], CONNECTIONS, engine=engine))
    callgrind_control("-i", "on", pid)
    run_async(burst(proc.url, path, bodies[warm:], CONNECTIONS, engine=engine))
    callgrind_control("-i", "off", pid)
    callgrind_control("--dump", pid)
    dumps = sorted(out.parent.glob(out.name + ".*"))
    if not dumps:
        raise RuntimeError(f"callgrind wrote no dump for {path}")
    text = dumps[-1].read_text(errors="replace")
    events = re.search(r"^events: (.+)$", text, re.MULTILINE)
    totals = re.search(r"^totals: (.+)$", text, re.MULTILINE)
    if events is None or totals is None:
        raise RuntimeError(f"callgrind's dump {dumps[-1]} has no events or totals line")
    counts = dict(zip(events.group(1).split(), map(int, totals.group(1).split()), strict=False))
    return {name: count / (len(bodies) - warm) for name, count in counts.items()}


def callgrind_control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=PATIENCE)


def under_callgrind(out: Path) -> tuple[str, ...]:
    return (
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        "--cache-sim=yes",
        *cache_geometry(),
    )


@functools.cache  # read once: both servers run under it, and the report names the L2 it simulated
def cache_geometry() -> tuple[str, ...]:
    """Callgrind's --I1, --D1 and --LL (size, ways, line) for this machine's L1 caches and its L2 (always
    an --LL: the fallback L2 when sysfs has none, beside whatever L1 sizes it did give)."""
    options = {}
    for index in sorted(SYSFS_CACHES.glob("index*")):
        try:
            level, kind, size, ways, line = (
                (index / name).read_text().strip()
                for name in ("level", "type", "size", "ways_of_associativity", "coherency_line_size")
            )
        except OSError:
            continue
        option = {("1", "Data"): "--D1", ("1", "Instruction"): "--I1", ("2", "Unified"): "--LL"}.get(
            (level, kind)
        )
        if not option or not size.endswith("K"):
            continue
        total = int(size[:-1]) * 1024
        sets = total // (int(ways) * int(line))
        if sets & (sets - 1) == 0:  # callgrind simulates only a power of two of sets
            options[option] = f"{option}={total},{ways},{line}"
    if "--LL" not in options:  # without sysfs, callgrind's own guess would be the L3
        options["--LL"] = FALLBACK_L2
    return tuple(options.values())


def measure(requests: int, warm: int) -> dict[str, dict[str, float]]:
    signed = Signed(2 * (warm + requests))
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bare.callgrind"
        with Proc([*under_callgrind(out), *bare_command()]) as bare:
            bare.ready(PATIENCE)
            print(
                f"bare endpoint under callgrind: {warm:,} to warm up, then {requests:,} counted", flush=True
            )
            results["bare"] = counted(
                bare, "/v1/messages", signed.take(warm + requests), warm, engine=False, out=out
            )
        out = Path(scratch) / "engine.callgrind"
        # Its SFMC credentials are never used: nothing is sent, so no report row is written back.
        engine = SfmcEngine("http://127.0.0.1:9/", ("intake",), wrap=under_callgrind(out), patience=PATIENCE)
        try:
            print(
                f"engine under callgrind: {warm:,} executes to warm up, then {requests:,} counted", flush=True
            )
            path = f"/sfmc/{MID}/message/execute"
            results["engine"] = counted(
                engine.proc, path, signed.take(warm + requests), warm, engine=True, out=out
            )
        finally:
            engine.stop()
    return results


def l2_misses(events: dict[str, float]) -> float:
    return events.get("ILmr", 0.0) + events.get("DLmr", 0.0) + events.get("DLmw", 0.0)


def report(results: dict[str, dict[str, float]], requests: int) -> list[str]:
    engine, bare = results["engine"]["Ir"], results["bare"]["Ir"]
    engine_misses, bare_misses = l2_misses(results["engine"]), l2_misses(results["bare"])
    l2 = next(o for o in cache_geometry() if o.startswith("--LL="))
    size, ways, _ = l2.removeprefix("--LL=").split(",")
    print(
        f"L2 misses per request on the serving side ({int(size) // 1024} KiB, {ways}-way): engine "
        f"{engine_misses:,.1f}  bare {bare_misses:,.1f}"
    )
    print(
        f"instructions per request on the serving side: engine {engine:,.0f}  bare {bare:,.0f}  "
        f"bare/engine {bare / engine:.2f} (the throughput goal is >= {GOAL_RATIO:.2f} in requests per second)"
    )
    return [
        f"{ROW_PREFIX} on the serving side (callgrind), sfmc execute, JWT-signed, 1 SMS per request, intake "
        f"process alone, {requests:,} requests over {CONNECTIONS} connections (fewer is better; the ratio is "
        f"bare over engine) | {engine:,.0f} | {bare:,.0f} | {bare / engine:.2f} | none (the goal is "
        f"≥ {GOAL_RATIO:.2f} in req/s) |",
        f"{MISSES_PREFIX} on the serving side (callgrind's simulation of this machine's L2, "
        f"{int(size) // 1024} KiB {ways}-way, instructions and data), the same requests (fewer is better) | "
        f"{engine_misses:,.1f} | {bare_misses:,.1f} | n/a | none |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke test")
    args = parser.parse_args(argv)
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("valgrind is not installed (Debian's package valgrind): `python3 dev.py bench` installs it")
        return 1
    requests, warm = (300, 100) if args.quick else (3000, 1000)
    try:
        results = measure(requests, warm)
    except httpx.HTTPError as exc:
        print(f"a server under callgrind stopped answering: {exc}")
        return 1
    write_rows(report(results, requests), prefix=(ROW_PREFIX, MISSES_PREFIX))
    return 0


if __name__ == "__main__":
    sys.exit(main())
