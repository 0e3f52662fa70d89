"""`channel-engine demo`: a realistic campaign on the embedded defaults, through the real HTTP path.

The campaign mixes every installed channel whose plugin offers a demo message (`sample_message`), or the
channels named with `--channels`.

The engine (SQLite store, built-in simulator as the provider) listens on a loopback port; the campaign is
POSTed to `/v1/messages` in batches; the simulator answers over HTTP and posts delivery reports, click
notifications and replies back to the engine's webhooks. The mix of outcomes comes from the simulator's
magic destinations. The demo ends with a table of final states and the throughput.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from . import config, server
from .engine import Engine, create_app
from .errors import ConfigError
from .plugins import Plugins
from .progress import Progress

# (share of the campaign, last three digits of the number, what the simulator does with it)
MIX: list[tuple[float, str | None, str]] = [
    (0.8634, None, "delivered"),
    (0.020, "990", "delivered and read (seen report, where the channel has them)"),
    (0.030, "991", "undeliverable"),
    (0.030, "992", "rejected"),
    (0.020, "993", "expired"),
    (0.010, "994", "pending forever"),
    (0.0003, "995", "HTTP 429 once, then delivered"),
    (0.0003, "996", "HTTP 500 once, then delivered"),
    (0.016, "997", "delivered and clicked"),
    (0.010, "998", "delivered and replied to"),
]
PENDING_FOREVER = "994"
DONE_STATES = ("DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED", "FAILED")
CAMPAIGN_OPTIONS = {"bulkId": "demo-spring-campaign"}


def demo_channels(plugins: Plugins, wanted: list[str] | None = None) -> list[str]:
    """The channels the campaign mixes: `wanted`, or every installed channel whose plugin offers a sample.

    A wanted channel that is not installed, or has no sample, is a ConfigError naming it."""
    installed = sorted(plugins.channels)
    if wanted is None:
        return [c for c in installed if _sample(plugins, c, 0, "41790000000", False) is not None]
    for name in wanted:
        if name not in plugins.channels:
            raise ConfigError(f"channel {name!r} is not installed (installed: {', '.join(installed)})")
        if _sample(plugins, name, 0, "41790000000", False) is None:
            raise ConfigError(f"channel {name!r} offers no demo message (its plugin has no sample_message)")
    return wanted


def _sample(plugins: Plugins, channel: str, index: int, destination: str, with_link: bool) -> Any:
    return plugins.hook.sample_message(
        channel=channel, index=index, destination=destination, with_link=with_link
    )


def campaign(size: int, plugins: Plugins, channels: list[str]) -> list[dict[str, Any]]:
    """`size` messages, the channels taking turns, whose destinations spread over the simulator's outcomes
    in the MIX proportions. Each channel's plugin writes its own message (`sample_message`)."""
    if not channels:
        raise ConfigError("no installed channel offers a demo message")
    suffixes: list[str | None] = []
    for share, suffix, _ in MIX:
        suffixes += [suffix] * round(share * size)
    suffixes = (suffixes + [None] * size)[:size]
    messages = []
    for i, suffix in enumerate(suffixes):
        channel = channels[i % len(channels)]
        destination = f"4179{i:06d}{suffix or f'{i % 900:03d}'}"
        message = _sample(plugins, channel, i, destination, suffix == "997" or i % 10 == 0)
        options = message.setdefault("options", {})
        options |= CAMPAIGN_OPTIONS | {"callbackData": f"customer={i}"}
        messages.append(message)
    return messages


async def _post_all(
    client: httpx.AsyncClient, messages: list[dict[str, Any]], batch: int, progress: Progress
) -> int:
    accepted = 0
    queue = [messages[i : i + batch] for i in range(0, len(messages), batch)]

    async def worker() -> None:
        nonlocal accepted
        while queue:
            chunk = queue.pop(0)
            response = await client.post("/v1/messages", json={"messages": chunk})
            if response.status_code != 202:
                raise RuntimeError(f"intake refused a batch: {response.status_code} {response.text[:300]}")
            accepted += response.json()["accepted"]
            progress.update(accepted)

    await asyncio.gather(*(worker() for _ in range(4)))
    progress.finish(accepted)
    return accepted


