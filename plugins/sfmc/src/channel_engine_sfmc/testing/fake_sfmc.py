"""A loopback fake of the SFMC APIs the plugin calls, written from Salesforce's documented formats:

    POST /v2/token                                         client credentials -> bearer token (20 minutes)
    PUT|POST /data/v1/async/dataextensions/key:{key}/rows  upsert | insert rows -> 202 {"requestId"}
    POST /interaction/v1/events                            Journey API event -> 201 {"eventInstanceId"}
    POST /Service.asmx                                     SOAP Create of DataExtension objects
    GET /v2/userinfo                                       who a token belongs to (user, business unit)

One process serves the auth, REST and SOAP hosts alike. Where SFMC only reports a bad row later (the async
rows API checks rows after it queued them), the fake refuses the request at once with a 400 naming the
column, so tests see a wrong column mapping where it happens.

    fake = FakeSfmc()
    async with fake.running():
        creds = fake.credentials()
        ...
        rows = await fake.wait_for_rows("SMS_Delivery_Reports", 3)
        token = fake.user_token("100000001")   # a Journey Builder user's fuel2token, for /v2/userinfo
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine.testing.servers import serve_app

from ..config import SfmcCredentials
from ..data_extensions import BY_KEY

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "http://exacttarget.com/wsdl/partnerAPI"
FUEL_NS = "http://exacttarget.com"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
FIELD_TYPES = {"Text", "Number", "Date", "Boolean", "EmailAddress", "Phone", "Decimal", "Locale"}
ROWS_PATH = "/data/v1/async/dataextensions/{target}/rows"
MAX_BODY = 5_000_000  # the largest payload SFMC documents for its rowset API
NOT_AUTHORIZED = {
    "documentation": "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm",
    "errorcode": 0,
    "message": "Not Authorized",
}
EXISTS = "Updating an existing Data Extension definition is not allowed when doing an add-only operation. "


@dataclass(frozen=True)
class _Field:
    name: str
    type: str
    length: int | None
    required: bool
    primary_key: bool


class _Refused(Exception):
    """A row request SFMC would refuse: its REST error body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.body = {"message": message, "errorcode": 10006, "documentation": ""}


