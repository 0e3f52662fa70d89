"""SFMC: JWT-signed Journey Builder `execute` calls against a bare starlette endpoint in the same run.

    python3 dev.py bench --sfmc [--quick]
    python3 dev.py run python bench/sfmc_execute.py [--quick]

The engine runs on embedded defaults (`channel-engine serve`: SQLite in a fresh directory, the built-in
simulator, every role in one process) with CHANNEL_ENGINE_API_KEY set; one business unit is configured
through PUT /sfmc/config/{mid} with a JWT signing secret and no Infobip account of its own (its messages
go to the engine's simulator account). Its SFMC credentials point at a FakeSfmc in its own process, which
takes the delivery-report rows the engine writes back and keeps only their count. Every execute carries one
SMS, a distinct contact key and activityInstanceId, and is signed (HS256) before the clock starts.

1. Ceiling: closed loop, 16 and then 128 keep-alive connections sending as fast as answers come, for
   `seconds` each, against the engine's /sfmc/{mid}/message/execute -> each engine rate over the bare
   ceiling (see 4), goal >= 0.40.
2. Latency: open loop at RATE requests/s: each request leaves at its scheduled time on an idle connection
   (a new one is opened when none is idle), whether or not earlier answers came; latency runs from the
   scheduled time to the end of the answer, so a late send counts against the server, not in its favour.
   p50/p99 for the engine (goal p99 < 50 ms) and for the bare endpoint (the floor of this client and
   uvicorn on this machine).

3. The same ceiling (128 connections) and latency for the deployment meant for heavy SFMC load on one
   store: Journey Builder calls a process that only takes requests (CHANNEL_ENGINE_ROLES=intake), and a
   second process on the same data directory sends, runs the simulator, records its reports and writes the
   report rows (dispatch,delivery). Both share this machine's two cores with the client.
4. First of all, the ceiling of that intake process alone, with nothing sending (the execute path's own
   cost), measured as bench/run.py measures `POST /v1/messages`: it and bench/bare_app.py (the same signed
   bodies, the engine's uvicorn settings on uvicorn's own HTTP protocol) run side by side, warmed up (the
   engine until its memory stops growing: run.warm_until_steady), and take turns in bursts of `size`
   requests at 16, 64 and 128 connections over `rounds` rounds; each server's ceiling is its best median.
   The bare one is the ceiling every engine figure is compared with. A second bare endpoint, on the
   engine's own HTTP protocol (one send per response), takes the same turns: the intake process's rate
   over its ceiling is printed and tabled too, as what the engine's work costs beside a bare endpoint
   given the same protocol, with no goal. The engines of 1-3 have a backlog
   to send once the load stops, which would take the machine from the bare endpoint's turns: they are
   measured each on its own, fresh.

Every engine answer must be 200 with messageStatus "Success", or the run fails. Each engine figure of 1-3
comes from its own fresh engine, so the latency run does not pay for the ceiling run's backlog. After each
latency run the script waits (up to 60 s) until every message is delivered and every delivery report is a
row in the fake SFMC, and prints how long that took.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    BARE_PROTOCOLS,
    PYTHON,
    Proc,
    bare_endpoint,
    best_median,
    in_turns,
    message_states,
    spoken,
    warm_until_steady,
    write_rows,
)

MID = "100000001"
SIGNING_SECRET = "bench-jb-signing-secret-0123456789abcdef"
API_KEY = "bench-admin-key"
CONNECTIONS = (16, 128)  # the intake row's 16, and enough for the engine's group commits to fill
TURN_CONNECTIONS = (16, 64, 128)  # the intake process alone and the bare endpoint, taking turns
RATE = 1000
WARM_BURST = 5000  # signed bodies per burst while warming the engine up
WARM_MOST = 80_000  # at most: its page cache fills after about 45,000 executes (0.45 new pages each)
KEEP_ALIVE_REUSE = 4.0  # seconds idle after which the open-loop client opens a new connection instead
GOAL_RATIO = 0.40
GOAL_P99_MS = 50.0
ROW_PREFIX = "| sfmc execute"
ROWS_KEY = "SMS_Delivery_Reports"


@dataclass(frozen=True)
class Deployment:
    """One way of running the engine: `roles` has each process's CHANNEL_ENGINE_ROLES ("" for all), the
    first being the process Journey Builder calls; `row` is what the results table says about it."""

    name: str
    described: str
    row: str
    roles: tuple[str, ...]
    ceilings: tuple[int, ...]
    latency: bool  # whether a latency run (and the wait for every report row) follows the ceilings
    in_turns: bool = False  # measured warm, taking turns with the bare endpoint (nothing left to send)

    @property
    def where(self) -> str:
        """What the printed lines and table rows add after their figures' description."""
        return f", {self.row}" if self.row else ""


