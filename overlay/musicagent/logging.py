"""Logging for musicagent: per-attempt HTTP records, rotating log files, secrets masked.

As a library, musicagent only installs a ``NullHandler`` on the ``musicagent`` logger; your
application's logging configuration decides where records go. Applications (and the
``musicagent`` command line) that want ready-made output call :func:`configure_logging`::

    configure_logging(LoggerConfig(level="INFO", dir="logs", format="json"))

Every HTTP attempt, retries included, is logged once on ``musicagent.http`` by the wire
transport (:func:`log_attempt`) with its correlation id, attempt number, method, masked URL, status,
duration and the remaining rate budget.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from musicagent import extensions
from musicagent.masking import SecretMaskingFilter, mask_text, mask_url
from musicagent.ratelimit import parse_rate_limit_headers

__all__ = [
    "ATTEMPT_EXTENSION",
    "CORRELATION_ID_EXTENSION",
    "HTTP_LOGGER_NAME",
    "LOGGER_NAME",
    "LoggerConfig",
    "configure_logging",
    "describe_attempt",
    "log_attempt",
    "reset_logging",
]

LOGGER_NAME = "musicagent"
HTTP_LOGGER_NAME = "musicagent.http"
CORRELATION_ID_EXTENSION = extensions.CORRELATION_ID
"""Request extension holding the id shared by all attempts of one logical call."""
ATTEMPT_EXTENSION = extensions.ATTEMPT
"""Request extension holding the attempt number (1 for the first try), set by the retry layer."""

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"

_logger = logging.getLogger(LOGGER_NAME)
if not any(isinstance(handler, logging.NullHandler) for handler in _logger.handlers):
    _logger.addHandler(logging.NullHandler())
_http_logger = logging.getLogger(HTTP_LOGGER_NAME)

THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""Loggers of the HTTP libraries below musicagent that can print URLs and headers."""

# A filter on a logger runs for the records created on that very logger, before any handler
# (the application's own included) sees them, so a plain `logging.basicConfig(level=DEBUG)`
# never prints `?token=…` or an echoed secret in clear. Child loggers need their own.
_third_party_masking = SecretMaskingFilter()
for _name in THIRD_PARTY_LOGGERS:
    _library_logger = logging.getLogger(_name)
    if not any(isinstance(f, SecretMaskingFilter) for f in _library_logger.filters):
        _library_logger.addFilter(_third_party_masking)

_installed_lock = threading.Lock()
_installed_handlers: list[logging.Handler] = []


