"""The engine's client of Salesforce Marketing Cloud, one business unit (MID) at a time: server-to-server
OAuth tokens, report rows into data extensions (the asynchronous REST rows API), Journey Builder events,
and creating the report data extensions (SOAP `Create`, which the REST API has no documented equivalent of).

Formats: WIRE-FORMATS.md part 2, 4.4, and Salesforce's references for `POST /v2/token`,
`PUT|POST /data/v1/async/dataextensions/key:{key}/rows`, `POST /interaction/v1/events` and the SOAP
`CreateRequest` of `DataExtension` objects. No message of an `SfmcError` ever carries a client secret or an
access token: SFMC's answers are quoted, but scrubbed of both first.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import httpx
import msgspec

from channel_engine import ChannelEngineError
from channel_engine.secret_box import Secret

from .config import SfmcCredentials
from .data_extensions import Column, DataExtension

# At most this many rows per request: a request is one unit of SFMC's asynchronous queue, so a failed one
# is retried whole by our caller; 500 keeps that small while 1,000 reports still take only two calls.
CHUNK_ROWS = 500
# And at most this many bytes: SFMC documents 5 MB as the largest payload of its rowset API and no figure
# for the async one, so we stay under the documented one. Counting rows alone is not enough: 500 inbound
# rows of 4,000 Korean characters are 6 MB of UTF-8.
CHUNK_BYTES = 4_000_000
# SFMC requires a precision and scale for a Decimal field and the column definitions give none (the only
# Decimal is pricePerMessage, prices per message being fractions of a cent): 8 decimals lose nothing.
DECIMAL_PRECISION = 18
DECIMAL_SCALE = 8

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "http://exacttarget.com/wsdl/partnerAPI"
MASK = "********"


class SfmcError(ChannelEngineError):
    """SFMC refused a call or could not be reached. `status` is the HTTP status, None for a network error;
    `accepted_rows` counts the rows SFMC had accepted (whole chunks, in order) before a row call failed."""

    code = "sfmc_error"

    def __init__(self, message: str, *, status: int | None = None, accepted_rows: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.accepted_rows = accepted_rows


@dataclass(frozen=True)
class AccessToken:
    access_token: Secret  # prints as a mask
    rest_url: str  # without a trailing slash
    soap_url: str  # likewise
    expires_at: float  # on the client's clock


class _TokenAnswer(msgspec.Struct):
    access_token: str
    expires_in: float
    rest_instance_url: str | None = None
    soap_instance_url: str | None = None


@dataclass
class _Slot:
    """One (MID, client id)'s cached token, and the lock that makes concurrent callers share one request."""

    lock: asyncio.Lock
    token: AccessToken | None = None


