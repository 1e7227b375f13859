"""Configuration from ``DISCOGS_*`` environment variables, a ``.env`` file, or arguments.

Every setting has a default, so ``DiscogsSettings()`` works with nothing configured
(anonymous access, low rate tier). Arguments win over the environment, which wins over
``.env``::

    settings = DiscogsSettings()                 # DISCOGS_TOKEN=… in the environment
    settings = DiscogsSettings(log_level="INFO")  # or pass values directly

Credentials are ``SecretStr``: printing the settings never shows them.

The inputs are read here, once: the process environment (names in any letter case, empty
values ignored) and the ``.env`` file of the current folder (``DiscogsSettings(_env_file=…)``
names another, ``_env_file=None`` reads none). Every setting is a single value, so each is
looked up by its one name and validated by the Pydantic model; the same reading also tells
where each value came from.

Where each value came from is kept (``settings.source_of("base_url")``: ``argument``,
``environment``, ``.env`` or ``default``), because a ``.env`` file is whatever lies in the
folder you happen to be in. **The base-URL rule:** a base URL other than Discogs' that comes
from a ``.env`` file is refused while a credential from anywhere else (an argument, the process
environment, saved OAuth tokens) would be sent to it — unless confirmed with
``trust_env_file=True`` (``DISCOGS_TRUST_ENV_FILE=1`` in the process environment, or
``--trust-env-file`` on the command line; the confirmation itself is never read from ``.env``).
Refusing, not announcing, because a warning printed while the request is already on its way
protects nothing, and scripts never read warnings.

``load_settings()`` turns a bad value into one ``SettingsError`` line naming the ``DISCOGS_*``
variable, where it came from and what is allowed; a ``.env`` that is not UTF-8 is reported the
same way.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from musicagent.auth import (
    DEFAULT_BASE_URL,
    auth_from_credentials,
    check_base_url,
    default_user_agent,
)
from musicagent.errors import InvalidParameterError
from musicagent.logging import LoggerConfig

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CREDENTIAL_FIELDS",
    "DiscogsSettings",
    "SettingsError",
    "ValueSource",
    "default_cache_dir",
    "env_var",
    "load_settings",
    "settings_error",
]

#: Where a setting's value came from.
ValueSource = Literal["argument", "environment", ".env", "default"]
#: One ``.env`` file, several (later ones win), or none.
EnvFiles = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None
#: The settings that are credentials.
CREDENTIAL_FIELDS = (
    "token",
    "consumer_key",
    "consumer_secret",
    "oauth_token",
    "oauth_token_secret",
)
_PREFIX = "DISCOGS_"


def env_var(field: str) -> str:
    """The environment variable of a setting: ``max_retries`` → ``DISCOGS_MAX_RETRIES``."""
    return _PREFIX + field.upper()


class SettingsError(InvalidParameterError):
    """A setting has a value that cannot be used; one line naming its ``DISCOGS_*`` variable
    (``parameter``), where the value came from, and what is allowed."""


_TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "no"})


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/musicagent``, else ``~/.cache/musicagent``."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "musicagent"


class _ClassDefault:
    """The ``_env_file`` not given: the class's own ``env_file`` applies."""


_CLASS_DEFAULT = _ClassDefault()


class _Inputs:
    """What the settings read besides arguments: the environment and the ``.env`` file(s),
    read once and looked up by variable name."""

    def __init__(self, env_files: EnvFiles, encoding: str) -> None:
        self.environment = {key.upper(): value for key, value in os.environ.items() if value}
        self.dotenv: dict[str, str] = {}
        for path in _env_paths(env_files):
            if path.is_file():
                self.dotenv.update(_read_env_file(path, encoding))

    def resolve(
        self, fields: Iterable[str], arguments: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, ValueSource]]:
        """The value of every field that has one (argument, then environment, then ``.env``;
        a field with none keeps its default), and where each came from."""
        values: dict[str, Any] = {}
        sources: dict[str, ValueSource] = {}
        for field in fields:
            variable = env_var(field)
            if field in arguments:
                values[field], sources[field] = arguments[field], "argument"
            elif variable in self.environment:
                values[field], sources[field] = self.environment[variable], "environment"
            elif variable in self.dotenv and field != "trust_env_file":
                # The confirmation of a .env base URL is never taken from that same file.
                values[field], sources[field] = self.dotenv[variable], ".env"
            else:
                sources[field] = "default"
        return values, sources


def _env_paths(env_files: EnvFiles) -> list[Path]:
    if env_files is None:
        return []
    if isinstance(env_files, str | os.PathLike):
        return [Path(env_files)]
    return [Path(item) for item in env_files]


