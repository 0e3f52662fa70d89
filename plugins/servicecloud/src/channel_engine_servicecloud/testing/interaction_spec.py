"""Check bodies against Salesforce's Interaction Service spec: the OpenAPI 3.0 file of what partners send
(`inbound-interaction-api.yaml`) and the AsyncAPI file of what Salesforce publishes on the custom platform
event (`outbound-custom-event-payload.yaml`).

    from channel_engine_servicecloud.testing.interaction_spec import check_request, check_outbound_event

    assert check_request("POST", "/api/v1/acknowledgement", body) == []
    assert check_outbound_event(json.loads(event["Payload__c"])) == []

Each check returns a list of sentences, empty when the body conforms: schema violations, then keys that no
schema declares (a misspelt optional key would otherwise pass).

Salesforce's files are not strict OpenAPI, so they are prepared once before use: `type: int` becomes
`integer` and `type: float`/`double` becomes `number` (JSON Schema would reject every value of an unknown
type), `nullable: true` allows null, and a `discriminator` without a mapping gets one from the subtypes that
name it in their `allOf` (OpenAPI's implicit mapping by schema name). The core's Infobip checker then does
the rest: discriminated bases become a `oneOf` pinned by the discriminator value, references resolve through
`referencing`, undeclared keys are reported.

The files are read from `CHANNEL_ENGINE_SALESFORCE_SPEC_DIR`, or from `salesforce-interaction-api` beside
the Infobip spec directory (`$CHANNEL_ENGINE_SPEC_DIR/../../salesforce-interaction-api`). Neither set nor
present is a `SpecError`: a test that needs the spec fails, it never skips.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError, best_match

# The core's prepared-spec validator (discriminators, $refs, undeclared keys), reused rather than copied.
from channel_engine.testing.conformance import PICK, SPEC_DIR_ENV, SpecDocument, absolute_refs

SALESFORCE_SPEC_DIR_ENV = "CHANNEL_ENGINE_SALESFORCE_SPEC_DIR"
INBOUND_FILE = "inbound-interaction-api.yaml"
OUTBOUND_FILE = "outbound-custom-event-payload.yaml"
API_PREFIX = "/api/v1"  # the spec's `servers`; its paths are written without it
COMPONENTS = "#/components/schemas/"
LOOSE_TYPES = {"int": "integer", "long": "integer", "float": "number", "double": "number"}
# The JSON of a platform event's payload field, by the event's type field.
OUTBOUND_SCHEMAS = {"Interaction": "InteractionEvent", "RoutingRequested": "RoutingRequested"}

Schema = dict[str, Any]


class SpecError(RuntimeError):
    """The spec directory, a spec file, an operation or a schema cannot be found."""


def spec_dir() -> Path:
    """The directory holding Salesforce's two spec files."""
    explicit = os.environ.get(SALESFORCE_SPEC_DIR_ENV)
    if explicit:
        path = Path(explicit)
        if not (path / INBOUND_FILE).is_file():
            raise SpecError(f"{SALESFORCE_SPEC_DIR_ENV}={explicit} holds no {INBOUND_FILE}")
        return path
    infobip = os.environ.get(SPEC_DIR_ENV)
    if infobip:
        path = Path(infobip).parent.parent / "salesforce-interaction-api"
        if (path / INBOUND_FILE).is_file():
            return path
    raise SpecError(
        f"{SALESFORCE_SPEC_DIR_ENV} is not set and no salesforce-interaction-api directory sits beside "
        f"{SPEC_DIR_ENV} ({infobip or 'unset'}): point {SALESFORCE_SPEC_DIR_ENV} at the directory of "
        f"{INBOUND_FILE} and {OUTBOUND_FILE}"
    )


