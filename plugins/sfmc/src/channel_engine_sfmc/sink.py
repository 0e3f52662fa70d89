"""Where the reports of SFMC messages go: rows in the business unit's data extensions ("native") or the
same rows POSTed to its notification URLs ("external"); an inbound reply also fires the journey's API
event when its activity has "Trigger Event on Response".

Each row is also kept in the plugin's data, keyed by data extension and message: a seen report completes
the row its delivery report made, and Get Reports answers from these rows without a round trip to SFMC.
A failure raises, so the engine's outbox hands the report over again later (SFMC down loses nothing).

The delivery and seen reports of one message may be handled by two engine processes at once, so they never
read-modify-write one value: the seen time has a key of its own (`seen_key`). A seen report writes its key,
then reads the delivery row; a delivery report writes the delivery row, then reads the seen key. On a store
where a read sees every write that finished before it (SQLite, Redis), at least one of the two sees the
other's write and hands SFMC the complete row, with no lock between processes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from channel_engine import Batcher, HostServices, OutboundMessage, Report
from channel_engine.hosting import PluginData

from . import rows as r
from .config import BusinessUnit
from .data_extensions import (
    BY_KEY,
    INBOUND_MESSAGES,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
    DataExtension,
)
from .sfmc_api import SfmcApi

log = logging.getLogger("channel_engine.sfmc")
ROWS_NAMESPACE = "sfmc-rows"
ROW_TTL = 90 * 86400


def row_key(extension_key: str, message_id: str) -> str:
    return f"{extension_key}|{message_id}"


def seen_key(extension_key: str, message_id: str) -> str:
    """Where a message's seen time is kept, beside (never inside) its delivery row."""
    return row_key(extension_key, message_id) + "|seen"


async def stored_delivery_row(rows: PluginData, extension_key: str, message_id: str) -> dict[str, Any] | None:
    """A message's delivery row as stored, with its seen time when one has arrived; None before either."""
    # Asked in one turn, the two reads are one statement on SQLite's reader thread (TurnLookups).
    row, seen = await asyncio.gather(
        rows.get_json(row_key(extension_key, message_id)), rows.get_json(seen_key(extension_key, message_id))
    )
    if row is None and seen is None:
        return None
    return _with_seen(row or {}, seen)


def _with_seen(row: dict[str, Any], seen: dict[str, Any] | None) -> dict[str, Any]:
    return row | {"seenAt": seen["seenAt"]} if seen and seen.get("seenAt") else row


