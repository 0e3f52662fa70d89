"""The `channel-engine` command line, run as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from channel_engine.secret_box import new_key
from channel_engine.testing.harness import run_engine


async def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "channel_engine.cli",
        *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_plugins_lists_name_version_kind_and_hooks():
    code, out, _ = await cli("plugins", "--json")
    assert code == 0
    by_name = {p["name"]: p for p in json.loads(out)}
    assert by_name["sms"]["kind"] == "channel"
    assert by_name["sms"]["version"] == "0.1.0"
    assert "validate_message" in by_name["sms"]["hooks"]
    code, table, _ = await cli("plugins")
    assert code == 0 and "sms" in table and "lms,sms" in table


async def test_accounts_are_stored_encrypted_and_never_printed(tmp_path: Path):
    secret_key = "ib-api-key-5e2c7d1f00aa"
    env = {"CHANNEL_ENGINE_SECRET_KEY": new_key(), "MY_INFOBIP_KEY": secret_key}
    data = str(tmp_path / "data")
    code, out, err = await cli(
        "accounts", "--data-dir", data, "add", "main", "--base-url", "https://abc.api.infobip.com",
        "--api-key-env", "MY_INFOBIP_KEY", env=env,
    )  # fmt: skip
    assert code == 0, err
    assert "stored encrypted" in out and secret_key not in out + err
    code, listed, _ = await cli("accounts", "--data-dir", data, "list", env=env)
    assert "main" in listed and "https://abc.api.infobip.com" in listed and secret_key not in listed
    for file in (tmp_path / "data").iterdir():
        assert secret_key.encode() not in file.read_bytes(), f"{file.name} holds the key in clear"
    # Another key cannot read it, and says so plainly.
    code, _, err = await cli(
        "accounts", "--data-dir", data, "list", env={"CHANNEL_ENGINE_SECRET_KEY": new_key()}
    )
    assert code == 2 and "cannot be decrypted" in err and secret_key not in err
    code, out, _ = await cli("accounts", "--data-dir", data, "remove", "main", env=env)
    assert code == 0
    code, _, err = await cli("accounts", "--data-dir", data, "remove", "main", env=env)
    assert code == 1 and "no account called 'main'" in err


async def test_a_bad_base_url_is_a_plain_error(tmp_path: Path):
    code, _, err = await cli(
        "accounts", "--data-dir", str(tmp_path), "add", "x", "--base-url", "abc.api.infobip.com",
        "--api-key-env", "HOME",
    )  # fmt: skip
    assert code == 2 and "must start with https://" in err


async def test_send_follows_one_message_to_its_final_status(tmp_path: Path):
    async with run_engine(tmp_path) as h:
        code, out, err = await cli("send", "--engine", h.url, "--to", "41793026727", "--text", "Hello")
        assert code == 0, err
        assert "accepted as" in out
        assert "DELIVERY" in out and "state: DELIVERED  status: DELIVERED_TO_HANDSET" in out
        code, _, err = await cli("send", "--engine", h.url, "--to", "", "--text", "Hello")
        assert code == 1 and "$.destination" in err


async def test_send_says_when_no_engine_answers():
    code, _, err = await cli("send", "--engine", "http://127.0.0.1:9", "--to", "41793026727", "--text", "x")
    assert code == 2 and "no engine answers" in err


async def test_the_simulator_runs_standalone_and_checks_the_api_key():
    import re

    import httpx

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "channel_engine.cli", "simulator", "--port", "0", "--api-key", "sim-key-1",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(20):
            line = (await proc.stderr.readline()).decode()
            # The socket is bound before that line is printed: calls wait in its backlog until it serves.
            url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)  # type: ignore[union-attr]
        body = {"messages": [{"sender": "Info", "destinations": [{"to": "41793026727", "messageId": "x1"}],
                              "content": {"text": "hi"}}]}  # fmt: skip
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.post("/sms/3/messages", json=body, headers={"Authorization": "App nope"})
            assert refused.status_code == 401 and refused.json()["errorCode"] == "E401"
            ok = await http.post("/sms/3/messages", json=body, headers={"Authorization": "App sim-key-1"})
            assert ok.status_code == 200
            assert ok.json()["messages"][0]["messageId"] == "x1"
            assert ok.json()["messages"][0]["status"]["name"] == "PENDING_ACCEPTED"
    finally:
        proc.terminate()
        await proc.wait()


async def test_the_demo_refuses_a_channel_that_is_not_installed():
    code, _out, err = await cli("demo", "--messages", "10", "--channels", "sms,pigeon")
    assert code != 0
    assert "channel 'pigeon' is not installed" in err


async def test_the_demo_runs_a_campaign_end_to_end():
    code, out, err = await cli("demo", "--messages", "400", "--batch", "100", "--channels", "sms,lms")
    assert "channels: sms 200, lms 200" in out
    assert code == 0, err[-2000:]
    table = dict(re.findall(r"^(DELIVERED|UNDELIVERABLE|REJECTED|EXPIRED)\s+([\d,]+)", out, re.MULTILINE))
    assert int(table["DELIVERED"].replace(",", "")) >= 340
    assert {"UNDELIVERABLE", "REJECTED", "EXPIRED"} <= set(table)
    assert "PENDING (no report)" in out
    assert re.search(r"end to end: [\d,]+ final statuses in [\d.]+ s", out)
