"""Counters for `GET /metrics`, written in Prometheus' text format (no client library needed for a dozen
numbers)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    accepted: int = 0
    rejected: int = 0  # refused at intake (validation)
    sent: int = 0
    failed: int = 0
    retried: int = 0
    reports: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, status group)
    duplicate_reports: int = 0
    host_deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (host, ok|error)
    provider_requests: Counter[str] = field(default_factory=Counter)  # ok|error
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0

    def observe_provider(self, seconds: float, *, ok: bool) -> None:
        self.provider_requests["ok" if ok else "error"] += 1
        self.latency_sum += seconds
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[i] += 1
                break
        else:
            self.latency_buckets[-1] += 1

    def render(self, gauges: dict[str, int]) -> str:
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP channel_engine_{name} {help_text}")
            lines.append(f"# TYPE channel_engine_{name} {kind}")
            for labels, value in samples:
                lines.append(f"channel_engine_{name}{labels} {value:g}")

        metric("messages_accepted_total", "counter", "Messages accepted at intake.", [("", self.accepted)])
        metric("messages_rejected_total", "counter", "Messages refused at intake.", [("", self.rejected)])
        metric("messages_sent_total", "counter", "Messages the provider accepted.", [("", self.sent)])
        metric("messages_failed_total", "counter", "Messages that failed for good.", [("", self.failed)])
        metric("messages_retried_total", "counter", "Send attempts put back for retry.", [("", self.retried)])
        metric(
            "reports_total",
            "counter",
            "Reports received, by kind and Infobip status group.",
            [(f'{{kind="{k}",status_group="{g}"}}', n) for (k, g), n in sorted(self.reports.items())],
        )
        metric(
            "reports_duplicate_total", "counter", "Replayed reports ignored.", [("", self.duplicate_reports)]
        )
        metric(
            "host_deliveries_total",
            "counter",
            "Reports handed to hosts, by host and result.",
            [(f'{{host="{h}",result="{r}"}}', n) for (h, r), n in sorted(self.host_deliveries.items())],
        )
        metric("queue_depth", "gauge", "Messages queued or in flight.", [("", gauges.get("queued", 0))])
        metric(
            "outbox_depth", "gauge", "Reports waiting to be handed to hosts.", [("", gauges.get("outbox", 0))]
        )
        metric(
            "messages",
            "gauge",
            "Stored messages by state.",
            [(f'{{state="{k[6:]}"}}', v) for k, v in sorted(gauges.items()) if k.startswith("state_")],
        )
        total = 0
        samples = []
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.latency_buckets, strict=True):
            total += count
            samples.append((f'_bucket{{le="{"+Inf" if bound == float("inf") else bound}"}}', total))
        samples += [("_sum", self.latency_sum), ("_count", total)]
        lines.append("# HELP channel_engine_provider_latency_seconds Time of each request to Infobip.")
        lines.append("# TYPE channel_engine_provider_latency_seconds histogram")
        lines += [f"channel_engine_provider_latency_seconds{s} {v:g}" for s, v in samples]
        metric(
            "provider_requests_total",
            "counter",
            "Requests to Infobip by result.",
            [(f'{{result="{r}"}}', n) for r, n in sorted(self.provider_requests.items())],
        )
        return "\n".join(lines) + "\n"