DEPLOYMENTS = (
    Deployment("engine", "all-in-one engine", "", ("",), CONNECTIONS, latency=True),
    Deployment(
        "split",
        "intake process beside a dispatch+delivery process",
        "intake process + dispatch/delivery process on one SQLite store",
        ("intake", "dispatch,delivery"),
        (128,),
        latency=True,
    ),
    Deployment(
        "alone",
        "intake process alone",
        "intake process alone (nothing sent: the execute path's own cost, as in the intake rows)",
        ("intake",),
        TURN_CONNECTIONS,
        latency=False,  # nothing is sent, so there is no pipeline to wait for
        in_turns=True,
    ),
)


def say(text: str) -> None:
    print(f"[sfmc] {text}", file=sys.stderr, flush=True)


# -- the requests ---------------------------------------------------------------------------------------


def execute_body(i: int, journey_id: str, activity_id: str) -> dict:
    """What Journey Builder POSTs for one contact of an SMS activity, its data bindings resolved."""
    return {
        "inArguments": [
            {"channel": "sms"},
            {"phone": f"4179{i:07d}0{i % 100:02d}"},  # never a magic ending (991-999)
            {"sender": "InfoSMS"},
            {
                "content": {
                    "text": "Hello %%FirstName%%, your order has shipped: https://example.com/o/" + str(i)
                }
            },
            {"FirstName": f"Contact{i}"},
            {"activityName": "Order shipped SMS"},
            {"journeyName": "Order updates"},
            {"versionNumber": 1},
        ],
        "outArguments": [],
        "activityObjectID": activity_id,
        "activityId": activity_id,
        "journeyId": journey_id,
        "definitionInstanceId": str(uuid.uuid4()),
        "activityInstanceId": str(uuid.uuid4()),
        "keyValue": f"contact-{i}",
        "mode": 0,
    }