class ReportSink:
    def __init__(self, services: HostServices, units: Any, api: SfmcApi, http: httpx.AsyncClient) -> None:
        self.services = services
        self.units = units
        self.api = api
        self.http = http
        self.rows = services.data(ROWS_NAMESPACE)
        self.batcher = Batcher(self._flush)

    # -- which extension a report goes to ------------------------------------------------------------

    @staticmethod
    def extension_for(unit: BusinessUnit, report: Report) -> tuple[str, DataExtension] | None:
        """(the key the rows go to, the definition whose columns they get), or None for no row."""
        native = unit.report_storage.native
        if report.kind in ("DELIVERY", "FAILED", "SEEN"):
            if report.channel in r.SMS_REPORT_CHANNELS:
                if report.kind == "SEEN":
                    return None  # SMS has no seen reports, and its extension no seenAt column
                return native.sms_delivery_reports, BY_KEY.get(
                    native.sms_delivery_reports, SMS_DELIVERY_REPORTS
                )
            return native.omni_delivery_reports, BY_KEY.get(native.omni_delivery_reports, OMNI_REPORTS)
        if report.kind == "CLICK":
            return native.url_click_reports, BY_KEY.get(native.url_click_reports, UNIFIED_URL_TRACKING)
        if report.kind == "INBOUND" and report.channel in r.TWO_WAY_CHANNELS and report.text:
            # WhatsApp replies other than text are not stored, as the seeds say.
            return native.inbound_messages, BY_KEY.get(native.inbound_messages, INBOUND_MESSAGES)
        return None

    # -- handing one report over -------------------------------------------------------------------------

    async def deliver(self, report: Report, message: OutboundMessage | None) -> None:
        mid = message.host.context.get("mid") if message is not None else None
        if not mid:
            return  # not a message an activity sent: nothing in SFMC to update
        unit = await self.units.get(str(mid))
        if unit is None:
            log.warning("a report for business unit %s arrived, but it is no longer configured", mid)
            return
        target = self.extension_for(unit, report)
        if target is None:
            return
        key, extension = target
        row = await self._row(report, message, key)
        if row is not None:
            await self._write(unit, report.channel, key, extension, row, upsert=report.kind != "CLICK")
        if report.kind == "INBOUND" and message is not None:
            await self._trigger_event(unit, message, row or {})

    async def _row(self, report: Report, message: OutboundMessage | None, key: str) -> dict[str, Any] | None:
        """The row to write, merged with what is stored for the message; None when it is not complete yet
        (a seen report that came before its delivery report waits for it)."""
        if report.kind == "CLICK":
            row = r.click_row(report)
            await self.rows.put_json(row_key(key, report.message_id or ""), row, ROW_TTL)
            return row
        if report.kind == "INBOUND":
            return r.inbound_row(report, message)
        message_id = report.message_id or ""
        if report.kind == "SEEN":
            return await self._seen_row(report, key, message_id)
        # An earlier delivery report of the message (an intermediate status, say) keeps what this one lacks.
        stored = await self.rows.get_json(row_key(key, message_id)) or {}
        fresh = r.delivery_row(report, message)
        row = stored | {k: v for k, v in fresh.items() if v is not None}
        await self.rows.put_json(row_key(key, message_id), row, ROW_TTL)
        # Read only after the write: a seen report written before it is found here, and one written after
        # it finds this row.
        return _with_seen(row, await self.rows.get_json(seen_key(key, message_id)))

    async def _seen_row(self, report: Report, key: str, message_id: str) -> dict[str, Any] | None:
        seen_at = r.seen_row(report)["seenAt"]
        if seen_at is not None:
            await self.rows.put_json(seen_key(key, message_id), {"seenAt": seen_at}, ROW_TTL)
        # Read only after the write, for the same reason as in `_row`.
        stored = await self.rows.get_json(row_key(key, message_id))
        if not stored or not stored.get("statusName"):
            return None  # the delivery report, when it comes, finds the seen time and writes the row
        return stored | {"seenAt": seen_at} if seen_at is not None else stored

    async def _write(
        self,
        unit: BusinessUnit,
        channel: str,
        key: str,
        extension: DataExtension,
        row: dict[str, Any],
        *,
        upsert: bool,
    ) -> None:
        shaped = r.for_extension(row, extension)
        storage = unit.report_storage
        if storage.mode == "native":
            await self.batcher.add(("native", unit.mid, key, upsert), shaped)
            return
        url = (
            storage.external.sms_notification_url
            if channel in r.SMS_REPORT_CHANNELS
            else storage.external.omni_notification_url
        )
        if url:
            await self.batcher.add(("external", unit.mid, url, extension.name), shaped)

    async def _flush(self, destination: Any, rows: list[dict[str, Any]]) -> None:
        mode, mid, target, detail = destination
        unit = await self.units.get(mid)
        if unit is None:
            return
        if mode == "external":
            response = await self.http.post(target, json={"mid": mid, "dataExtension": detail, "rows": rows})
            if response.status_code >= 300:
                raise RuntimeError(
                    f"the notification URL of business unit {mid} answered HTTP {response.status_code}"
                )
            return
        if detail:  # upsert: one row per primary key, its columns merged in order (the last value wins)
            # A row without seenAt (its delivery report missed the seen time) must not drop the seenAt of
            # another row of the message in the same batch.
            merged: dict[Any, dict[str, Any]] = {}
            for row in rows:
                merged[row.get("messageId")] = merged.get(row.get("messageId"), {}) | row
            rows = list(merged.values())
            await self.api.upsert_rows(mid, unit.sfmc, target, rows)
        else:
            await self.api.insert_rows(mid, unit.sfmc, target, rows)

    async def _trigger_event(self, unit: BusinessUnit, message: OutboundMessage, row: dict[str, Any]) -> None:
        context = message.host.context
        event_key, contact = context.get("eventDefinitionKey"), context.get("contactKey")
        if not event_key or not contact or not row:
            return
        data = {k: v for k, v in row.items() if v is not None}
        await self.api.fire_event(unit.mid, unit.sfmc, str(event_key), str(contact), data)
