"""The HTTP libraries' own loggers never print a secret, whatever the application configures.

A plain `logging.basicConfig(level=logging.DEBUG)` in a user's program (here: a root handler
that masks nothing itself) shows the `httpx` and `httpcore` records; a `token=` query on a raw
call, the Authorization value and secrets echoed back by the server in another case or cut
short must all arrive masked. Also: the Redis URL's password never shows in the settings' repr.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from musicagent import Discogs
from musicagent.masking import MASK, known_secrets, mask_text, register_secret
from musicagent.settings import DiscogsSettings

TOKEN = "ThirdPartyLoggerToken0123456789"


@pytest.fixture
def plain_root_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_httpx_and_httpcore_records_reach_a_plain_handler_masked(
    plain_root_log: io.StringIO,
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"echo": TOKEN.lower()})

    with Discogs(TOKEN, transport=httpx.MockTransport(echo), cache=False) as client:
        client.http.get("/releases/1", params={"token": TOKEN})
        logging.getLogger("httpx").debug("echoed %s and %s", TOKEN.upper(), TOKEN[:24])
        logging.getLogger("httpcore.http11").debug("headers %r", {"authorization": TOKEN})
    output = plain_root_log.getvalue()
    assert "HTTP Request" in output
    assert TOKEN not in output
    assert TOKEN.upper() not in output
    assert TOKEN[:24] not in output
    assert output.count(MASK) >= 3


def test_echoes_in_another_case_or_cut_short_are_masked() -> None:
    secret = "EchoedSecretValue-42xyz"
    register_secret(secret)
    text = f"got {secret.lower()} then {secret.upper()} then {secret[:16]}… end"
    masked = mask_text(text, known_secrets())
    assert masked == f"got {MASK} then {MASK} then {MASK}… end"


def test_short_prefixes_and_unrelated_words_are_left_alone() -> None:
    register_secret("consumer_secret_for_a_test")
    text = "consumer_key and consumer_secret go together"
    assert mask_text(text, known_secrets()) == text


def test_the_redis_password_never_shows_in_the_settings_repr() -> None:
    settings = DiscogsSettings(redis_url="redis://:hunter2-redis-pass@cache.internal:6379/0")
    assert "hunter2-redis-pass" not in repr(settings)
    assert "hunter2-redis-pass" not in str(settings)
    assert settings.redis_url_value() == "redis://:hunter2-redis-pass@cache.internal:6379/0"
