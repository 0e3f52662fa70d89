"""`channel-engine sfmc install-package`: the report data extensions, created in a business unit through
the API (what the seeds' Package Manager upload did), or printed for creating them by hand.

    channel-engine sfmc install-package --mid 100000001   # with the credentials stored for that MID
    channel-engine sfmc install-package --print           # the definitions as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from channel_engine.hosting import offline_services

from .data_extensions import ALL, DataExtension
from .sfmc_api import SfmcApi, SfmcError, field_spec
from .units import Units

SHOWN = {"created": "created", "exists": "already there"}


def add_commands(add: Any) -> None:
    """Add `sfmc install-package` (`add` is argparse's `add_parser` of the engine's subcommands)."""
    sfmc = add("sfmc", help="Salesforce Marketing Cloud tools")
    tools = sfmc.add_subparsers(dest="sfmc_command", required=True)
    install = tools.add_parser(
        "install-package",
        help="create the report data extensions in a business unit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = install.add_mutually_exclusive_group(required=True)
    target.add_argument("--mid", help="the business unit (MID) to create them in; configure it first")
    target.add_argument(
        "--print", dest="print_only", action="store_true", help="print the definitions as JSON instead"
    )
    install.set_defaults(func=install_package)


def install_package(args: argparse.Namespace) -> int:
    if args.print_only:
        print(json.dumps([definition(de) for de in ALL], indent=2))
        return 0
    return asyncio.run(create_in(args.mid))


async def create_in(mid: str, api: SfmcApi | None = None) -> int:
    """Create every report data extension in the business unit; 0 when all of them exist afterwards."""
    async with offline_services() as services:
        unit = await Units(services).get(mid)
    if unit is None:
        print(
            f"business unit {mid} is not configured: configure it first (PUT /sfmc/config/{mid}), "
            "then run this again",
            file=sys.stderr,
        )
        return 2
    client = api or SfmcApi()
    try:
        outcomes = await client.create_data_extensions(mid, unit.sfmc, list(ALL))
    except SfmcError as exc:
        print(f"no data extension created in business unit {mid}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        if api is None:
            await client.aclose()
    names = {de.key: de.name for de in ALL}
    for key, outcome in outcomes:
        print(f"{names[key]} ({key}): {SHOWN.get(outcome, 'error: ' + outcome)}")
    return 0 if all(outcome in SHOWN for _, outcome in outcomes) else 1


def definition(de: DataExtension) -> dict[str, Any]:
    """A data extension as someone creating it by hand in Contact Builder needs it."""
    fields = []
    for column in de.columns:
        spec = field_spec(column)
        field: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "length": spec.get("MaxLength"),
            "nullable": column.nullable,
            "primaryKey": column.primary_key,
            "default": column.default,
        }
        if "Precision" in spec:
            field |= {"precision": spec["Precision"], "scale": spec["Scale"]}
        fields.append(field | {"description": column.description})
    return {"name": de.name, "key": de.key, "description": de.description, "fields": fields}