def raw_request(netloc: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {netloc}\r\nContent-Type: application/jwt\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Signed:
    """Distinct signed execute bodies, made before any clock starts; each is handed out once."""

    def __init__(self, count: int) -> None:
        journey_id, activity_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.bodies = [
            jwt.encode(execute_body(i, journey_id, activity_id), SIGNING_SECRET, algorithm="HS256").encode()
            for i in range(count)
        ]
        self.next = 0

    def take(self, count: int) -> list[bytes]:
        if self.next + count > len(self.bodies):
            raise RuntimeError(f"only {len(self.bodies) - self.next} signed bodies left, {count} wanted")
        taken = self.bodies[self.next : self.next + count]
        self.next += count
        return taken


# -- the client -------------------------------------------------------------------------------------------


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return int(head[9:12]), (await reader.readexactly(length) if length else b"")


@dataclass
class Answers:
    """Statuses of every answer and, when checked, how many were not `messageStatus: Success`."""

    check: bool
    statuses: dict[int, int] = field(default_factory=dict)
    not_success: int = 0
    example: bytes = b""

    def add(self, status: int, body: bytes) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if self.check and (status != 200 or msgspec.json.decode(body).get("messageStatus") != "Success"):
            self.not_success += 1
            self.example = self.example or body[:300]

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    def verify(self, what: str) -> None:
        if self.check and (self.not_success or set(self.statuses) != {200}):
            raise RuntimeError(
                f"{what}: {self.not_success} of {self.count} answers were not 200 with messageStatus "
                f"Success (statuses {self.statuses}; e.g. {self.example!r})"
            )


async def closed_loop(
    host: str, port: int, requests: Iterator[bytes], *, connections: int, seconds: float, answers: Answers
) -> float:
    """Requests per second over `connections` keep-alive connections, each sending its next request as
    soon as the previous answer is read, until `seconds` pass or `requests` runs out."""
    opened = [await asyncio.open_connection(host, port) for _ in range(connections)]
    deadline = 0.0

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for request in requests:
            writer.write(request)
            answers.add(*await read_answer(reader))
            if time.perf_counter() > deadline:
                return

    started = time.perf_counter()
    deadline = started + seconds
    before = answers.count
    await asyncio.gather(*(connection(r, w) for r, w in opened))
    elapsed = time.perf_counter() - started
    for _, writer in opened:
        writer.close()
    return (answers.count - before) / elapsed


@dataclass
class OpenLoopResult:
    latencies: list[float]  # seconds, scheduled send to answer read, in completion order
    offered: float  # requests/s the schedule asked for
    sent_per_second: float  # what the client achieved (first to last send)
    late_p99_ms: float  # how far behind schedule sends left (the client's own lag)
    connections: int  # connections used (opened on demand beyond the pre-opened ones)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def open_loop(
    host: str, port: int, requests: list[bytes], *, rate: float, answers: Answers, preopen: int = 64
) -> OpenLoopResult:
    """Send `requests` at `rate` per second on schedule, never waiting for answers to send the next.

    A connection idle for longer than the server keeps it (uvicorn closes keep-alive connections after
    5 s) is not used again; one the server closed all the same gets the request again on a new connection,
    as any HTTP client does, the latency still counted from the scheduled time."""
    idle = [(*await asyncio.open_connection(host, port), time.perf_counter()) for _ in range(preopen)]
    every: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = [(r, w) for r, w, _ in idle]
    latencies: list[float] = []
    lateness: list[float] = []
    tasks: list[asyncio.Task] = []

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        conn = await asyncio.open_connection(host, port)
        every.append(conn)
        return conn

    async def one(request: bytes, scheduled: float) -> None:
        reader = writer = None
        while idle and reader is None:
            reader, writer, used = idle.pop()
            if time.perf_counter() - used > KEEP_ALIVE_REUSE:
                writer.close()
                reader = writer = None
        fresh = reader is None
        if reader is None or writer is None:
            reader, writer = await connect()
        writer.write(request)
        try:
            answer = await read_answer(reader)
        except asyncio.IncompleteReadError as exc:
            if fresh or exc.partial:
                raise
            writer.close()  # the server closed it while it was idle: once more on a new connection
            reader, writer = await connect()
            writer.write(request)
            answer = await read_answer(reader)
        answers.add(*answer)
        latencies.append(time.perf_counter() - scheduled)
        idle.append((reader, writer, time.perf_counter()))

    interval = 1.0 / rate
    start = time.perf_counter() + 0.01
    first = last = 0.0
    for i, request in enumerate(requests):
        scheduled = start + i * interval
        now = time.perf_counter()
        if scheduled > now:
            await asyncio.sleep(scheduled - now)
            now = time.perf_counter()
        first = first or now
        last = now
        lateness.append(now - scheduled)
        tasks.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*tasks)  # a request that got no answer fails the run
    for _, writer in every:
        writer.close()
    lateness.sort()
    return OpenLoopResult(
        latencies=latencies,
        offered=rate,
        sent_per_second=(len(requests) - 1) / (last - first) if last > first else 0.0,
        late_p99_ms=lateness[int(0.99 * len(lateness))] * 1000,
        connections=len(every),
    )