class FakeSfmc:
    def __init__(
        self,
        *,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        mid: str = "100000001",
        token_lifetime: int = 1079,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.mid = mid
        self.token_lifetime = token_lifetime
        self.clock = clock
        self.url = ""
        self.down = False  # every call answers 503 while set
        self.tokens_issued = 0
        self.events: list[dict] = []
        self.created: dict[str, dict] = {}  # by customer key: name, description, fields
        self.requests: list[tuple[str, str]] = []  # (method, path), every call, refused ones too
        self._rows: dict[str, list[dict]] = {}
        self._tokens: dict[str, float] = {}  # token -> when it expires
        self._user_tokens: dict[str, tuple[str, float]] = {}  # Journey Builder users' tokens -> (MID, expiry)
        self.userinfo_calls = 0
        self._changed = asyncio.Condition()
        guarded = self._guarded
        self.app = Starlette(
            routes=[
                Route("/v2/token", guarded(self._token), methods=["POST"]),
                Route(ROWS_PATH, guarded(self._write_rows), methods=["PUT", "POST"]),
                Route("/interaction/v1/events", guarded(self._event), methods=["POST"]),
                Route("/Service.asmx", guarded(self._soap), methods=["POST"]),
                Route("/v2/userinfo", guarded(self._userinfo), methods=["GET"]),
            ]
        )

    # -- for tests ----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeSfmc]:
        """Serve on 127.0.0.1; `url` stays set afterwards (a stopped fake's URL refuses connections)."""
        async with serve_app(self.app) as url:
            self.url = url
            yield self

    def credentials(self, jwt_signing_secret: str | None = None) -> SfmcCredentials:
        """The installed package's credentials, its auth and SOAP base URIs on this fake."""
        return SfmcCredentials(
            client_id=self.client_id,
            client_secret=self.client_secret,
            auth_base_uri=f"{self.url}/",
            soap_base_uri=f"{self.url}/",
            jwt_signing_secret=jwt_signing_secret,
        )

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on, as after an early revocation."""
        self._tokens.clear()
        self._user_tokens.clear()

    def user_token(self, mid: str | None = None, lifetime: float | None = None) -> str:
        """A token of a Marketing Cloud user signed in to business unit `mid` (this fake's by default), as
        Journey Builder hands it to an activity's page (`requestedTokens.fuel2token`)."""
        token = secrets.token_urlsafe(24)
        expiry = self.clock() + (self.token_lifetime if lifetime is None else lifetime)
        self._user_tokens[token] = (mid or self.mid, expiry)
        return token

    def rows(self, de_key: str) -> list[dict]:
        return [dict(row) for row in self._rows.get(de_key, [])]

    async def wait_for_rows(self, de_key: str, count: int, timeout: float = 10.0) -> list[dict]:
        """The data extension's rows once there are at least `count`; TimeoutError after `timeout`."""
        await self.wait_until(lambda: len(self._rows.get(de_key, [])) >= count, timeout)
        return self.rows(de_key)

    async def wait_for_events(self, count: int, timeout: float = 10.0) -> list[dict]:
        await self.wait_until(lambda: len(self.events) >= count, timeout)
        return list(self.events)

    async def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        """Return once `done()` holds (checked after every change); TimeoutError after `timeout`."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(done)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the API ------------------------------------------------------------------------------------------

    def _guarded(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def guarded(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            if self.down:
                return JSONResponse({"message": "Service Unavailable", "errorcode": 0}, status_code=503)
            return await handler(request)

        return guarded

    async def _token(self, request: Request) -> Response:
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Use client_credentials.")
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            description = (
                "Client authentication failed. Make sure that the client ID and client secret are valid."
            )
            return _oauth_error(401, "invalid_client", description)
        if body.get("account_id") not in (None, self.mid):
            # The documented answer names no code for a MID the package has no access to; this one is ours.
            return _oauth_error(401, "unauthorized_client", "The client has no access to this account_id.")
        token = secrets.token_urlsafe(24)
        self._tokens[token] = self.clock() + self.token_lifetime
        self.tokens_issued += 1
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": "data_extensions_read data_extensions_write journeys_execute",
                "soap_instance_url": f"{self.url}/",
                "rest_instance_url": f"{self.url}/",
            }
        )

    async def _userinfo(self, request: Request) -> Response:
        """`GET /v2/userinfo`: the user and account of a token, in the documented answer's shape."""
        self.userinfo_calls += 1
        token = self._bearer(request)
        now = self.clock()
        if token in self._user_tokens and self._user_tokens[token][1] > now:
            mid, expiry = self._user_tokens[token]
            name = "jb-user"
        elif self._valid(token):
            mid, expiry, name = self.mid, self._tokens[token or ""], "api-integration"
        else:
            return JSONResponse(NOT_AUTHORIZED, status_code=401)
        zone = {"longName": "(GMT) Dublin, Edinburgh, Lisbon, London *", "shortName": "GMT+0", "offset": 0,
                "dst": True}  # fmt: skip
        return JSONResponse(
            {
                "exp": int(expiry),
                "iss": "https://mc.exacttarget.com",
                "user": {
                    "sub": "10654321",
                    "name": name,
                    "preferred_username": name,
                    "email": f"{name}@example.com",
                    "locale": "en-GB",
                    "zoneinfo": "Europe/London",
                    "timezone": zone,
                },
                "organization": {
                    "member_id": int(mid),
                    "enterprise_id": int(self.mid),
                    "enterprise_name": "Fake enterprise",
                    "account_type": "enterprise",
                    "stack_key": "S1",
                    "region": "NA1",
                    "locale": "en-US",
                    "zoneinfo": "Europe/London",
                    "timezone": zone,
                },
                "rest": {"rest_instance_url": f"{self.url}/", "soap_instance_url": f"{self.url}/"},
            }
        )

    def _valid(self, token: str | None) -> bool:
        return token is not None and self._tokens.get(token, 0.0) > self.clock()

    def _bearer(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" else None

    async def _write_rows(self, request: Request) -> Response:
        if not self._valid(self._bearer(request)):
            return JSONResponse(NOT_AUTHORIZED, status_code=401)
        target = request.path_params["target"]
        if not target.startswith("key:"):
            return JSONResponse(
                {"message": "The fake addresses data extensions by key only"}, status_code=404
            )
        de_key = target.removeprefix("key:")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"message": "Request entity too large", "errorcode": 0}, status_code=413)
        try:
            items = msgspec.json.decode(raw, type=dict[str, list[dict[str, Any]]])["items"]
            rows = self._checked(de_key, items, upsert=request.method == "PUT")
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
            return JSONResponse(
                {"message": 'The body must be {"items": [rows]}', "errorcode": 10001}, status_code=400
            )
        except _Refused as refused:
            return JSONResponse(refused.body, status_code=400)
        self._store(de_key, rows, upsert=request.method == "PUT")
        await self._notify()
        return JSONResponse({"requestId": str(uuid.uuid4())}, status_code=202)

    def _schema(self, de_key: str) -> list[_Field] | None:
        if de_key in self.created:
            fields = self.created[de_key]["fields"]
            return [
                _Field(
                    f["name"], f["type"], f["length"], f["required"] and f["default"] is None, f["primaryKey"]
                )
                for f in fields
            ]
        known = BY_KEY.get(de_key)
        if known is None:
            return None
        return [
            _Field(c.name, c.type, c.length, not c.nullable and c.default is None, c.primary_key)
            for c in known.columns
        ]

    def _checked(self, de_key: str, items: list[dict[str, Any]], *, upsert: bool) -> list[dict[str, Any]]:
        """The rows under the data extension's own column names (SFMC matches them case-insensitively),
        or _Refused as SFMC would refuse them."""
        schema = self._schema(de_key)
        if schema is None:
            return items  # a data extension the fake does not know: taken as it comes
        by_name = {f.name.lower(): f for f in schema}
        if upsert and not any(f.primary_key for f in schema):
            raise _Refused(
                f"Data extension {de_key} has no primary key to upsert by; insert its rows instead"
            )
        rows = []
        for row in items:
            unknown = [name for name in row if name.lower() not in by_name]
            if unknown:
                raise _Refused(f"The column [{unknown[0]}] does not exist in data extension {de_key}")
            named = {by_name[name.lower()].name: value for name, value in row.items()}
            for field in schema:
                value = named.get(field.name)
                if field.required and value in (None, ""):
                    raise _Refused(f"The column [{field.name}] of data extension {de_key} is required")
                if (
                    field.type == "Text"
                    and field.length
                    and isinstance(value, str)
                    and len(value) > field.length
                ):
                    raise _Refused(f"The value for column [{field.name}] exceeds the column's maximum length")
            rows.append(named)
        return rows

    def _store(self, de_key: str, rows: list[dict[str, Any]], *, upsert: bool) -> None:
        stored = self._rows.setdefault(de_key, [])
        schema = self._schema(de_key) or []
        keys = [f.name for f in schema if f.primary_key]
        by_key = {tuple(r.get(k) for k in keys): r for r in stored} if keys else {}
        for row in rows:
            same = by_key.get(tuple(row.get(k) for k in keys)) if keys else None
            if same is None:
                stored.append(dict(row))
                if keys:
                    by_key[tuple(row.get(k) for k in keys)] = stored[-1]
            elif upsert:
                same.update(row)
            # else: an insert of a primary key already there, which SFMC's queue drops after its 202

    async def _event(self, request: Request) -> Response:
        if not self._valid(self._bearer(request)):
            return JSONResponse(NOT_AUTHORIZED, status_code=401)
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict) or not body.get("ContactKey") or not body.get("EventDefinitionKey"):
            required = {"message": "ContactKey and EventDefinitionKey are required", "errorcode": 30000}
            return JSONResponse(required, status_code=400)
        self.events.append(body)
        await self._notify()
        return JSONResponse({"eventInstanceId": str(uuid.uuid4())}, status_code=201)

    # -- SOAP ----------------------------------------------------------------------------------------------

    async def _soap(self, request: Request) -> Response:
        try:
            envelope = ET.fromstring(await request.body())
        except ET.ParseError:
            return _fault("soap:Client", "Server was unable to read request.")
        if request.headers.get("soapaction", "").strip('"') != "Create":
            return _fault("soap:Client", "The fake knows the SOAPAction Create only.")
        token = envelope.findtext(f"{{{SOAP_NS}}}Header/{{{FUEL_NS}}}fueloauth")
        if not self._valid(token):
            return _fault("q0:Security", "Login failed")
        objects = envelope.findall(f"{{{SOAP_NS}}}Body/{{{PARTNER_NS}}}CreateRequest/{{{PARTNER_NS}}}Objects")
        results = "".join(self._create(ordinal, obj) for ordinal, obj in enumerate(objects))
        overall = "OK" if "<StatusCode>Error</StatusCode>" not in results else "Has Errors"
        await self._notify()
        return _soap_response(
            f'<CreateResponse xmlns="{PARTNER_NS}">{results}<RequestID>{uuid.uuid4()}</RequestID>'
            f"<OverallStatus>{overall}</OverallStatus></CreateResponse>"
        )

    def _create(self, ordinal: int, obj: ET.Element) -> str:
        def text(element: ET.Element, name: str) -> str | None:
            return element.findtext(f"{{{PARTNER_NS}}}{name}")

        key = text(obj, "CustomerKey") or ""
        if not obj.get(XSI_TYPE, "").endswith("DataExtension"):
            return _result(ordinal, key, "Error", "The fake creates DataExtension objects only", 1)
        if not key or not text(obj, "Name"):
            return _result(ordinal, key, "Error", "CustomerKey and Name are required", 1)
        if key in self.created:
            return _result(ordinal, key, "Error", EXISTS, 310007)
        fields = []
        for element in obj.iterfind(f"{{{PARTNER_NS}}}Fields/{{{PARTNER_NS}}}Field"):
            field = {
                "name": text(element, "Name"),
                "type": text(element, "FieldType"),
                "length": int(text(element, "MaxLength") or 0) or None,
                "precision": int(text(element, "Precision") or 0) or None,
                "scale": int(text(element, "Scale")) if text(element, "Scale") else None,
                "required": text(element, "IsRequired") == "true",
                "primaryKey": text(element, "IsPrimaryKey") == "true",
                "default": text(element, "DefaultValue"),
            }
            problem = _field_problem(field)
            if problem:
                return _result(ordinal, key, "Error", problem, 310000)
            fields.append(field)
        if not fields:
            return _result(ordinal, key, "Error", "A data extension needs at least one field", 310000)
        self.created[key] = {
            "name": text(obj, "Name"),
            "description": text(obj, "Description"),
            "fields": fields,
        }
        return _result(ordinal, key, "OK", "Data Extension created.", None)


