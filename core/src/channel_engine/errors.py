"""The engine's exceptions: one base class, each error with a code and a sentence for people."""

from __future__ import annotations


class ChannelEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class PluginError(ChannelEngineError):
    """A plugin is broken or two plugins disagree; raised at start-up, never mid-traffic."""

    code = "plugin_error"


class ConfigError(ChannelEngineError):
    """The engine's configuration is missing or contradicts itself."""

    code = "config_error"


class ProviderError(ChannelEngineError):
    """Infobip answered a request with an error."""

    code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float | None = None,
        violations: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.violations = violations or []  # (property path, violation), from Infobip's 400 answers

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.status == 0