# -- the servers ------------------------------------------------------------------------------------------


def serve_fake_sfmc() -> None:
    """This module as a process: a FakeSfmc on a free loopback port that counts rows instead of keeping
    them (the fake's own store rebuilds an index of every row on each request)."""
    import uvloop
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from channel_engine import server
    from channel_engine_sfmc.testing.fake_sfmc import FakeSfmc

    counts: dict[str, int] = {}

    class CountingFake(FakeSfmc):
        def _store(self, de_key: str, rows: list, *, upsert: bool) -> None:
            counts[de_key] = counts.get(de_key, 0) + len(rows)
            self.requests.clear()

    fake = CountingFake(mid=MID)

    async def healthz(request: object) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def rows(request: object) -> JSONResponse:
        return JSONResponse(counts)

    fake.app.router.routes += [Route("/healthz", healthz), Route("/bench/rows", rows)]
    sock = server.bind("127.0.0.1", 0)
    fake.url = server.url_of(sock)
    print(f"fake SFMC on {fake.url}", file=sys.stderr, flush=True)
    uvloop.run(server.make_server(fake.app, lifespan="off").serve(sockets=[sock]))


def unit_document(fake_url: str) -> dict:
    return {
        "mid": MID,
        "sfmc": {
            "clientId": "fake-client-id",
            "clientSecret": "fake-client-secret",
            "authBaseUri": f"{fake_url}/",
            "soapBaseUri": f"{fake_url}/",
            "jwtSigningSecret": SIGNING_SECRET,
        },
        "senders": {"sms": ["InfoSMS"]},
    }


class SfmcEngine:
    """`channel-engine serve` on embedded defaults in a fresh data directory, business unit MID configured.

    `roles`: each process's CHANNEL_ENGINE_ROLES ("" for every role). With ("intake", "dispatch,delivery"),
    the deployment for heavy SFMC load on one store, the process Journey Builder calls only takes requests
    (the activities' endpoints and webhooks), and a second process on the same data directory sends and
    hands reports over, to its own simulator, which posts its reports back to that second process. With
    ("intake",) alone nothing is sent, and the figure is the execute path's own cost."""

    def __init__(
        self,
        fake_url: str,
        roles: tuple[str, ...] = ("",),
        *,
        wrap: tuple[str, ...] = (),
        patience: float = 10,
    ) -> None:
        """`wrap`: a command each process runs under (bench/instructions.py's valgrind), which may make it
        take `patience` seconds to answer."""
        self.data = tempfile.TemporaryDirectory()
        serve = [*wrap, PYTHON, "-m", "channel_engine.cli", "serve", "--port", "0", "--log-level", "warning"]
        env = {"CHANNEL_ENGINE_DATA_DIR": self.data.name, "CHANNEL_ENGINE_API_KEY": API_KEY}
        self.procs: list[Proc] = []
        try:
            for role in roles:
                self.procs.append(Proc(serve, {**env, "CHANNEL_ENGINE_ROLES": role} if role else env))
            for proc in self.procs:
                proc.ready(patience)
            response = httpx.put(
                f"{self.proc.url}/sfmc/config/{MID}",
                json=unit_document(fake_url),
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=patience,
            )
            if response.status_code != 200:
                raise RuntimeError(f"configuring business unit {MID} answered {response.status_code}")
        except BaseException:
            self.stop()
            raise

    @property
    def proc(self) -> Proc:
        """The process Journey Builder calls."""
        return self.procs[0]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.data.cleanup()

    def delivered(self) -> int:
        return message_states(httpx.get(self.proc.url + "/metrics", timeout=10).text).get("DELIVERED", 0)


def address(url: str) -> tuple[str, int, str]:
    host, _, port = url.removeprefix("http://").partition(":")
    return host, int(port), f"{host}:{port}"


# -- the measurements -------------------------------------------------------------------------------------


