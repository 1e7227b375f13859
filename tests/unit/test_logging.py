"""Per-attempt HTTP log records and the handlers configure_logging installs."""

from __future__ import annotations

import json
import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydantic
import pytest

from musicagent.logging import (
    LoggerConfig,
    configure_logging,
    reset_logging,
)
from musicagent.stats import ClientStats
from musicagent.wire import AsyncWireTransport, WireRules, WireTransport

TOKEN = "personal-token-0123456789abcdefghij"
RATE_HEADERS = {
    "X-Discogs-Ratelimit": "60",
    "X-Discogs-Ratelimit-Used": "3",
    "X-Discogs-Ratelimit-Remaining": "57",
}


@pytest.fixture(autouse=True)
def restore_musicagent_logger() -> Iterator[None]:
    logger = logging.getLogger("musicagent")
    level = logger.level
    yield
    reset_logging()
    logger.setLevel(level)


def request_for(url: str, *, correlation_id: str = "cid-1", attempt: int = 1) -> httpx.Request:
    return httpx.Request(
        "GET",
        url,
        extensions={"musicagent.correlation_id": correlation_id, "musicagent.attempt": attempt},
    )


def wire(inner: httpx.BaseTransport) -> WireTransport:
    rules = WireRules(
        limiter=None, stats=ClientStats(), total_timeout=None, max_response_bytes=1 << 20
    )
    return WireTransport(inner, rules)


def async_wire(inner: httpx.AsyncBaseTransport) -> AsyncWireTransport:
    rules = WireRules(
        limiter=None, stats=ClientStats(), total_timeout=None, max_response_bytes=1 << 20
    )
    return AsyncWireTransport(inner, rules)


def http_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "musicagent.http"]


# --- the library default ----------------------------------------------------------------------


def test_library_installs_only_a_null_handler_by_default() -> None:
    reset_logging()
    handlers = logging.getLogger("musicagent").handlers
    assert [type(handler) for handler in handlers] == [logging.NullHandler]


# --- one record per attempt on the wire ---------------------------------------------------------


def test_each_attempt_is_logged_with_correlation_status_duration_and_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.http")
    inner = httpx.MockTransport(lambda request: httpx.Response(200, headers=RATE_HEADERS))
    transport = wire(inner)
    transport.handle_request(request_for(f"https://api.discogs.com/releases/1?token={TOKEN}"))

    (record,) = http_records(caplog)
    assert record.levelno == logging.INFO
    assert record.__dict__["correlation_id"] == "cid-1"
    assert record.__dict__["attempt"] == 1
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["url"] == "https://api.discogs.com/releases/1?token=***"
    assert record.__dict__["status"] == 200
    assert record.__dict__["duration_ms"] >= 0
    assert record.__dict__["rate_limit"] == 60
    assert record.__dict__["rate_limit_used"] == 3
    assert record.__dict__["rate_limit_remaining"] == 57
    assert TOKEN not in record.getMessage()
    assert "rate budget 57/60" in record.getMessage()


def test_every_retry_attempt_gets_its_own_record_sharing_the_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.http")
    statuses = iter([429, 200])
    inner = httpx.MockTransport(lambda request: httpx.Response(next(statuses)))
    transport = wire(inner)
    request = request_for("https://api.discogs.com/releases/1", correlation_id="call-7")
    transport.handle_request(request)
    request.extensions["musicagent.attempt"] = 2
    transport.handle_request(request)

    records = http_records(caplog)
    assert [r.__dict__["attempt"] for r in records] == [1, 2]
    assert {r.__dict__["correlation_id"] for r in records} == {"call-7"}
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]


def test_network_error_is_logged_as_warning_and_re_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.http")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = wire(httpx.MockTransport(refuse))
    with pytest.raises(httpx.ConnectError):
        transport.handle_request(request_for("https://api.discogs.com/releases/1"))

    (record,) = http_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.__dict__["status"] is None
    assert record.__dict__["duration_ms"] >= 0
    assert record.__dict__["error"] == "ConnectError: connection refused"


@pytest.mark.anyio
async def test_async_transport_logs_each_attempt(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="musicagent.http")
    inner = httpx.MockTransport(lambda request: httpx.Response(503, headers=RATE_HEADERS))
    transport = async_wire(inner)
    await transport.handle_async_request(request_for("https://api.discogs.com/artists/1"))

    (record,) = http_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.__dict__["status"] == 503
    assert record.__dict__["duration_ms"] >= 0
    assert record.__dict__["rate_limit_remaining"] == 57


