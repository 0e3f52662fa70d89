"""The configuration API: one JSON document per business unit, behind the engine's API key.

GET    /sfmc/config                  every configured business unit (secrets masked)
GET    /sfmc/config/{mid}            one
PUT    /sfmc/config/{mid}            create or replace; a masked secret sent back keeps the stored one
DELETE /sfmc/config/{mid}
POST   /sfmc/config/{mid}/validate   check the SFMC and every Infobip credential against the live services
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from starlette.routing import Route

from channel_engine import HostServices
from channel_engine.documents import check_infobip_account, document_routes, duplicate_names

from .config import BusinessUnit, salt_key_problem
from .sfmc_api import SfmcApi
from .units import Units

log = logging.getLogger("channel_engine.sfmc")


def config_routes(services: HostServices, units: Units, api: SfmcApi, http: httpx.AsyncClient) -> list[Route]:
    async def validate(unit: BusinessUnit) -> list[dict[str, Any]]:
        checks = [await _check_sfmc(api, unit)]
        return checks + [await check_infobip_account(http, account) for account in unit.infobip_accounts]

    def check(unit: BusinessUnit) -> tuple[str, str] | None:
        return salt_key_problem(unit.sfmc) or duplicate_names(
            unit.infobip_accounts, "$.infobipAccounts", "Infobip accounts"
        )

    return document_routes(
        services,
        units,
        label="business unit",
        check=check,
        validate=validate,
        list_key="businessUnits",
    )


async def _check_sfmc(api: SfmcApi, unit: BusinessUnit) -> dict[str, Any]:
    try:
        await api.check(unit.mid, unit.sfmc)
    except Exception as exc:
        return {"service": "sfmc", "ok": False, "reason": getattr(exc, "message", None) or str(exc)}
    return {"service": "sfmc", "ok": True}