async def burst(url: str, path: str, bodies: list[bytes], connections: int, *, engine: bool) -> float:
    """Requests per second for sending each of `bodies` once."""
    host, port, netloc = address(url)
    answers = Answers(engine)
    requests = iter([raw_request(netloc, path, body) for body in bodies])
    rate = await closed_loop(host, port, requests, connections=connections, seconds=600, answers=answers)
    answers.verify(f"{url}{path} with {connections} connections")
    return rate


async def ceiling(url: str, path: str, bodies: list[bytes], connections: int, *, seconds: float) -> float:
    """A fresh engine's rate over `seconds`, after 300 requests to warm it up; it sees each body once."""
    host, port, netloc = address(url)
    await burst(url, path, bodies[:300], connections, engine=True)  # warming up
    rest = bodies[300:]
    answers = Answers(True)
    requests = (raw_request(netloc, path, body) for body in rest)
    rate = await closed_loop(host, port, requests, connections=connections, seconds=seconds, answers=answers)
    if answers.count >= len(rest):
        say(f"warning: the ceiling run used every one of its {len(rest):,} signed bodies before {seconds} s")
    answers.verify(f"{url}{path} with {connections} connections")
    return rate


async def latency(url: str, path: str, bodies: list[bytes], *, engine: bool) -> OpenLoopResult:
    host, port, netloc = address(url)
    answers = Answers(engine)
    requests = [raw_request(netloc, path, body) for body in bodies]
    result = await open_loop(host, port, requests, rate=RATE, answers=answers)
    answers.verify(f"{url}{path} at {RATE}/s")
    return result


def ceilings_in_turns(
    bares: dict[str, str], eng: Proc, signed: Signed, *, rounds: int, size: int
) -> dict[str, dict[int, float]]:
    """The bare endpoints (name: URL) and an engine that sends nothing, side by side and warm (the engine
    until its memory stops growing, run.warm_until_steady), taking turns in bursts of `size` requests
    (run.in_turns): each one's median rate per connection count, by name ("engine" for the engine). The
    engine gets bodies it has not seen; the bare endpoints read any."""
    servers = {name: (url, "/v1/messages") for name, url in bares.items()}
    servers["engine"] = (eng.url, f"/sfmc/{MID}/message/execute")
    warm = signed.take(2000)
    for name, (url, path) in servers.items():
        run_async(burst(url, path, warm, max(TURN_CONNECTIONS), engine=name == "engine"))

    def warm_burst() -> int:
        run_async(
            burst(eng.url, servers["engine"][1], signed.take(WARM_BURST), max(TURN_CONNECTIONS), engine=True)
        )
        return WARM_BURST

    warm_until_steady(eng, warm_burst, most=WARM_MOST, say=say)
    seen = list(itertools.islice(itertools.cycle(warm), size))  # as many as the engine's, read before

    def one(name: str, connections: int) -> float:
        url, path = servers[name]
        engine = name == "engine"
        return run_async(burst(url, path, signed.take(size) if engine else seen, connections, engine=engine))

    rates = in_turns(one, tuple(servers), TURN_CONNECTIONS, rounds, say=say)
    return {name: {c: statistics.median(xs) for c, xs in rates[name].items()} for name in servers}


def run_async(coro: object) -> object:
    import uvloop

    return uvloop.run(coro)  # type: ignore[arg-type]