def check_request(method: str, path: str, body: Any) -> list[str]:
    """Problems of `body` as the JSON request body of `method path` (with or without `/api/v1`). For the
    multipart `/interactions`, `body` is its `json` part."""
    spec, operation = _operation(method, path)
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" in content:
        return spec.check(content["application/json"]["schema"], body)
    if "multipart/form-data" in content:
        part = _json_part(spec, content["multipart/form-data"]["schema"], f"{method.upper()} {path}")
        return spec.check(part, body)
    raise SpecError(f"{method.upper()} {path} has no JSON or multipart request body in {INBOUND_FILE}")


def check_response(method: str, path: str, status: int, body: Any) -> list[str]:
    """Problems of `body` as the `status` answer to `method path` (for fakes checking their own answers)."""
    spec, operation = _operation(method, path)
    responses = operation.get("responses") or {}
    answer = responses.get(str(status)) or responses.get("default")
    if answer is None:
        raise SpecError(f"{method.upper()} {path} documents no {status} answer in {INBOUND_FILE}")
    return spec.check(answer["content"]["application/json"]["schema"], body)


def check_schema(name: str, value: Any) -> list[str]:
    """Problems of `value` against `#/components/schemas/<name>` of the inbound spec."""
    spec = _inbound(spec_dir())
    if name not in spec.document["components"]["schemas"]:
        raise SpecError(f"{INBOUND_FILE} has no schema {name!r}")
    return spec.check({"$ref": COMPONENTS + name}, value)


def check_outbound_event(payload: Any, event_type: str = "Interaction") -> list[str]:
    """Problems of `payload`, the JSON in a platform event's payload field, against the AsyncAPI schema of
    its event type (`InteractionEvent` for Interaction, `RoutingRequested` for RoutingRequested).

    Salesforce writes an unset optional field as null (`"messageReason": null`, `"attachmentUploadResult":
    null` in its own examples) where the schema declares no null, so a null counts as absent here: a
    required field that is null is still reported as missing."""
    name = OUTBOUND_SCHEMAS.get(event_type)
    if name is None:
        raise SpecError(f"event type {event_type!r} is not one of {', '.join(OUTBOUND_SCHEMAS)}")
    return _outbound(spec_dir()).check({"$ref": COMPONENTS + name}, _without_nulls(payload))


def operation_path(path: str) -> str:
    """The spec's path of a request path: `/api/v1/route` and `/route` are both `/route`."""
    path = "/" + path.strip("/")
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :] or "/"
    return path


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _operation(method: str, path: str) -> tuple[_SalesforceSpec, dict[str, Any]]:
    spec = _inbound(spec_dir())
    operation = spec.document["paths"].get(operation_path(path), {}).get(method.lower())
    if operation is None:
        raise SpecError(f"{INBOUND_FILE} has no operation {method.upper()} {operation_path(path)}")
    return spec, operation


def _json_part(spec: _SalesforceSpec, schema: Schema, where: str) -> Schema:
    """The schema of the multipart body's `json` part."""
    if "$ref" in schema:
        schema = spec.resolver.lookup(spec.uri + schema["$ref"]).contents
    part = (schema.get("properties") or {}).get("json")
    if part is None:
        raise SpecError(f"the multipart body of {where} has no `json` part in {INBOUND_FILE}")
    return part


class _SalesforceSpec(SpecDocument):
    """The core's prepared spec, describing each error at its deepest point: Salesforce nests discriminated
    objects (an interaction holds an entry holds a message holds its content), and "not valid under any of
    the given schemas" at the outer one would not say which field is wrong."""

    def check(self, schema: Schema, payload: Any) -> list[str]:
        root = absolute_refs(schema, self.uri)
        problems = [_describe(error) for error in self._validator(root).iter_errors(payload)]
        undeclared = self._undeclared(root, payload, "$")
        return problems + [f"{path}: the spec declares no such key" for path in undeclared]