class SfmcApi:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        renew_before: float = 120.0,
        timeout: float = 20.0,
    ) -> None:
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._clock = clock
        self._renew_before = renew_before
        self._timeout = timeout
        self._slots: dict[tuple[str, str], _Slot] = {}

    # -- tokens -------------------------------------------------------------------------------------------

    async def token(self, mid: str, creds: SfmcCredentials) -> AccessToken:
        """A token for the business unit, reused until `renew_before` seconds before it expires."""
        slot = self._slot(mid, creds)
        if self._fresh(slot.token):
            return slot.token  # type: ignore[return-value]
        async with slot.lock:
            if not self._fresh(slot.token):  # another caller may have renewed it while we waited
                slot.token = await self._request_token(mid, creds)
            return slot.token  # type: ignore[return-value]

    def forget_token(self, mid: str, creds: SfmcCredentials) -> None:
        self._slot(mid, creds).token = None

    async def check(self, mid: str, creds: SfmcCredentials) -> None:
        """Raise SfmcError unless the credentials get a token now (a cached one proves nothing)."""
        self.forget_token(mid, creds)
        await self.token(mid, creds)

    async def _token_to(self, what: str, mid: str, creds: SfmcCredentials) -> AccessToken:
        """A token for a call, whose failure says which call it stopped (which data extension, say)."""
        try:
            return await self.token(mid, creds)
        except SfmcError as exc:
            raise SfmcError(f"could not {what}: {exc.message}", status=exc.status) from exc

    def _slot(self, mid: str, creds: SfmcCredentials) -> _Slot:
        key = (mid, creds.client_id)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(asyncio.Lock())
        return slot

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and token.expires_at - self._renew_before > self._clock()

    def _forget_if_current(self, mid: str, creds: SfmcCredentials, stale: AccessToken) -> None:
        """Forget a token SFMC refused, unless a concurrent caller has already replaced it."""
        slot = self._slot(mid, creds)
        if slot.token is stale:
            slot.token = None

    async def _request_token(self, mid: str, creds: SfmcCredentials) -> AccessToken:
        asked_at = self._clock()  # the lifetime counts from before the request: never overestimated
        body = {
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "account_id": mid,
        }
        what = f"get an access token for business unit {mid}"
        response = await self._send("POST", _join(creds.auth_base_uri, "/v2/token"), what, creds, json=body)
        secrets = self._secrets(mid, creds)
        if response.status_code == 401:
            raise SfmcError(
                f"SFMC refused the client id and secret of business unit {mid} (HTTP 401): "
                f"{_describe(response, secrets)}",
                status=401,
            )
        _raise_unless_ok(response, f"could not {what}", secrets)
        status = response.status_code
        try:
            answer = msgspec.json.decode(response.content, type=_TokenAnswer)
        except msgspec.DecodeError as exc:
            raise SfmcError(
                f"SFMC's token answer for business unit {mid} is not the documented one", status=status
            ) from exc
        rest = creds.rest_base_uri or answer.rest_instance_url
        soap = creds.soap_base_uri or answer.soap_instance_url
        if not rest or not soap:
            raise SfmcError(
                f"SFMC's token answer for business unit {mid} has no REST or SOAP URL", status=status
            )
        return AccessToken(
            Secret(answer.access_token), rest.rstrip("/"), soap.rstrip("/"), asked_at + answer.expires_in
        )

    # -- REST: data extension rows, journey events ------------------------------------------------------

    async def upsert_rows(self, mid: str, creds: SfmcCredentials, de_key: str, rows: list[dict]) -> None:
        """Insert or update rows by the data extension's primary key: calling again with the same rows is
        harmless. A data extension without a primary key takes `insert_rows` only."""
        await self._write_rows("PUT", mid, creds, de_key, rows)

    async def insert_rows(self, mid: str, creds: SfmcCredentials, de_key: str, rows: list[dict]) -> None:
        """Append rows. After an SfmcError, resend only `rows[error.accepted_rows:]`, or the chunks SFMC
        accepted are appended twice."""
        await self._write_rows("POST", mid, creds, de_key, rows)

    async def _write_rows(
        self, method: str, mid: str, creds: SfmcCredentials, de_key: str, rows: list[dict]
    ) -> None:
        path = f"/data/v1/async/dataextensions/key:{de_key}/rows"
        what = f"write rows to data extension {de_key}"
        accepted = 0
        for body, count in _row_bodies(rows):
            try:
                response = await self._rest(mid, creds, method, path, body, what)
                failure = f"SFMC did not take rows for data extension {de_key}"
                _raise_unless_ok(response, failure, self._secrets(mid, creds))
            except SfmcError as exc:
                raise SfmcError(exc.message, status=exc.status, accepted_rows=accepted) from exc
            accepted += count

    async def fire_event(
        self, mid: str, creds: SfmcCredentials, event_definition_key: str, contact_key: str, data: dict
    ) -> None:
        """A Journey Builder API event (an entry event, or what a Wait Until Event waits for)."""
        body = msgspec.json.encode(
            {"ContactKey": contact_key, "EventDefinitionKey": event_definition_key, "Data": data}
        )
        what = f"fire event {event_definition_key}"
        response = await self._rest(mid, creds, "POST", "/interaction/v1/events", body, what)
        _raise_unless_ok(
            response, f"SFMC did not take event {event_definition_key}", self._secrets(mid, creds)
        )

    async def _rest(
        self, mid: str, creds: SfmcCredentials, method: str, path: str, body: bytes, what: str
    ) -> httpx.Response:
        """One JSON call with the business unit's token; a 401 (token expired or revoked early) is retried
        once with a new token."""
        for attempt in (1, 2):
            token = await self._token_to(what, mid, creds)
            headers = {
                "Authorization": f"Bearer {token.access_token.reveal()}",
                "Content-Type": "application/json; charset=UTF-8",  # what postEvent asks for UTF-8 data
            }
            response = await self._send(
                method, token.rest_url + path, what, creds, content=body, headers=headers
            )
            if response.status_code != 401 or attempt == 2:
                return response
            self._forget_if_current(mid, creds, token)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- SOAP: creating data extensions -----------------------------------------------------------------

    async def create_data_extensions(
        self, mid: str, creds: SfmcCredentials, definitions: list[DataExtension]
    ) -> list[tuple[str, str]]:
        """Create the data extensions in one SOAP call: (key, "created" | "exists" | SFMC's error) for each,
        in order. One that exists already (by its key) is left as it is."""
        if not definitions:
            return []
        what = "create data extensions"
        for attempt in (1, 2):
            token = await self._token_to(what, mid, creds)
            envelope = _create_envelope(token.access_token.reveal(), definitions)
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "Create"}
            url = token.soap_url + "/Service.asmx"
            response = await self._send("POST", url, what, creds, content=envelope.encode(), headers=headers)
            root = _xml(response)
            secrets = self._secrets(mid, creds)
            fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault") if root is not None else None
            # A refused token is a Security fault ("Login failed"), not a 401: renew it once, like REST.
            if (
                fault is not None
                and (fault.findtext("faultcode") or "").endswith("Security")
                and attempt == 1
            ):
                self._forget_if_current(mid, creds, token)
                continue
            if fault is not None:
                reason = _scrub(fault.findtext("faultstring") or "no reason given", secrets)
                raise SfmcError(
                    f"SFMC refused to create data extensions (HTTP {response.status_code}): {reason}",
                    status=response.status_code,
                )
            _raise_unless_ok(response, "SFMC refused to create data extensions", secrets)
            if root is None:
                raise SfmcError(
                    "SFMC's answer to creating data extensions is not XML", status=response.status_code
                )
            return _create_outcomes(root, definitions, secrets)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- plumbing -----------------------------------------------------------------------------------------

    async def _send(
        self, method: str, url: str, what: str, creds: SfmcCredentials, **kwargs: Any
    ) -> httpx.Response:
        try:
            return await self._http.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            detail = _scrub(str(exc) or "no detail", (creds.client_secret,))
            host = httpx.URL(url).host
            raise SfmcError(
                f"could not {what}: no answer from {host} ({type(exc).__name__}: {detail})"
            ) from exc

    def _secrets(self, mid: str, creds: SfmcCredentials) -> tuple[str, ...]:
        """What no error message may show: the credentials' secrets and the business unit's token."""
        token = self._slot(mid, creds).token
        found = (creds.client_secret, creds.jwt_signing_secret, token and token.access_token.reveal())
        return tuple(s for s in found if s)

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()