def _field_problem(field: dict[str, Any]) -> str | None:
    """What SFMC refuses in a field definition, as far as its documentation says."""
    if not field["name"] or field["type"] not in FIELD_TYPES:
        return f"Field {field['name']!r}: unknown FieldType {field['type']!r}"
    if field["primaryKey"] and not field["required"]:
        return f"Field {field['name']!r}: a primary key must be required"
    if field["type"] == "Text" and (field["length"] or 0) > 4000:
        return f"Field {field['name']!r}: MaxLength is at most 4000"
    if field["type"] == "Decimal" and (field["precision"] is None or field["scale"] is None):
        return f"Field {field['name']!r}: a Decimal field needs Precision and Scale"
    return None


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    body = {
        "error": error,
        "error_description": description,
        "error_uri": "https://developer.salesforce.com/docs",
    }
    return JSONResponse(body, status_code=status)


def _result(ordinal: int, key: str, status: str, message: str, error_code: int | None) -> str:
    code = f"<ErrorCode>{error_code}</ErrorCode>" if error_code is not None else ""
    return (
        f"<Results><StatusCode>{status}</StatusCode><StatusMessage>{escape(message)}</StatusMessage>"
        f"<OrdinalID>{ordinal}</OrdinalID>{code}<NewID>0</NewID>"
        f'<Object xsi:type="DataExtension"><CustomerKey>{escape(key)}</CustomerKey></Object></Results>'
    )


def _fault(code: str, reason: str) -> Response:
    # SOAP 1.1 answers every fault with HTTP 500.
    return _soap_response(
        "<soap:Fault>"
        f'<faultcode xmlns:q0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">{code}</faultcode>'
        f"<faultstring>{escape(reason)}</faultstring></soap:Fault>",
        status=500,
    )  # fmt: skip


def _soap_response(body: str, status: int = 200) -> Response:
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>",
        status_code=status,
        media_type="text/xml",
    )
