"""Check payloads against Infobip's published OpenAPI documents, strictly.

    from channel_engine.testing.conformance import check_request, check_response, check_webhook

    assert check_request("sms", "/sms/3/messages", body) == []
    assert check_webhook("sms", "receive-outbound-sms-message-reports-v3", report) == []

Each check returns a list of sentences, empty when the payload conforms: schema violations, then keys that
no schema declares. Infobip's schemas never say `additionalProperties: false`, so plain JSON Schema lets a
misspelt key through; the second list catches it.

Infobip writes polymorphic objects (WhatsApp buttons, Viber content, MMS segments...) as a base schema with
an OpenAPI `discriminator.mapping`, whose subtypes `allOf` that base. JSON Schema ignores `discriminator`,
so every such base is rewritten before validation: the base keeps its own keywords under a new name, each
subtype points at that copy instead of the base, and the base becomes a `oneOf` whose branches pin the
discriminator property with `const`. Then a payload is checked against the subtype it names.

The documents are read from the directory named by `CHANNEL_ENGINE_SPEC_DIR` (`<product>.json` each); an
unset or missing directory is an error, never a skip. Each document is read and prepared once.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError, best_match
from referencing.jsonschema import DRAFT202012

SPEC_DIR_ENV = "CHANNEL_ENGINE_SPEC_DIR"
COMPONENTS = "#/components/schemas/"
BASE_SUFFIX = "__base"  # the renamed copy of a discriminated base schema
PICK = "x-channel-engine-discriminator"  # where a rewritten base remembers its discriminator property

Schema = dict[str, Any]


class SpecError(RuntimeError):
    """The spec directory, a spec file, or an operation or webhook in it cannot be found."""


def spec_dir() -> Path:
    """The directory of Infobip's spec files, from `CHANNEL_ENGINE_SPEC_DIR`."""
    value = os.environ.get(SPEC_DIR_ENV)
    if not value:
        raise SpecError(
            f"{SPEC_DIR_ENV} is not set: point it at the directory of Infobip's OpenAPI files "
            "(sms.json, whatsapp.json, ...) to run the conformance checks"
        )
    path = Path(value)
    if not path.is_dir():
        raise SpecError(f"{SPEC_DIR_ENV}={value} is not a directory of Infobip's OpenAPI files")
    return path


def check_request(product: str, path: str, payload: Any, method: str = "post") -> list[str]:
    """Problems of `payload` as the JSON body of `method path` in `<product>.json`; [] when it conforms."""
    spec = _spec(spec_dir(), product)
    operation = spec.document.get("paths", {}).get(path, {}).get(method.lower())
    if operation is None:
        raise SpecError(f"{product}.json has no operation {method.upper()} {path}")
    return spec.check(_body_schema(operation, f"{method.upper()} {path} in {product}.json"), payload)


def check_webhook(product: str, webhook_name: str, payload: Any) -> list[str]:
    """Problems of `payload` as the body of webhook `webhook_name` in `<product>.json`; [] if it conforms."""
    spec = _spec(spec_dir(), product)
    webhook = spec.document.get("webhooks", {}).get(webhook_name)
    if webhook is None:
        known = ", ".join(sorted(spec.document.get("webhooks", {}))) or "none"
        raise SpecError(f"{product}.json has no webhook {webhook_name!r} (it has: {known})")
    return spec.check(_body_schema(webhook["post"], f"webhook {webhook_name} in {product}.json"), payload)


def check_response(product: str, path: str, status: int, payload: Any, method: str = "post") -> list[str]:
    """Problems of `payload` as Infobip's `status` answer to `method path` in `<product>.json`; [] if it
    conforms (for a simulator's answers)."""
    spec = _spec(spec_dir(), product)
    operation = spec.document.get("paths", {}).get(path, {}).get(method.lower())
    if operation is None:
        raise SpecError(f"{product}.json has no operation {method.upper()} {path}")
    answer = operation.get("responses", {}).get(str(status))
    if answer is None:
        raise SpecError(f"{method.upper()} {path} in {product}.json documents no {status} answer")
    if "$ref" in answer:
        answer = spec.resolver.lookup(spec.uri + answer["$ref"]).contents
    try:
        schema = answer["content"]["application/json"]["schema"]
    except KeyError:
        raise SpecError(f"the {status} answer of {method.upper()} {path} has no JSON schema") from None
    return spec.check(schema, payload)