async def run_demo(
    messages: int = 10_000, batch: int = 500, data_dir: str | None = None, channels: list[str] | None = None
) -> int:
    tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="channel-engine-demo-")
    directory = Path(data_dir or tmp.name)  # type: ignore[union-attr]
    sock = server.bind("127.0.0.1", 0)
    settings = config.from_env(
        data_dir=directory, host="127.0.0.1", port=sock.getsockname()[1], public_url=None
    )
    engine = Engine(settings)
    mixed = demo_channels(engine.plugins, channels)
    plan = campaign(messages, engine.plugins, mixed)
    expected_pending = sum(1 for m in plan if m["destination"].endswith(PENDING_FOREVER))
    shares = Counter(m["channel"] for m in plan)
    print(
        f"Demo: {messages:,} messages through {server.url_of(sock)}; store: {directory}; "
        "provider: the built-in simulator"
    )
    print("channels: " + ", ".join(f"{name} {count:,}" for name, count in shares.items()))
    try:
        async with (
            server.serving(create_app(engine), sock) as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            started = time.perf_counter()
            await _post_all(client, plan, batch, Progress(messages, "accepted"))
            intake_seconds = time.perf_counter() - started
            done = 0
            follow = Progress(messages - expected_pending, "final")
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                stats = await engine.store.stats()
                done = sum(stats.get(f"state_{s}", 0) for s in DONE_STATES)
                follow.update(done)
                if done >= messages - expected_pending:
                    break
                await asyncio.sleep(0.2)  # a progress display, not a test: redraw five times a second
            follow.finish(done)
            total_seconds = time.perf_counter() - started
            await _settle_reports(engine, plan)
            stats = await engine.store.stats()
        _print_table(engine, stats, messages, intake_seconds, total_seconds, done)
        return 0 if done >= messages - expected_pending else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


async def _settle_reports(engine: Engine, plan: list[dict[str, Any]]) -> None:
    """Clicks and replies come a moment after delivery; give them a few seconds to arrive."""
    clicks = sum(1 for m in plan if m["destination"].endswith("997"))
    replies = sum(1 for m in plan if m["destination"].endswith("998"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got_clicks = sum(n for (kind, _), n in engine.metrics.reports.items() if kind == "CLICK")
        got_replies = sum(n for (kind, _), n in engine.metrics.reports.items() if kind == "INBOUND")
        if got_clicks >= clicks and got_replies >= replies:
            return
        await asyncio.sleep(0.1)


def _print_table(
    engine: Engine, stats: dict[str, int], total: int, intake: float, seconds: float, done: int
) -> None:
    rows = [(state, stats.get(f"state_{state}", 0)) for state in (*DONE_STATES, "SENT", "QUEUED", "SENDING")]
    print()
    print(f"{'final status':<22}{'messages':>10}{'share':>9}")
    print("-" * 41)
    for state, count in rows:
        if count:
            label = "PENDING (no report)" if state == "SENT" else state
            print(f"{label:<22}{count:>10,}{count / total:>9.1%}")
    print("-" * 41)
    kinds = {kind: 0 for kind in ("DELIVERY", "SEEN", "CLICK", "INBOUND")}
    for (kind, _), n in engine.metrics.reports.items():
        kinds[kind] = kinds.get(kind, 0) + n
    print(f"{'reports received':<22}{kinds['DELIVERY']:>10,}")
    print(f"{'seen reports':<22}{kinds['SEEN']:>10,}")
    print(f"{'link clicks':<22}{kinds['CLICK']:>10,}")
    print(f"{'inbound replies':<22}{kinds['INBOUND']:>10,}")
    print(f"{'send retries':<22}{engine.metrics.retried:>10,}")
    print()
    print(f"intake:     {total:,} messages in {intake:.2f} s = {total / intake:,.0f} messages/s")
    print(f"end to end: {done:,} final statuses in {seconds:.2f} s = {done / seconds:,.0f} messages/s")
