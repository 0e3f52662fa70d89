"""`channel-engine sfmc install-package`, end to end: the command line, the stored configuration of the
business unit, and the fake SFMC over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from channel_engine import hookimpl
from channel_engine.cli import main
from channel_engine.hosting import offline_services
from channel_engine_sfmc import config
from channel_engine_sfmc.data_extensions import ALL
from channel_engine_sfmc.install import add_commands
from channel_engine_sfmc.testing import FakeSfmc

MID = "100000001"


class InstallCommands:
    """The command as the plugin registers it, without loading every installed plugin's commands."""

    __name__ = "sfmc-install-commands"

    @hookimpl
    def register_commands(self, add: Any) -> None:
        add_commands(add)


@pytest.fixture(autouse=True)
def engine_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from channel_engine import plugins as plugin_module

    real = plugin_module.get_plugin_manager
    monkeypatch.setattr(
        plugin_module, "get_plugin_manager", lambda: real([InstallCommands()], entry_points=False)
    )
    monkeypatch.setenv("CHANNEL_ENGINE_DATA_DIR", str(tmp_path))
    for name in ("CHANNEL_ENGINE_SECRET_KEY", "CHANNEL_ENGINE_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


async def store_unit(creds: config.SfmcCredentials) -> None:
    unit = config.BusinessUnit(mid=MID, sfmc=creds)
    async with offline_services() as services:
        sealed = services.seal(msgspec.json.encode(unit))
        await services.data(config.NAMESPACE).put(config.key(MID), sealed)


async def run_cli(*argv: str) -> int:
    # The command runs its own event loop, as from a shell; the fake keeps serving on this one.
    return await asyncio.to_thread(main, list(argv))


async def test_install_package_creates_every_report_extension(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeSfmc(mid=MID)
    async with fake.running():
        await store_unit(fake.credentials())
        assert await run_cli("sfmc", "install-package", "--mid", MID) == 0
        first = capsys.readouterr().out.splitlines()
        assert first == [f"{de.name} ({de.key}): created" for de in ALL]
        assert set(fake.created) == {de.key for de in ALL}

        assert await run_cli("sfmc", "install-package", "--mid", MID) == 0  # running it twice is harmless
        again = capsys.readouterr().out.splitlines()
        assert again == [f"{de.name} ({de.key}): already there" for de in ALL]
    assert fake.tokens_issued == 2  # one per run: each run is its own process


async def test_an_unconfigured_business_unit_is_told_to_configure_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_cli("sfmc", "install-package", "--mid", "424242") == 2
    err = capsys.readouterr().err
    assert "424242 is not configured" in err and "PUT /sfmc/config/424242" in err


async def test_sfmc_down_fails_the_install_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeSfmc(mid=MID)
    async with fake.running():
        await store_unit(fake.credentials())
        fake.down = True
        assert await run_cli("sfmc", "install-package", "--mid", MID) == 1
    captured = capsys.readouterr()
    assert "503" in captured.err and captured.out == ""
    assert fake.client_secret not in captured.err + captured.out
    assert fake.created == {}


async def test_print_gives_the_definitions_for_creating_them_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_cli("sfmc", "install-package", "--print") == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["key"], d["description"]) for d in printed] == [
        (de.name, de.key, de.description) for de in ALL
    ]
    for shown, de in zip(printed, ALL, strict=True):
        assert [
            (f["name"], f["type"], f["length"], f["nullable"], f["primaryKey"], f["default"])
            for f in shown["fields"]
        ] == [(c.name, c.type, c.length, c.nullable, c.primary_key, c.default) for c in de.columns]
    price = next(f for f in printed[0]["fields"] if f["name"] == "pricePerMessage")
    assert (price["precision"], price["scale"]) == (18, 8)


def test_mid_or_print_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sfmc", "install-package"])
    assert exited.value.code == 2
    assert "--mid" in capsys.readouterr().err