def spec_document(product: str) -> dict[str, Any]:
    """The spec document of `product` as Infobip publishes it (shared: do not modify it)."""
    return _spec(spec_dir(), product).document


def webhook_examples(product: str, webhook_name: str) -> dict[str, Any]:
    """The JSON examples the spec gives for a webhook, by example name (for parser tests)."""
    spec = _spec(spec_dir(), product)
    content = spec.document["webhooks"][webhook_name]["post"]["requestBody"]["content"]
    examples = content.get("application/json", {}).get("examples") or {}
    return {name: example["value"] for name, example in examples.items() if "value" in example}


def _body_schema(operation: dict[str, Any], where: str) -> Schema:
    try:
        return operation["requestBody"]["content"]["application/json"]["schema"]
    except KeyError:
        raise SpecError(f"{where} has no application/json request body") from None


@functools.cache
def _spec(directory: Path, product: str) -> SpecDocument:
    file = directory / f"{product}.json"
    if not file.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.json"))) or "none"
        raise SpecError(f"no spec for product {product!r}: {file} does not exist (products here: {known})")
    return SpecDocument(product, json.loads(file.read_text(encoding="utf-8")))


class SpecDocument:
    """One spec document, prepared: discriminators rewritten, every `$ref` absolute, one registry."""

    def __init__(self, product: str, document: dict[str, Any]) -> None:
        self.uri = f"urn:channel-engine:infobip:{product}"
        self.document = document
        prepared = absolute_refs(_rewrite_discriminators(document), self.uri)
        self.prepared = prepared
        resource = DRAFT202012.create_resource(prepared)
        self.registry: referencing.Registry = referencing.Registry().with_resource(self.uri, resource)
        self.resolver = self.registry.resolver(self.uri)
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}

    def check(self, schema: Schema, payload: Any) -> list[str]:
        root = absolute_refs(schema, self.uri)
        problems = [_describe(error) for error in self._validator(root).iter_errors(payload)]
        undeclared = self._undeclared(root, payload, "$")
        problems += [f"{path}: the spec declares no such key" for path in undeclared]
        return problems

    def _validator(self, schema: Schema) -> jsonschema.Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return found

    def _resolve(self, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema:
            schema = self.resolver.lookup(schema["$ref"]).contents
            seen += 1
            if seen > 50:
                raise SpecError(f"{self.uri}: a $ref cycle that never reaches a schema")
        return schema

    # Keys the schema does not declare ---------------------------------------------------------------

    def _undeclared(self, schema: Schema, value: Any, path: str) -> Iterator[str]:
        if isinstance(value, list):
            items = self._items(schema)
            if items is not None:
                for i, item in enumerate(value):
                    yield from self._undeclared(items, item, f"{path}[{i}]")
            return
        if not isinstance(value, dict):
            return
        declared: dict[str, list[Schema]] = {}
        extra: list[Schema] = []
        free = self._declared(schema, value, declared, extra)
        if not declared and not extra:
            return  # an object the spec leaves untyped: anything goes
        for key, item in value.items():
            if key in declared:
                yield from self._undeclared({"allOf": declared[key]}, item, f"{path}.{key}")
            elif extra:
                yield from self._undeclared({"allOf": extra}, item, f"{path}.{key}")
            elif not free:
                yield f"{path}.{key}"

    def _declared(
        self, schema: Schema, value: dict[str, Any], declared: dict[str, list[Schema]], extra: list[Schema]
    ) -> bool:
        """Collect the properties `schema` declares for `value` (following $ref, allOf and the oneOf/anyOf
        branch that `value` matches); True when the schema also allows undeclared keys."""
        schema = self._resolve(schema)
        free = False
        for name, sub in (schema.get("properties") or {}).items():
            declared.setdefault(name, []).append(sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict) and additional:
            extra.append(additional)
        elif additional is True or additional == {} or schema.get("patternProperties"):
            free = True
        for part in schema.get("allOf") or []:
            free |= self._declared(part, value, declared, extra)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                branch = self._branch(schema, schema[keyword], value)
                if branch is None:
                    free = True  # no branch fits: the schema errors already say so
                else:
                    free |= self._declared(branch, value, declared, extra)
        return free

    def _branch(self, schema: Schema, branches: list[Schema], value: dict[str, Any]) -> Schema | None:
        prop = schema.get(PICK)
        if prop is not None:
            for branch in branches:
                if (branch.get("properties") or {}).get(prop, {}).get("const", object()) == value.get(prop):
                    return branch
        # Of the branches the value satisfies, the one that declares most of its keys: branches that require
        # nothing all "fit", and the first of them is not necessarily the one the value is.
        fitting = [b for b in branches if self._validator(b).is_valid(value)]
        if not fitting:
            return None
        return max(fitting, key=lambda b: len(set(value) & self._names(b)))

    def _names(self, schema: Schema) -> set[str]:
        """The property names a schema declares, through $ref and allOf."""
        schema = self._resolve(schema)
        names = set(schema.get("properties") or {})
        for part in schema.get("allOf") or []:
            names |= self._names(part)
        return names

    def _items(self, schema: Schema) -> Schema | None:
        schema = self._resolve(schema)
        if isinstance(schema.get("items"), dict):
            return schema["items"]
        for part in schema.get("allOf") or []:
            found = self._items(part)
            if found is not None:
                return found
        return None


def _describe(error: ValidationError) -> str:
    prop = error.schema.get(PICK) if isinstance(error.schema, dict) else None
    if prop is not None and error.context and isinstance(error.instance, dict):
        # a discriminated object: judge it by the subtype it names, or say that it names none
        kinds = [branch["properties"][prop]["const"] for branch in error.schema["oneOf"]]
        kind = error.instance.get(prop)
        if kind in kinds:
            index = kinds.index(kind)
            closest = best_match(e for e in error.context if e.relative_schema_path[0] == index)
            message = f"as {prop} {kind!r}: {closest.json_path}: {closest.message}"
        else:
            message = f"{prop} is {kind!r}; the spec knows {', '.join(map(str, kinds))}"
    elif error.context:  # a oneOf/anyOf that no branch satisfied: say what the closest branch lacks
        closest = best_match(error.context)
        message = f"fits none of the {error.validator} alternatives; closest: {closest.json_path}: "
        message += closest.message
    else:
        message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{error.json_path}: {message}"


def _rewrite_discriminators(document: dict[str, Any]) -> dict[str, Any]:
    """Turn each `discriminator.mapping` base schema into a `oneOf` pinned by `const` (see the module doc)."""
    document = copy.deepcopy(document)
    schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})
    bases = {
        name: schema
        for name, schema in schemas.items()
        if isinstance(schema.get("discriminator"), dict) and schema["discriminator"].get("mapping")
    }
    for name, schema in bases.items():
        if name + BASE_SUFFIX in schemas:
            raise SpecError(f"schema {name}{BASE_SUFFIX} exists: cannot rewrite {name}'s discriminator")
        core = {k: v for k, v in schema.items() if k not in ("discriminator", "oneOf", "anyOf")}
        schemas[name + BASE_SUFFIX] = core
    _point_subtypes_at_copies(schemas, set(bases))
    for name, schema in bases.items():
        prop = schema["discriminator"]["propertyName"]
        base_ref = COMPONENTS + name + BASE_SUFFIX
        branches = [
            {
                "allOf": [{"$ref": base_ref}, {"$ref": target if "#" in target else COMPONENTS + target}],
                "properties": {prop: {"const": key}},
                "required": [prop],
            }
            for key, target in schema["discriminator"]["mapping"].items()
        ]
        rewritten: Schema = {"oneOf": branches, PICK: prop}
        for keyword in ("title", "description"):
            if keyword in schema:
                rewritten[keyword] = schema[keyword]
        schemas[name] = rewritten
    return document


def _point_subtypes_at_copies(node: Any, bases: set[str]) -> None:
    """A subtype's `allOf: [{$ref: Base}]` must reach the base's own keywords, not the new `oneOf`."""
    if isinstance(node, dict):
        for part in node.get("allOf") or []:
            ref = part.get("$ref", "") if isinstance(part, dict) else ""
            if ref.startswith(COMPONENTS) and ref[len(COMPONENTS) :] in bases:
                part["$ref"] = ref + BASE_SUFFIX
        for child in node.values():
            _point_subtypes_at_copies(child, bases)
    elif isinstance(node, list):
        for child in node:
            _point_subtypes_at_copies(child, bases)


def absolute_refs(node: Any, uri: str) -> Any:
    """A copy where `#/...` references name the spec document, so any sub-schema validates on its own."""
    if isinstance(node, dict):
        out = {k: absolute_refs(v, uri) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out["$ref"] = uri + ref
        return out
    if isinstance(node, list):
        return [absolute_refs(v, uri) for v in node]
    return node