def _describe(error: ValidationError) -> str:
    """Follow a discriminated object into the subtype it names (or the closest alternative of any other
    oneOf/anyOf) down to the error that says what is wrong."""
    via: list[str] = []
    while error.context:
        prop = error.schema.get(PICK) if isinstance(error.schema, dict) else None
        if prop is not None and isinstance(error.instance, dict):
            kinds = [branch["properties"][prop]["const"] for branch in error.schema["oneOf"]]
            kind = error.instance.get(prop)
            if kind not in kinds:
                known = ", ".join(map(str, kinds))
                return _sentence(f"{error.json_path}: {prop} is {kind!r}; the spec knows {known}", via)
            via.append(f"{prop} {kind}")
            index = kinds.index(kind)
            error = best_match(e for e in error.context if e.relative_schema_path[0] == index)
        else:
            error = best_match(error.context)
    return _sentence(f"{error.json_path}: {error.message}", via)


def _sentence(message: str, via: list[str]) -> str:
    if via:
        message += f" (as {', '.join(via)})"
    return message if len(message) <= 400 else message[:397] + "..."


@functools.cache
def _inbound(directory: Path) -> SpecDocument:
    return _SalesforceSpec("salesforce-interaction", prepare(_load(directory / INBOUND_FILE)))


@functools.cache
def _outbound(directory: Path) -> SpecDocument:
    return _SalesforceSpec("salesforce-custom-event", prepare(_load(directory / OUTBOUND_FILE)))


def _load(file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise SpecError(f"{file} does not exist")
    document = yaml.safe_load(file.read_text(encoding="utf-8"))
    # Through JSON once: YAML's integer response codes become the strings OpenAPI means, dates in examples
    # become strings, so the document hashes and dumps like any JSON spec.
    return json.loads(json.dumps(document, default=str))


def prepare(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Salesforce spec document that strict JSON Schema tools accept (see the module doc)."""
    document = copy.deepcopy(document)
    schemas: dict[str, Schema] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in list(schemas):
        schemas[name] = _sanitize(schemas[name])
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters") or []:
                    if isinstance(parameter.get("schema"), dict):
                        parameter["schema"] = _sanitize(parameter["schema"])
    _implicit_mappings(schemas)
    return document


def _sanitize(node: Any) -> Any:
    """Loose types made standard and `nullable` made JSON Schema, in a schema and everything under it."""
    if isinstance(node, list):
        return [_sanitize(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _sanitize(value) for key, value in node.items()}
    kind = out.get("type")
    if isinstance(kind, str) and kind in LOOSE_TYPES:
        out["type"] = LOOSE_TYPES[kind]
    if out.get("nullable") is True:
        del out["nullable"]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:  # a $ref or a composition: null, or whatever the rest allows
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def _implicit_mappings(schemas: dict[str, Schema]) -> None:
    """Give every discriminated base a mapping entry for each schema that extends it (`allOf: [$ref base]`)
    and is named like a value of the discriminator property: OpenAPI's implicit mapping."""
    extends: dict[str, list[str]] = {}
    for name, schema in schemas.items():
        for part in schema.get("allOf") or []:
            ref = part.get("$ref", "") if isinstance(part, dict) else ""
            if ref.startswith(COMPONENTS):
                extends.setdefault(ref[len(COMPONENTS) :], []).append(name)
    for base, schema in schemas.items():
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, dict):
            continue
        mapping: dict[str, str] = dict(discriminator.get("mapping") or {})
        targets = {target.rsplit("/", 1)[-1] for target in mapping.values()}
        values = _values(schemas, schema, discriminator.get("propertyName", ""))
        for sub in extends.get(base, []):
            if sub not in targets and sub not in mapping and (values is None or sub in values):
                mapping[sub] = COMPONENTS + sub
        if mapping:
            discriminator["mapping"] = mapping


def _values(schemas: dict[str, Schema], schema: Schema, prop: str) -> set[str] | None:
    """The enum of the discriminator property, when the base declares one."""
    declared = (schema.get("properties") or {}).get(prop) or {}
    ref = declared.get("$ref", "")
    if ref.startswith(COMPONENTS):
        declared = schemas.get(ref[len(COMPONENTS) :], {})
    enum = declared.get("enum")
    return {str(value) for value in enum} if isinstance(enum, list) else None