class LoggerConfig(BaseModel):
    """Where and how :func:`configure_logging` writes musicagent's log records.

    ``dir=None`` logs to the console only. With a directory, records also go to
    ``file_name`` (rotated by size at ``max_bytes``, or at midnight with ``rotation="time"``,
    keeping ``backups`` old files) and records of level ERROR and above also to
    ``error_file_name``.
    """

    model_config = ConfigDict(frozen=True)

    level: LogLevel = "WARNING"
    dir: Path | None = None
    file_name: str = "musicagent.log"
    error_file_name: str = "musicagent-errors.log"
    max_bytes: int = Field(default=10_000_000, ge=0)
    backups: int = Field(default=5, ge=0)
    rotation: Literal["size", "time"] = "size"
    format: Literal["text", "json"] = "text"
    console: bool = True

    @field_validator("level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("rotation", "format", mode="before")
    @classmethod
    def _choice_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def configure_logging(
    config: LoggerConfig | None = None, *, secrets: Iterable[str] = ()
) -> logging.Logger:
    """Install console and rotating file handlers on the ``musicagent`` logger and return it.

    Calling it again replaces the handlers a previous call installed. Every handler masks
    secrets (the ``secrets`` given here and every credential musicagent was handed).
    """
    config = config or LoggerConfig()
    masking = SecretMaskingFilter(secrets)
    formatter = _formatter(config.format)
    handlers: list[logging.Handler] = []
    if config.console:
        handlers.append(logging.StreamHandler(sys.stderr))
    if config.dir is not None:
        config.dir.mkdir(parents=True, exist_ok=True)
        handlers.append(_file_handler(config, config.dir / config.file_name))
        error_handler = _file_handler(config, config.dir / config.error_file_name)
        error_handler.setLevel(logging.ERROR)
        handlers.append(error_handler)
    for handler in handlers:
        handler.addFilter(masking)
        handler.setFormatter(formatter)
    reset_logging()
    with _installed_lock:
        _installed_handlers.extend(handlers)
    for handler in handlers:
        _logger.addHandler(handler)
    _logger.setLevel(config.level)
    return _logger


def reset_logging() -> None:
    """Remove and close the handlers :func:`configure_logging` installed."""
    with _installed_lock:
        handlers = list(_installed_handlers)
        _installed_handlers.clear()
    for handler in handlers:
        _logger.removeHandler(handler)
        handler.close()


def _formatter(kind: Literal["text", "json"]) -> logging.Formatter:
    if kind == "json":
        # The JSON formatter is loaded only for a JSON log.
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(_JSON_FIELDS)
    return logging.Formatter(_TEXT_FORMAT)


def _file_handler(config: LoggerConfig, path: Path) -> logging.Handler:
    # delay: no empty files for a run that never logs at that level.
    import logging.handlers  # only when logging to files

    if config.rotation == "time":
        return logging.handlers.TimedRotatingFileHandler(
            path, when="midnight", backupCount=config.backups, encoding="utf-8", delay=True
        )
    return logging.handlers.RotatingFileHandler(
        path,
        maxBytes=config.max_bytes,
        backupCount=config.backups,
        encoding="utf-8",
        delay=True,
    )


def describe_attempt(
    request: httpx.Request,
    *,
    duration: float,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> tuple[int, str, dict[str, Any]]:
    """The level, message and ``extra`` fields of the log record for one HTTP attempt.

    Throttling (429), server errors (5xx) and network errors are WARNING; everything else INFO.
    """
    extra: dict[str, Any] = {
        "correlation_id": request.extensions.get(CORRELATION_ID_EXTENSION),
        "attempt": request.extensions.get(ATTEMPT_EXTENSION, 1),
        "method": request.method,
        "url": mask_url(request.url),
        "status": response.status_code if response is not None else None,
        "duration_ms": round(duration * 1000, 1),
    }
    rate = parse_rate_limit_headers(response.headers) if response is not None else None
    extra["rate_limit"] = rate.limit if rate else None
    extra["rate_limit_used"] = rate.used if rate else None
    extra["rate_limit_remaining"] = rate.remaining if rate else None
    context = f"attempt {extra['attempt']}, correlation {extra['correlation_id'] or '-'}"
    if rate is not None and rate.remaining is not None:
        context += f", rate budget {rate.remaining}/{rate.limit if rate.limit is not None else '?'}"
    head = f"{request.method} {extra['url']}"
    if response is None:
        extra["error"] = mask_text(f"{type(error).__name__}: {error}")
        message = f"{head} failed after {extra['duration_ms']} ms: {extra['error']} ({context})"
        return logging.WARNING, message, extra
    status = response.status_code
    level = logging.WARNING if status == 429 or status >= 500 else logging.INFO
    message = f"{head} -> {status} in {extra['duration_ms']} ms ({context})"
    return level, message, extra


def log_attempt(
    request: httpx.Request,
    duration: float,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> None:
    """Log one HTTP attempt on ``musicagent.http`` (INFO, or WARNING for 429, 5xx, errors)."""
    # Successful attempts log at INFO; when nobody listens there, skip building the record
    # (masking the URL, reading the rate headers): it is most of the per-request cost.
    quiet = error is None and response is not None and response.status_code < 400
    if quiet and not _http_logger.isEnabledFor(logging.INFO):
        return
    level, message, extra = describe_attempt(
        request, duration=duration, response=response, error=error
    )
    _http_logger.log(level, message, extra=extra)
