"""`channel-engine send`: one message through a running engine's HTTP API, followed to its final status."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import httpx

from .models import is_final_status

FINAL_STATES = {"DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED", "FAILED"}


async def send_and_follow(
    engine_url: str, message: dict[str, Any], *, api_key: str | None, wait: float
) -> int:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx.AsyncClient(base_url=engine_url, headers=headers, timeout=10.0) as client:
        try:
            response = await client.post("/v1/messages", json=message)
        except httpx.ConnectError:
            print(
                f"no engine answers at {engine_url}; start one with `channel-engine serve`", file=sys.stderr
            )
            return 2
        body = response.json()
        if response.status_code != 202:
            print(f"refused ({response.status_code}): {body.get('error')}", file=sys.stderr)
            for problem in body.get("problems", []):
                print(f"  {problem['path']}: {problem['message']}", file=sys.stderr)
            return 1
        message_id = body["id"]
        print(f"accepted as {message_id}")
        deadline = time.monotonic() + wait
        seen = 0
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = (await client.get(f"/v1/messages/{message_id}")).json()
            for entry in view.get("timeline", [])[seen:]:
                status = " ".join(x for x in (entry.get("statusGroup"), entry.get("statusName")) if x)
                print(f"  {entry['event']:<9} {status}")
            seen = len(view.get("timeline", []))
            if view.get("state") in FINAL_STATES or is_final_status(
                view.get("statusGroup"), view.get("statusName")
            ):
                break
            await asyncio.sleep(0.25)  # a person is watching: poll gently
        print(f"state: {view.get('state')}  status: {view.get('statusName') or '-'}")
        return 0 if view.get("state") == "DELIVERED" else 1