def field_spec(column: Column) -> dict[str, Any]:
    """One column as SFMC's DataExtensionField properties (the SOAP call and `install-package --print`)."""
    spec: dict[str, Any] = {"Name": column.name, "FieldType": column.type}
    if column.type == "Text" and column.length is not None:
        spec["MaxLength"] = column.length
    if column.type == "Decimal":
        spec["Precision"] = DECIMAL_PRECISION
        spec["Scale"] = DECIMAL_SCALE
    spec["IsRequired"] = not column.nullable
    spec["IsPrimaryKey"] = column.primary_key
    if column.default is not None:
        spec["DefaultValue"] = column.default
    return spec


def _create_envelope(access_token: str, definitions: list[DataExtension]) -> str:
    objects = "".join(_de_object(de) for de in definitions)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<s:Header><fueloauth xmlns="http://exacttarget.com">{escape(access_token)}</fueloauth></s:Header>'
        f'<s:Body><CreateRequest xmlns="{PARTNER_NS}"><Options/>{objects}</CreateRequest></s:Body>'
        "</s:Envelope>"
    )


def _de_object(de: DataExtension) -> str:
    fields = "".join(
        "<Field>" + "".join(_element(k, v) for k, v in field_spec(c).items()) + "</Field>" for c in de.columns
    )
    return (
        '<Objects xsi:type="DataExtension">'
        f"{_element('CustomerKey', de.key)}{_element('Name', de.name)}"
        f"{_element('Description', de.description)}<Fields>{fields}</Fields></Objects>"
    )


