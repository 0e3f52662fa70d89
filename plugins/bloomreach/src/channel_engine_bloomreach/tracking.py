"""Events into Bloomreach Engagement through the tracking API's batch endpoint.

`POST {api}/track/v2/projects/{token}/batch` with `Authorization: Basic base64(keyId:secret)`, at most 50
commands per request, requests to one API host started evenly spaced within the project's limit (6,000 a
minute by default; aiolimiter). Bloomreach's answers:

- 429 and 5xx (and a network error): retried here a few times with backoff (Retry-After honoured); if
  Bloomreach is still unavailable the flush raises, every report in it stays in the engine's outbox and is
  handed over again later, so nothing is lost while Bloomreach is down or throttling;
- any other 4xx, and a command answered `success: false`: not retried (sending it again cannot help), but
  recorded with Bloomreach's reason where the operator sees it (`GET /bloomreach/rejected/{token}`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from channel_engine import Batcher, OutboundMessage, PluginData, Report
from channel_engine.documents import Documents, judged_check

from .config import Project
from .events import event_command

log = logging.getLogger("channel_engine.bloomreach")

MAX_COMMANDS = 50  # Bloomreach's limit per batch request
REJECTED_NAMESPACE = "bloomreach-rejected"
REJECTED_KEEP_SECONDS = 30 * 86400


class TrackingUnavailable(Exception):
    """Bloomreach did not take a batch (429, 5xx, network) after the retries: the outbox tries again."""


class TrackingApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        attempts: int = 4,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._limiters: dict[tuple[str, int], AsyncLimiter] = {}
        self.requests = 0

    def limiter(self, project: Project) -> AsyncLimiter:
        """Request starts per API host and rate (Bloomreach counts per source IP), evenly spaced."""
        key = (project.api_base_url.rstrip("/"), project.requests_per_minute)
        if key not in self._limiters:
            self._limiters[key] = AsyncLimiter(1, 60.0 / project.requests_per_minute)
        return self._limiters[key]

    async def batch(self, project: Project, commands: list[dict[str, Any]]) -> httpx.Response:
        """Send one batch; the answer once Bloomreach has answered it with anything but 429 or 5xx."""
        url = f"{project.api_base_url.rstrip('/')}/track/v2/projects/{project.project_token}/batch"
        problem = ""
        for attempt in range(1, self.attempts + 1):
            async with self.limiter(project):
                self.requests += 1
                try:
                    response = await self.http.post(
                        url, json={"commands": commands}, auth=(project.api_key_id, project.api_secret)
                    )
                except httpx.HTTPError as exc:
                    response, problem = None, f"Bloomreach cannot be reached ({type(exc).__name__})"
            if response is not None:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"Bloomreach answered HTTP {response.status_code}"
            if attempt < self.attempts:
                await self.sleep(self._delay(attempt, response))
        raise TrackingUnavailable(f"{problem} after {self.attempts} attempts")

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        told = response.headers.get("retry-after") if response is not None else None
        if told is not None and told.strip().isdigit():
            return min(float(told), 30.0)
        return self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())

    async def check(self, project: Project) -> dict[str, Any]:
        """A `validate` check: Bloomreach accepts the key for the project (a `system/time` command)."""
        check = {"service": "bloomreach", "project": project.project_token}
        try:
            response = await self.batch(project, [{"name": "system/time"}])
        except TrackingUnavailable as exc:
            return check | {"ok": False, "reason": str(exc)}
        return judged_check(
            check,
            response.status_code,
            "Bloomreach",
            "check the key id, the secret and the key's Events > Set permission for this project",
        )


class Tracker:
    """Turns the engine's reports into events and hands them to Bloomreach in batches."""

    def __init__(
        self, projects: Documents[Project], api: TrackingApi, rejected: PluginData, linger: float = 0.05
    ) -> None:
        self.projects = projects
        self.api = api
        self.rejected = rejected
        self.batcher = Batcher(self._flush, max_rows=MAX_COMMANDS, linger=linger)

    async def deliver(self, report: Report, message: OutboundMessage | None) -> None:
        token = message.host.context.get("project") if message is not None else None
        project = await self.projects.get(token) if token else None
        if project is None:
            log.warning(
                "a %s report of message %s names no configured Bloomreach project (%s): not tracked",
                report.kind,
                message.id if message else report.message_id,
                token,
            )
            return
        command = event_command(project, report, message)
        if command is not None:
            await self.batcher.add(project.project_token, command)

    async def _flush(self, token: str, commands: list[dict[str, Any]]) -> None:
        project = await self.projects.get(token)
        if project is None:
            await self._record(token, commands, "the project's configuration was deleted")
            return
        response = await self.api.batch(project, commands)
        if response.status_code >= 300:
            await self._record(token, commands, f"HTTP {response.status_code}: {_reason(response)}")
            return
        results = _results(response)
        refused = [
            (command, _error_text(result))
            for command, result in zip(commands, results, strict=False)
            if not result.get("success", False)
        ]
        if len(results) < len(commands):  # Bloomreach did not answer for these: keep them visible
            refused += [
                (c, "Bloomreach's answer had no result for this command") for c in commands[len(results) :]
            ]
        for command, why in refused:
            await self._record(token, [command], why)

    async def _record(self, token: str, commands: list[dict[str, Any]], why: str) -> None:
        """Keep what Bloomreach refused, with its reason, for the operator (and say so in the log)."""
        log.warning("Bloomreach project %s refused %d event(s): %s", token, len(commands), why)
        now = time.time()
        for command in commands:
            key = f"{token}:{command.get('command_id', '')}"
            await self.rejected.put_json(
                key, {"command": command, "reason": why, "at": now}, ttl=REJECTED_KEEP_SECONDS
            )


def _results(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    results = body.get("results") if isinstance(body, dict) else None
    return [r if isinstance(r, dict) else {} for r in results] if isinstance(results, list) else []


def _error_text(result: dict[str, Any]) -> str:
    errors = result.get("errors") or result.get("error") or "success: false"
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)
    return str(errors)


def _reason(response: httpx.Response) -> str:
    try:
        return _error_text(response.json())
    except ValueError:
        return response.text[:200] or "no reason given"
