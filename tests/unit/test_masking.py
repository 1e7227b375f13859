"""Secrets are masked in URLs, headers, free text and log records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from pythonjsonlogger.json import JsonFormatter

from musicagent.masking import (
    MASK,
    SecretMaskingFilter,
    forget_secret,
    is_secret_name,
    known_secrets,
    mask_headers,
    mask_text,
    mask_url,
    register_secret,
)

TOKEN = "QwErTyUiOp1234567890personaltoken"
CONSUMER_SECRET = "consumer-secret-0123456789"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.discogs.com/database/search?q=nirvana&token=abc123&per_page=100",
            "https://api.discogs.com/database/search?q=nirvana&token=***&per_page=100",
        ),
        (
            "https://api.discogs.com/releases/1?key=ck&secret=cs",
            "https://api.discogs.com/releases/1?key=***&secret=***",
        ),
        (
            "https://api.discogs.com/x?oauth_token=t&oauth_signature=a%26b&oauth_nonce=n1",
            "https://api.discogs.com/x?oauth_token=***&oauth_signature=***&oauth_nonce=n1",
        ),
        (
            "https://api.discogs.com/x?access_token=t&client_secret=s&page=2#top",
            "https://api.discogs.com/x?access_token=***&client_secret=***&page=2#top",
        ),
        ("https://user:hunter22@example.com/path", "https://user:***@example.com/path"),
        ("https://api.discogs.com/releases/249504", "https://api.discogs.com/releases/249504"),
    ],
)
def test_mask_url_hides_credential_query_values_and_keeps_the_rest(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_mask_url_accepts_an_httpx_url() -> None:
    url = httpx.URL("https://api.discogs.com/database/search", params={"q": "x", "token": TOKEN})
    masked = mask_url(url)
    assert TOKEN not in masked
    assert masked == "https://api.discogs.com/database/search?q=x&token=***"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"Discogs token={TOKEN}", "Discogs token=***"),
        (f"Discogs key=ck, secret={CONSUMER_SECRET}", "Discogs key=***, secret=***"),
        ("Bearer abc.def", "Bearer ***"),
        (f"Discogs {TOKEN}", "Discogs ***"),
        (TOKEN, MASK),
    ],
)
def test_mask_headers_masks_every_authorization_form(value: str, expected: str) -> None:
    assert mask_headers({"Authorization": value}) == {"Authorization": expected}


def test_mask_headers_keeps_oauth_protocol_fields_and_masks_credentials() -> None:
    header = (
        'OAuth oauth_nonce="123", oauth_timestamp="1700000000", oauth_version="1.0", '
        'oauth_signature_method="PLAINTEXT", oauth_consumer_key="ck", '
        f'oauth_token="tok", oauth_signature="{CONSUMER_SECRET}%26ts"'
    )
    masked = mask_headers(httpx.Headers({"Authorization": header}))["authorization"]
    assert CONSUMER_SECRET not in masked
    assert 'oauth_token="***"' in masked
    assert 'oauth_signature="***"' in masked
    assert 'oauth_consumer_key="***"' in masked
    assert 'oauth_nonce="123"' in masked
    assert 'oauth_signature_method="PLAINTEXT"' in masked


def test_mask_headers_masks_cookies_and_token_headers_but_not_ordinary_ones() -> None:
    headers = {
        "Cookie": "session=abc",
        "X-Api-Token": "t0k",
        "User-Agent": "musicagent/0.1.0",
        "X-Discogs-Ratelimit-Remaining": "59",
    }
    assert mask_headers(headers) == {
        "Cookie": MASK,
        "X-Api-Token": MASK,
        "User-Agent": "musicagent/0.1.0",
        "X-Discogs-Ratelimit-Remaining": "59",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /search?q=a&token=abc123 failed", "GET /search?q=a&token=*** failed"),
        ("secret = s3cr3t, next", "secret = ***, next"),
        ('oauth_signature="cs&ts" sent', 'oauth_signature="***" sent'),
        ('body {"token": "abc", "q": "ok"}', 'body {"token": "***", "q": "ok"}'),
        ("params {'oauth_token_secret': 'zz'}", "params {'oauth_token_secret': '***'}"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer ***"),
        ("Basic information is public", "Basic information is public"),
        ("Release not found.", "Release not found."),
    ],
)
def test_mask_text_masks_credential_assignments(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_mask_text_masks_known_secrets_also_when_percent_encoded() -> None:
    secret = "a/b+c=d"
    text = f"raw {secret} and encoded a%2Fb%2Bc%3Dd"
    assert mask_text(text, [secret]) == "raw *** and encoded ***"


def test_mask_text_replaces_a_longer_secret_before_a_secret_inside_it() -> None:
    assert mask_text("value abcdef-123", ["abcdef", "abcdef-123"]) == "value ***"


@pytest.mark.parametrize(
    "name",
    ["token", "KEY", "secret", "oauth_token", "oauth_consumer_key", "oauth_verifier", "api_token"],
)
def test_names_that_carry_credentials_are_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["q", "per_page", "oauth_nonce", "oauth_timestamp", "sort"])
def test_ordinary_parameter_names_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


@pytest.fixture
def registered_secret() -> Iterator[str]:
    secret = "registered-secret-value-42"
    register_secret(secret)
    yield secret
    forget_secret(secret)


def test_register_secret_ignores_values_too_short_to_mask_safely() -> None:
    register_secret("abc")
    assert "abc" not in known_secrets()


def _capture(
    formatter: logging.Formatter, masking: SecretMaskingFilter
) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(masking)
    logger = logging.getLogger("musicagent.test_masking")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_filter_masks_secrets_passed_as_message_arguments() -> None:
    logger, stream = _capture(logging.Formatter("%(message)s"), SecretMaskingFilter([TOKEN]))
    logger.info("calling %s with %s", httpx.URL("https://x/?token=abc"), {"auth": TOKEN})
    output = stream.getvalue()
    assert TOKEN not in output
    assert "token=***" in output
    assert output.startswith("calling https://x/?token=*** with")


def test_filter_masks_registered_secrets_in_records(registered_secret: str) -> None:
    logger, stream = _capture(logging.Formatter("%(message)s"), SecretMaskingFilter())
    logger.warning("odd value %s", registered_secret)
    assert stream.getvalue() == "odd value ***\n"


def test_filter_masks_exception_tracebacks() -> None:
    logger, stream = _capture(logging.Formatter("%(message)s"), SecretMaskingFilter([TOKEN]))
    try:
        raise RuntimeError(f"header was Discogs token={TOKEN}")
    except RuntimeError:
        logger.exception("request failed")
    output = stream.getvalue()
    assert TOKEN not in output
    assert "RuntimeError: header was Discogs token=***" in output


def test_filter_masks_extra_fields_in_json_output() -> None:
    logger, stream = _capture(JsonFormatter("%(levelname)s %(message)s"), SecretMaskingFilter())
    logger.info(
        "sent",
        extra={"url": "https://api.discogs.com/x?token=abc", "header": f"secret={CONSUMER_SECRET}"},
    )
    record = json.loads(stream.getvalue())
    assert record["url"] == "https://api.discogs.com/x?token=***"
    assert record["header"] == "secret=***"
    assert CONSUMER_SECRET not in stream.getvalue()


def test_filter_keeps_every_record() -> None:
    record = logging.LogRecord("musicagent", logging.INFO, __file__, 1, "x %s", (TOKEN,), None)
    assert SecretMaskingFilter([TOKEN]).filter(record) is True
    assert record.getMessage() == "x ***"


def test_filter_masks_secrets_added_after_creation() -> None:
    masking = SecretMaskingFilter()
    masking.add_secret("late-secret-value")
    logger, stream = _capture(logging.Formatter("%(message)s"), masking)
    logger.info("got late-secret-value")
    assert stream.getvalue() == "got ***\n"