# --- configure_logging --------------------------------------------------------------------------


def installed_handlers() -> list[logging.Handler]:
    handlers = logging.getLogger("musicagent").handlers
    return [handler for handler in handlers if not isinstance(handler, logging.NullHandler)]


def test_size_rotation_creates_log_and_error_files_from_config(tmp_path: Path) -> None:
    config = LoggerConfig(level="INFO", dir=tmp_path, max_bytes=2048, backups=3, console=False)
    configure_logging(config)

    handlers = installed_handlers()
    assert [type(handler) for handler in handlers] == [logging.handlers.RotatingFileHandler] * 2
    main, errors = handlers
    assert isinstance(main, logging.handlers.RotatingFileHandler)
    assert isinstance(errors, logging.handlers.RotatingFileHandler)
    assert Path(main.baseFilename) == tmp_path / "musicagent.log"
    assert Path(errors.baseFilename) == tmp_path / "musicagent-errors.log"
    assert (main.maxBytes, main.backupCount) == (2048, 3)
    assert errors.level == logging.ERROR


def test_time_rotation_rotates_at_midnight(tmp_path: Path) -> None:
    configure_logging(LoggerConfig(dir=tmp_path, rotation="time", backups=7, console=False))
    handlers = installed_handlers()
    assert all(isinstance(h, logging.handlers.TimedRotatingFileHandler) for h in handlers)
    main = handlers[0]
    assert isinstance(main, logging.handlers.TimedRotatingFileHandler)
    assert (main.when, main.backupCount) == ("MIDNIGHT", 7)


def test_errors_also_go_to_the_error_file_and_secrets_are_masked(tmp_path: Path) -> None:
    logger = configure_logging(LoggerConfig(level="INFO", dir=tmp_path, console=False))
    logger.info("fetched %s", f"https://api.discogs.com/x?token={TOKEN}")
    logger.error("rejected header Discogs token=%s", TOKEN)

    main_text = (tmp_path / "musicagent.log").read_text()
    error_text = (tmp_path / "musicagent-errors.log").read_text()
    assert "fetched https://api.discogs.com/x?token=***" in main_text
    assert "rejected header Discogs token=***" in main_text
    assert "fetched" not in error_text
    assert "rejected header Discogs token=***" in error_text
    assert TOKEN not in main_text + error_text


def test_json_format_writes_one_masked_object_per_line_with_extra_fields(tmp_path: Path) -> None:
    configure_logging(LoggerConfig(level="INFO", dir=tmp_path, format="json", console=False))
    inner = httpx.MockTransport(lambda request: httpx.Response(200, headers=RATE_HEADERS))
    wire(inner).handle_request(
        request_for(f"https://api.discogs.com/releases/1?token={TOKEN}", correlation_id="c-9")
    )

    lines = (tmp_path / "musicagent.log").read_text().splitlines()
    (entry,) = [json.loads(line) for line in lines]
    assert entry["name"] == "musicagent.http"
    assert entry["levelname"] == "INFO"
    assert entry["correlation_id"] == "c-9"
    assert entry["url"] == "https://api.discogs.com/releases/1?token=***"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert TOKEN not in lines[0]


def test_console_handler_writes_masked_text_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logger = configure_logging(LoggerConfig(level="WARNING"), secrets=["opaque-value-1234"])
    logger.warning("saw opaque-value-1234")
    assert "saw ***" in capsys.readouterr().err


def test_configuring_again_replaces_the_handlers(tmp_path: Path) -> None:
    configure_logging(LoggerConfig(dir=tmp_path, console=True))
    configure_logging(LoggerConfig(dir=tmp_path, console=True))
    assert len(installed_handlers()) == 3
    reset_logging()
    assert installed_handlers() == []


def test_logger_config_accepts_any_case_and_names_bad_values() -> None:
    config = LoggerConfig(level="debug", rotation="TIME", format="JSON")
    assert (config.level, config.rotation, config.format) == ("DEBUG", "time", "json")
    with pytest.raises(pydantic.ValidationError, match=r"rotation\n.*'size' or 'time'"):
        LoggerConfig(rotation="weekly")
