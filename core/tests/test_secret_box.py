"""Secrets are encrypted at rest, the key file is private, and secrets never print themselves."""

from __future__ import annotations

import logging
import stat

import pytest

from channel_engine import ConfigError
from channel_engine.secret_box import KEY_ENV, Secret, SecretBox, new_key


def test_key_file_is_created_once_with_0600(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    box = SecretBox.load(tmp_path / "data")
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = box.seal(b"api-key-123")
    assert b"api-key-123" not in sealed
    assert SecretBox.load(tmp_path / "data").open(sealed) == b"api-key-123"


def test_key_from_the_environment_wins(tmp_path, monkeypatch):
    key = new_key()
    monkeypatch.setenv(KEY_ENV, key)
    sealed = SecretBox.load(tmp_path).seal(b"x")
    assert not (tmp_path / "secret.key").exists()
    assert SecretBox(key.encode()).open(sealed) == b"x"


def test_wrong_key_says_so_without_leaking(tmp_path):
    sealed = SecretBox(new_key().encode()).seal(b"top-secret")
    with pytest.raises(ConfigError, match="cannot be decrypted") as caught:
        SecretBox(new_key().encode()).open(sealed)
    assert "top-secret" not in str(caught.value)


def test_a_malformed_key_is_a_clear_error():
    with pytest.raises(ConfigError, match="not a valid key"):
        SecretBox(b"short")


def test_secret_never_shows_in_repr_str_format_or_logs(caplog):
    secret = Secret("hunter2-api-key")
    caplog.set_level(logging.INFO)
    logging.getLogger("t").info("account key %s / %r / %s", secret, secret, f"{secret}")
    assert "hunter2" not in caplog.text
    assert "hunter2" not in repr([secret]) + str({"k": secret})
    assert secret.reveal() == "hunter2-api-key"


def test_derived_tokens_are_stable_and_distinct():
    box = SecretBox(new_key().encode())
    assert box.derive("webhook-token") == box.derive("webhook-token")
    assert box.derive("webhook-token") != box.derive("simulator-api-key")
