"""Configuration from ``DISCOGS_*`` environment variables, a ``.env`` file, or arguments.

Every setting has a default, so ``DiscogsSettings()`` works with nothing configured
(anonymous access, low rate tier). Arguments win over the environment, which wins over
``.env``::

    settings = DiscogsSettings()                 # DISCOGS_TOKEN=… in the environment
    settings = DiscogsSettings(log_level="INFO")  # or pass values directly

Credentials are ``SecretStr``: printing the settings never shows them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from musicagent.auth import (
    DEFAULT_BASE_URL,
    auth_from_credentials,
    check_base_url,
    default_user_agent,
)
from musicagent.logging import LoggerConfig

__all__ = ["DiscogsSettings", "default_cache_dir"]

_TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "no"})


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/musicagent``, else ``~/.cache/musicagent``."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "musicagent"


class DiscogsSettings(BaseSettings):
    """All musicagent settings; each field reads the environment variable ``DISCOGS_<NAME>``.

    Credentials: ``token`` (personal access token), or ``consumer_key`` + ``consumer_secret``
    (application), optionally with ``oauth_token`` + ``oauth_token_secret`` (a user's OAuth
    access). Choice fields accept any letter case; ``cache`` also accepts true/false/1/0.
    """

    model_config = SettingsConfigDict(
        env_prefix="DISCOGS_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        # A rejected credential must not be echoed back inside the validation error.
        hide_input_in_errors=True,
        validate_default=True,
    )

    token: SecretStr | None = None
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    oauth_token: SecretStr | None = None
    oauth_token_secret: SecretStr | None = None

    base_url: str = DEFAULT_BASE_URL
    user_agent: str = Field(default_factory=default_user_agent)

    rate_limit_requests: int = Field(default=60, ge=1)
    rate_limit_requests_anonymous: int = Field(default=25, ge=1)
    rate_limit_window: float = Field(default=60.0, gt=0)
    rate_limit_state_file: Path | None = None
    rate_limit_margin: float = Field(default=0.25, ge=0)
    # Where the rate window lives: this process (or DISCOGS_RATE_LIMIT_STATE_FILE), or Redis
    # (DISCOGS_REDIS_URL) for workers on several machines.
    rate_limit_backend: Literal["local", "redis"] = "local"
    # A budget name shared on purpose (workers with different tokens behind one address);
    # unset, each credential has its own budget.
    rate_limit_budget: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")

    max_retries: int = Field(default=5, ge=0)
    retry_backoff_factor: float = Field(default=1.0, ge=0)
    retry_max_backoff: float = Field(default=30.0, gt=0)
    retry_max_total_time: float = Field(default=300.0, gt=0)
    circuit_breaker_threshold: int = Field(default=5, ge=1)
    circuit_breaker_reset: float = Field(default=30.0, gt=0)
    timeout: float = Field(default=30.0, gt=0)
    # Seconds for one whole attempt (connect, headers and body): a server that trickles a byte
    # at a time never trips the per-read `timeout`, so every attempt also has a deadline.
    total_timeout: float = Field(default=120.0, gt=0)
    # Largest response body accepted, before and after decompression (32 MiB: far above any
    # real Discogs body, far below what would exhaust memory).
    max_response_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    log_dir: Path | None = None
    log_file: str = "musicagent.log"
    log_max_bytes: int = Field(default=10_000_000, ge=0)
    log_backup_count: int = Field(default=5, ge=0)
    log_rotation: Literal["size", "time"] = "size"
    log_format: Literal["text", "json"] = "text"

    export_dir: Path = Path("exports")
    default_export_format: Literal["csv", "json", "jsonl", "sqlite"] = "csv"

    cache: Literal["on", "off"] = "on"
    cache_dir: Path = Field(default_factory=default_cache_dir)
    cache_backend: Literal["sqlite", "redis"] = "sqlite"
    # A Redis URL can carry a password (redis://:secret@host): a secret like the credentials.
    redis_url: SecretStr | None = None

    strict_validation: bool = False

    @field_validator(
        "token", "consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret"
    )
    @classmethod
    def _credential_is_one_line(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Editors and shells leave trailing newlines and spaces in pasted tokens.
        cleaned = value.get_secret_value().strip()
        if not cleaned:
            return None
        if any(ord(character) < 32 or ord(character) == 127 for character in cleaned):
            raise ValueError("contains a line break or another control character")
        return SecretStr(cleaned)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_safe(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("user_agent", mode="before")
    @classmethod
    def _user_agent_or_default(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return default_user_agent()
        return value

    @field_validator("user_agent")
    @classmethod
    def _user_agent_is_one_line(cls, value: str) -> str:
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            raise ValueError("contains a line break or another control character")
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(
        "log_rotation",
        "log_format",
        "default_export_format",
        "cache_backend",
        "rate_limit_backend",
        mode="before",
    )
    @classmethod
    def _choice_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cache", mode="before")
    @classmethod
    def _cache_switch(cls, value: object) -> object:
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE_WORDS:
                return "on"
            if word in _FALSE_WORDS:
                return "off"
        return value

    @model_validator(mode="after")
    def _redis_needs_url(self) -> Self:
        if self.cache_backend == "redis" and not self.redis_url:
            raise ValueError(
                "redis_url (DISCOGS_REDIS_URL) is required when cache_backend is 'redis'"
            )
        if self.rate_limit_backend == "redis" and not self.redis_url:
            raise ValueError(
                "redis_url (DISCOGS_REDIS_URL) is required when rate_limit_backend is 'redis'"
            )
        return self

    def redis_url_value(self) -> str | None:
        """The Redis URL in clear (for connecting only: never print or log it)."""
        return _reveal(self.redis_url)

    @property
    def cache_enabled(self) -> bool:
        """Whether responses are cached (``DISCOGS_CACHE=on``)."""
        return self.cache == "on"

    def auth(self) -> httpx.Auth | None:
        """The credential these settings describe, or ``None`` for anonymous access.

        OAuth access tokens win over a personal token, which wins over a bare consumer key and
        secret.
        """
        return auth_from_credentials(
            token=_reveal(self.token),
            consumer_key=_reveal(self.consumer_key),
            consumer_secret=_reveal(self.consumer_secret),
            oauth_token=_reveal(self.oauth_token),
            oauth_token_secret=_reveal(self.oauth_token_secret),
        )

    def logger_config(self) -> LoggerConfig:
        """The logging setup these settings describe, for ``configure_logging``."""
        return LoggerConfig(
            level=self.log_level,
            dir=self.log_dir,
            file_name=self.log_file,
            max_bytes=self.log_max_bytes,
            backups=self.log_backup_count,
            rotation=self.log_rotation,
            format=self.log_format,
        )


def _reveal(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