def _read_env_file(path: Path, encoding: str) -> dict[str, str]:
    # python-dotenv is imported only when a .env file exists: most processes have none.
    from dotenv import dotenv_values

    try:
        read = dotenv_values(path, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise _env_file_not_utf8(path, exc) from None
    return {key.upper(): value for key, value in read.items() if value}


class DiscogsSettings(BaseModel):
    """All musicagent settings; each field reads the environment variable ``DISCOGS_<NAME>``.

    Credentials: ``token`` (personal access token), or ``consumer_key`` + ``consumer_secret``
    (application), optionally with ``oauth_token`` + ``oauth_token_secret`` (a user's OAuth
    access). Choice fields accept any letter case; ``cache`` also accepts true/false/1/0.
    """

    model_config = ConfigDict(
        extra="ignore",
        # A rejected credential must not be echoed back inside the validation error.
        hide_input_in_errors=True,
        validate_default=True,
    )
    #: The ``.env`` file read when ``_env_file`` is not given: the current folder's.
    env_file: ClassVar[EnvFiles] = ".env"

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
    # Where to record every response received (musicagent.recording.Recorder); None: not at all.
    record_dir: Path | None = None

    # Confirms a base URL that came from a .env file (see the module documentation); honoured
    # only from an argument or the process environment, never from the .env file itself.
    trust_env_file: bool = False

    _sources: dict[str, ValueSource] = PrivateAttr(default_factory=dict)

    def __init__(
        self,
        *,
        _env_file: EnvFiles | _ClassDefault = _CLASS_DEFAULT,
        _env_file_encoding: str = "utf-8",
        **arguments: Any,
    ) -> None:
        """Settings from ``arguments``, else ``DISCOGS_*`` variables, else ``_env_file``
        (default: the class's ``env_file``, ``.env`` in the current folder; ``None``: no
        file), else the defaults."""
        cls = type(self)
        env_files = cls.env_file if isinstance(_env_file, _ClassDefault) else _env_file
        inputs = _Inputs(env_files, _env_file_encoding)
        values, sources = inputs.resolve(cls.model_fields, arguments)
        super().__init__(**values)
        self._sources = sources
        self.check_base_url_trust()

    def __eq__(self, other: object) -> bool:
        # Equal settings are equal values: where each came from does not make them differ.
        if not isinstance(other, DiscogsSettings):
            return NotImplemented
        return dict(self) == dict(other)

    __hash__ = None  # type: ignore[assignment]

    def source_of(self, field: str) -> ValueSource:
        """Where the value of ``field`` came from: argument, environment, .env or default."""
        return self._sources.get(field, "default")

    def check_base_url_trust(self, *, credential_elsewhere: bool = False) -> None:
        """Apply the base-URL rule (module documentation).

        Args:
            credential_elsewhere: a credential not in these settings will be sent as well
                (a ``--token`` argument, saved OAuth tokens).

        Raises:
            SettingsError: (``DISCOGS_BASE_URL``) when the rule refuses the base URL.
        """
        if self.source_of("base_url") != ".env" or self.trust_env_file:
            return
        if self.base_url.rstrip("/") == DEFAULT_BASE_URL.rstrip("/"):
            return
        outside = [
            field
            for field in CREDENTIAL_FIELDS
            if getattr(self, field) is not None and self.source_of(field) != ".env"
        ]
        if not outside and not credential_elsewhere:
            return
        raise SettingsError(
            f"DISCOGS_BASE_URL={self.base_url} comes from a .env file, not from the command "
            "line or the environment; your credentials are not sent there unless you confirm "
            "it (--trust-env-file, DISCOGS_TRUST_ENV_FILE=1 in the environment, or pass "
            "--base-url / DISCOGS_BASE_URL yourself)",
            parameter="DISCOGS_BASE_URL",
            allowed="https://api.discogs.com, or a base URL given on the command line or in "
            "the environment",
        )

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


def _env_file_not_utf8(path: Path, exc: UnicodeDecodeError) -> SettingsError:
    byte = exc.object[exc.start]
    return SettingsError(
        f"the .env file {str(path.resolve())!r} is not UTF-8 text (byte 0x{byte:02x} at "
        f"offset {exc.start}); save it as UTF-8, or remove it",
        parameter=".env",
        allowed="a UTF-8 text file of DISCOGS_NAME=value lines",
    )


_KIND_WORDS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "path_type": "a path",
    "string_type": "text",
}


def settings_error(
    exc: ValidationError, settings_class: type[DiscogsSettings] | None = None
) -> SettingsError:
    """One line for a ``ValidationError`` of ``DiscogsSettings``: the ``DISCOGS_*`` variable,
    where the value came from, what is wrong and what is allowed (never a credential's value)."""
    model = settings_class or DiscogsSettings
    errors = exc.errors(include_url=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc), "type": ""}
    field = str(first["loc"][0]) if first.get("loc") else ""
    variable = env_var(field) if field else "settings"
    _, sources = _Inputs(model.env_file, "utf-8").resolve(model.model_fields, {})
    source = sources.get(field, "default")
    origin = {".env": " (from .env)", "environment": "", "argument": "", "default": ""}[source]
    secret = field in CREDENTIAL_FIELDS or field == "redis_url"
    raw = first.get("input")
    shown = "" if secret or raw is None or isinstance(raw, dict) else f"={raw!s}"
    allowed = _allowed(model, field, first)
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    text = f"{variable}{shown}{origin} is not valid: {message}"
    if allowed and allowed not in text:
        text += f"; allowed: {allowed}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return SettingsError(text, parameter=variable, allowed=allowed)


def _allowed(model: type[DiscogsSettings], field: str, error: Any) -> str | None:
    info = model.model_fields.get(field)
    if info is None:
        return None
    choices = [arg for arg in typing.get_args(info.annotation) if isinstance(arg, str)]
    if typing.get_origin(info.annotation) is Literal and choices:
        return ", ".join(choices)
    kind = _KIND_WORDS.get(str(error.get("type", "")))
    if kind is not None:
        return kind
    context = error.get("ctx") or {}
    for key, words in (("ge", "or more"), ("gt", "more than"), ("le", "or less")):
        if key in context:
            bound = context[key]
            return f"{bound} {words}" if key != "gt" else f"{words} {bound}"
    return None


def load_settings(**values: Any) -> DiscogsSettings:
    """``DiscogsSettings(**values)``, with any problem as one ``SettingsError`` line.

    Raises:
        SettingsError: naming the ``DISCOGS_*`` variable and the allowed values.
    """
    try:
        return DiscogsSettings(**values)
    except ValidationError as exc:
        raise settings_error(exc) from None