def measure(quick: bool) -> dict:
    seconds = 2.0 if quick else 8.0
    rounds, size = (1, 2_000) if quick else (5, 8_000)  # the turns of the intake process alone
    latency_seconds = 3.0 if quick else 10.0
    per_latency_run = int(RATE * latency_seconds)
    ceiling_bodies = 15_000 if quick else 60_000  # ample: several times what the engine takes in `seconds`
    turn_bodies = 2000 + WARM_MOST + rounds * len(TURN_CONNECTIONS) * size
    say(f"signing {ceiling_bodies + 300 + per_latency_run + turn_bodies:,} execute bodies")
    signed = Signed(ceiling_bodies + 300 + per_latency_run + turn_bodies)
    ceiling_set = signed.take(ceiling_bodies + 300)  # each engine is fresh, so each may use the same set
    latency_set = signed.take(per_latency_run)
    execute_path = f"/sfmc/{MID}/message/execute"
    out: dict = {"latency_seconds": latency_seconds, "rounds": rounds, **{d.name: {} for d in DEPLOYMENTS}}

    with contextlib.ExitStack() as started:  # each server is stopped, even when a later one fails to start
        bares = {}
        for name, protocol in BARE_PROTOCOLS.items():
            bares[name] = started.enter_context(bare_endpoint(protocol))
        bare = bares["bare"]
        fake = started.enter_context(Proc([PYTHON, str(Path(__file__).resolve()), "--fake-sfmc"]))
        for proc in (*bares.values(), fake):
            proc.ready()
        for deployment in (d for d in DEPLOYMENTS if d.in_turns):
            say(f"the bare starlette endpoints and the {deployment.described}, taking turns")
            eng = SfmcEngine(fake.url, deployment.roles)
            try:
                urls = {name: proc.url for name, proc in bares.items()}
                rates = ceilings_in_turns(urls, eng.proc, signed, rounds=rounds, size=size)
            finally:
                eng.stop()
            out[deployment.name] = rates.pop("engine")
            out.update(rates)
        say("bare starlette: latency")
        out["bare_latency"] = run_async(latency(bare.url, "/v1/messages", latency_set, engine=False))
        for deployment in (d for d in DEPLOYMENTS if not d.in_turns):
            for connections in deployment.ceilings:
                say(f"engine (a fresh {deployment.described}): ceiling with {connections} connections")
                eng = SfmcEngine(fake.url, deployment.roles)
                try:
                    out[deployment.name][connections] = run_async(
                        ceiling(eng.proc.url, execute_path, ceiling_set, connections, seconds=seconds)
                    )
                finally:
                    eng.stop()
            if deployment.latency:
                say(f"engine (a fresh {deployment.described}): latency")
                eng = SfmcEngine(fake.url, deployment.roles)
                try:
                    out[f"{deployment.name}_latency"] = latency_and_rest(
                        eng, fake.url, execute_path, latency_set
                    )
                finally:
                    eng.stop()
    return out


def latency_and_rest(eng: SfmcEngine, fake_url: str, path: str, bodies: list[bytes]) -> dict:
    """The open-loop run, then the rest of the pipeline: every message delivered, every delivery report a
    row in SFMC (the fake's count includes earlier engines' rows, so only the growth counts)."""
    rows_before = httpx.get(fake_url + "/bench/rows", timeout=10).json().get(ROWS_KEY, 0)
    out: dict = {"latency": run_async(latency(eng.proc.url, path, bodies, engine=True))}
    waited = time.perf_counter()
    while time.perf_counter() - waited < 60:
        out["delivered"] = eng.delivered()
        out["rows"] = httpx.get(fake_url + "/bench/rows", timeout=10).json().get(ROWS_KEY, 0) - rows_before
        if out["delivered"] >= len(bodies) and out["rows"] >= len(bodies):
            break
        time.sleep(0.2)
    out["drained_after"] = time.perf_counter() - waited
    out["states"] = message_states(httpx.get(eng.proc.url + "/metrics", timeout=10).text)
    return out


