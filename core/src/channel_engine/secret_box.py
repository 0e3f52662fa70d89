"""Secrets at rest and in memory.

`SecretBox` encrypts with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`). Its key comes from
`CHANNEL_ENGINE_SECRET_KEY`, or from `secret.key` in the data directory, created with 0600 permissions on
first run. `Secret` wraps a secret string so that printing, logging or formatting it never shows it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .errors import ConfigError

KEY_ENV = "CHANNEL_ENGINE_SECRET_KEY"
KEY_FILE = "secret.key"


class Secret:
    """A secret value that never shows itself: repr, str and f-strings print a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._value.encode()).digest()))

    def __bool__(self) -> bool:
        return bool(self._value)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{KEY_ENV} is not a valid key: it must be 32 url-safe base64-encoded bytes "
                "(create one with `channel-engine keygen`)"
            ) from exc
        self._key = key

    @classmethod
    def load(cls, data_dir: Path) -> SecretBox:
        """The key from the environment, else from the data directory (created on first run)."""
        from_env = os.environ.get(KEY_ENV)
        if from_env:
            return cls(from_env.strip().encode())
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL + 0600: never readable by others, never overwrites a key a racing process wrote.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise ConfigError(
                f"a stored secret cannot be decrypted: {KEY_ENV} (or secret.key) is not the key it was "
                "encrypted with"
            ) from exc

    def derive(self, purpose: str) -> str:
        """A stable token for `purpose` (e.g. the webhook token), derived from the key: no extra secret to
        store, and it changes when the key is rotated."""
        digest = hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()
