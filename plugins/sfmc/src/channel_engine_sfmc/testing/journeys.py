"""A whole journey for tests and benchmarks: the engine with its simulator, a loopback fake SFMC, one
business unit configured through the configuration API, and Journey Builder's JWT-signed calls."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from channel_engine.secret_box import Secret
from channel_engine.testing.harness import Harness, run_engine

from ..config import BusinessUnit, SfmcCredentials
from .fake_sfmc import FakeSfmc

MID = "100000001"
SIGNING_SECRET = "jb-signing-secret-for-tests-0123456789"
ADMIN_KEY = "admin-key-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
_instances = itertools.count(1)


def sign(body: dict[str, Any], secret: str = SIGNING_SECRET) -> bytes:
    return jwt.encode(body, secret, algorithm="HS256").encode()


def signing_unit(
    *, secret: str | None = SIGNING_SECRET, salt: bytes | None = None, customer_key: str = "infobip-jwt-salt"
) -> BusinessUnit:
    """A business unit with the given JWT keys (`salt`: the salt's original bytes) and placeholder SFMC
    credentials: for tests of how calls are verified, without a store."""
    return BusinessUnit(
        mid=MID,
        sfmc=SfmcCredentials(
            client_id="client",
            client_secret="client-secret",
            auth_base_uri="https://sub.auth.marketingcloudapis.com/",
            soap_base_uri="https://sub.soap.marketingcloudapis.com/",
            jwt_signing_secret=secret,
            jwt_customer_key=customer_key if salt is not None else None,
            jwt_salt="0x" + salt.hex() if salt is not None else None,
        ),
    )


def in_arguments(**arguments: Any) -> list[dict[str, Any]]:
    """One-key objects, as Journey Builder sends them; `phone` may be a list (several phone fields)."""
    out: list[dict[str, Any]] = []
    for key, value in arguments.items():
        if key == "phone" and isinstance(value, list):
            out += [{"phone": v} for v in value]
        elif value is not None:
            out.append({key: value})
    return out


@dataclass
class Journey:
    harness: Harness
    sfmc: FakeSfmc
    mid: str = MID
    journey_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    activity_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def http(self) -> httpx.AsyncClient:
        return self.harness.http

    def execute_body(self, contact_key: str, instance: str | None = None, **arguments: Any) -> dict[str, Any]:
        return {
            "inArguments": in_arguments(**arguments),
            "outArguments": [],
            "activityObjectID": self.activity_id,
            "activityId": self.activity_id,
            "journeyId": self.journey_id,
            "definitionInstanceId": str(uuid.uuid4()),
            "activityInstanceId": instance or f"instance-{next(_instances)}",
            "keyValue": contact_key,
            "mode": 0,
        }

    async def post_jwt(self, path: str, body: dict[str, Any], secret: str = SIGNING_SECRET) -> httpx.Response:
        return await self.http.post(
            f"/sfmc/{self.mid}/{path}",
            content=sign(body, secret),
            headers={"Content-Type": "application/jwt"},
        )

    async def execute(self, contact_key: str, **arguments: Any) -> dict[str, Any]:
        """Execute the message activity for one contact; the answer's JSON (fails on anything but 200)."""
        response = await self.post_jwt("message/execute", self.execute_body(contact_key, **arguments))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def get_report(
        self, contact_key: str, data_extension: str, message_id: str | None, activity_id: str | None = None
    ) -> dict[str, Any]:
        """Get Reports for one contact; `message_id` is what Journey Builder resolved the inspector's
        binding to (the message activity's outArgument), None for a design saved without the binding."""
        bound = {} if message_id is None else {"messageId": message_id}
        body = self.execute_body(
            contact_key,
            messageActivityId=activity_id or self.activity_id,
            dataExtension=data_extension,
            **bound,
        )
        body["activityObjectID"] = body["activityId"] = "reports-activity"
        response = await self.post_jwt("reports/execute", body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for_row(self, extension: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first row of `extension` that satisfies `predicate`, once there is one."""
        await self.sfmc.wait_until(lambda: any(predicate(row) for row in self.sfmc.rows(extension)), timeout)
        return next(row for row in self.sfmc.rows(extension) if predicate(row))

    async def configure(self, **changes: Any) -> httpx.Response:
        document = self.unit_document() | changes
        return await self.http.put(f"/sfmc/config/{self.mid}", json=document, headers=ADMIN)

    def unit_document(self) -> dict[str, Any]:
        import msgspec

        engine = self.harness.engine
        return {
            "mid": self.mid,
            "sfmc": msgspec.to_builtins(self.sfmc.credentials(jwt_signing_secret=SIGNING_SECRET)),
            "infobipAccounts": [
                {
                    "name": "main",
                    "baseUrl": f"{self.harness.url}/simulator",
                    "apiKey": engine.box.derive("simulator-api-key"),
                }
            ],
            "customDomains": ["go.example.com"],
            "senders": {"sms": ["InfoSMS"], "viber": ["InfoViber"]},
        }


@contextlib.asynccontextmanager
async def journey(data_dir: Path, **settings: Any) -> AsyncIterator[Journey]:
    """An engine (API key ADMIN_KEY) and a fake SFMC, with business unit MID configured."""
    sfmc = FakeSfmc(mid=MID)
    async with sfmc.running(), run_engine(data_dir, api_key=Secret(ADMIN_KEY), **settings) as harness:
        trip = Journey(harness, sfmc)
        response = await trip.configure()
        assert response.status_code == 200, response.text
        yield trip