def _element(name: str, value: object) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"<{name}>{escape(text)}</{name}>"


def _create_outcomes(
    root: ET.Element, definitions: list[DataExtension], secrets: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Each definition's result, matched by OrdinalID (its position in the request)."""
    outcomes = {i: "SFMC gave no result for it" for i in range(len(definitions))}
    results = root.iter(f"{{{PARTNER_NS}}}Results")
    for position, result in enumerate(results):
        ordinal = result.findtext(f"{{{PARTNER_NS}}}OrdinalID")
        index = int(ordinal) if ordinal and ordinal.isdigit() else position
        if index not in outcomes:
            continue
        status = result.findtext(f"{{{PARTNER_NS}}}StatusCode") or ""
        message = (result.findtext(f"{{{PARTNER_NS}}}StatusMessage") or "").strip()
        if status == "OK":
            outcomes[index] = "created"
        elif _means_exists(message):
            outcomes[index] = "exists"
        else:
            code = result.findtext(f"{{{PARTNER_NS}}}ErrorCode")
            reason = (message or status or "unknown error") + (f" (error {code})" if code else "")
            outcomes[index] = _scrub(reason, secrets)
    return [(de.key, outcomes[i]) for i, de in enumerate(definitions)]


def _means_exists(message: str) -> bool:
    # SFMC answers a Create of an existing key with "Updating an existing Data Extension definition is not
    # allowed when doing an add-only operation."; "already exists" covers other wordings of the same.
    lowered = message.lower()
    return "add-only operation" in lowered or "already exists" in lowered


def _row_bodies(rows: list[dict]) -> Iterator[tuple[bytes, int]]:
    """`{"items": [...]}` bodies of at most CHUNK_ROWS rows and CHUNK_BYTES bytes, rows in order (a row
    larger than CHUNK_BYTES goes alone: SFMC says whether it takes it)."""
    encoded: list[bytes] = []
    size = 0
    for row in rows:
        item = msgspec.json.encode(row)
        if encoded and (len(encoded) >= CHUNK_ROWS or size + len(item) + 1 > CHUNK_BYTES - 16):
            yield _items(encoded), len(encoded)
            encoded, size = [], 0
        encoded.append(item)
        size += len(item) + 1
    if encoded:
        yield _items(encoded), len(encoded)


def _items(encoded: list[bytes]) -> bytes:
    return b'{"items":[' + b",".join(encoded) + b"]}"


def _xml(response: httpx.Response) -> ET.Element | None:
    try:
        return ET.fromstring(response.content)
    except ET.ParseError:
        return None


def _raise_unless_ok(response: httpx.Response, failure: str, secrets: tuple[str, ...]) -> None:
    if not response.is_success:
        raise SfmcError(
            f"{failure} (HTTP {response.status_code}): {_describe(response, secrets)}",
            status=response.status_code,
        )


def _describe(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    """SFMC's reason, from its JSON error shapes (REST `message` and `additionalErrors`, OAuth `error`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [body.get("message"), body.get("error"), body.get("error_description")]
        parts += [e.get("message") for e in body.get("additionalErrors") or [] if isinstance(e, dict)]
        text = "; ".join(str(p) for p in parts if p)
    else:
        text = response.text.strip()
    return _scrub(text[:500] or response.reason_phrase or "no reason given", secrets)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """SFMC's text without our secrets, should it ever echo one."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path