def report(r: dict) -> list[str]:
    """Print the figures; the rows for bench/results.md."""
    rows = []
    # The goal is a share of the bare ceiling: the bare endpoint's best rate, whichever connection count
    # gave it (with 128 connections it serves fewer requests than with 16, and would flatter the engine).
    bare_at, bare = best_median(r["bare"])
    for deployment in DEPLOYMENTS:
        where = deployment.where
        rates = r[deployment.name]
        if deployment.in_turns:  # its own ceiling: the best of its medians
            best_at, best = best_median(rates)
            measured = [
                (
                    f"ceiling (the best of {spoken(rates)} connections by the median of "
                    f"{r['rounds']} round{'s' * (r['rounds'] != 1)} in turns with the bare endpoint; "
                    f"here {best_at})",
                    best,
                )
            ]
        else:
            measured = [
                (f"{connections} connections", rates[connections]) for connections in deployment.ceilings
            ]
        for how, engine in measured:
            print(
                f"sfmc execute, {how}{where}: engine {engine:>7,.0f} req/s  "
                f"bare ceiling {bare:>9,.0f} req/s ({bare_at} connections)  ratio {engine / bare:.2f} "
                f"(goal >= {GOAL_RATIO:.2f})"
            )
            rows.append(
                f"{ROW_PREFIX}, JWT-signed, 1 SMS per request, {how}{where} "
                f"| {engine:,.0f} req/s | {bare:,.0f} req/s (ceiling, {bare_at} connections) "
                f"| {engine / bare:.2f} | ≥ {GOAL_RATIO:.2f} |"
            )
        if deployment.in_turns:  # the same turns also measured the bare endpoint on the engine's protocol
            rows.append(same_protocol_row(measured[0][1], r["bare_engine_protocol"]))
    b = r["bare_latency"]
    for deployment in (d for d in DEPLOYMENTS if d.latency):
        run = r[f"{deployment.name}_latency"]
        e = run["latency"]
        where = deployment.where
        for name, x in (("engine", e), ("bare", b)):
            print(
                f"sfmc execute at {RATE:,}/s open loop{where}, {name:<6}: p50 {x.percentile(50):.1f} ms  "
                f"p99 {x.percentile(99):.1f} ms  p99.9 {x.percentile(99.9):.1f} ms  "
                f"max {max(x.latencies) * 1000:.1f} ms  (sent {x.sent_per_second:,.0f}/s, "
                f"client lag p99 {x.late_p99_ms:.1f} ms, {x.connections} connections)"
            )
        print(
            f"after the latency run{where}: {run['delivered']:,} messages delivered and {run['rows']:,} rows "
            f"written to the fake SFMC's {ROWS_KEY} {run['drained_after']:.1f} s after the last answer"
        )
        if run["delivered"] < len(e.latencies):
            print(f"  not all delivered: messages by state {run['states']}")
        rows.append(
            f"{ROW_PREFIX} latency, {RATE:,} req/s offered for {r['latency_seconds']:.0f} s "
            f"(open loop){where} "
            f"| p50 {e.percentile(50):.1f} ms, p99 {e.percentile(99):.1f} ms "
            f"| p50 {b.percentile(50):.1f} ms, p99 {b.percentile(99):.1f} ms "
            f"| n/a | p99 < {GOAL_P99_MS:.0f} ms |"
        )
    return rows


def same_protocol_row(engine: float, bare_rates: dict[int, float]) -> str:
    """The intake process alone against the bare endpoint on the engine's own HTTP protocol: what the
    engine's work costs when the bare endpoint sends each answer in one go too."""
    at, bare = best_median(bare_rates)
    print(
        f"sfmc execute, intake process alone, against the bare endpoint on the engine's HTTP protocol: "
        f"engine {engine:>7,.0f} req/s  that bare ceiling {bare:>9,.0f} req/s ({at} connections)  "
        f"ratio {engine / bare:.2f}"
    )
    return (
        f"{ROW_PREFIX}, JWT-signed, 1 SMS per request, the same intake process alone, against a bare "
        f"endpoint on the engine's own HTTP protocol (one send per answer) in the same turns "
        f"| {engine:,.0f} req/s | {bare:,.0f} req/s (ceiling, {at} connections) | {engine / bare:.2f} "
        f"| none (the goal's baseline is the bare endpoint on uvicorn's own protocol) |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few seconds per figure, for a smoke test")
    parser.add_argument("--fake-sfmc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fake_sfmc:
        serve_fake_sfmc()
        return 0
    write_rows(report(measure(args.quick)), prefix=ROW_PREFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
