"""Bad input is refused before anything is sent, with an error naming the parameter; odd but
legal input is percent-encoded into one path segment, so it can never reach another resource.

Python API: `InvalidParameterError` (also a `ValueError`) naming the parameter, and the
recording transport under the client saw nothing. Command line: exit code 2 and one `error:`
line naming what is wrong (or click's usage error for options it checks itself), and no
request made.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from discogs_spec import load_example
from pytest_httpx import HTTPXMock
from typer.testing import CliRunner

from musicagent import AsyncDiscogs, Discogs
from musicagent.cli import app
from musicagent.errors import InvalidParameterError
from tests.reliability.conftest import RecordingTransport

BASE = "http://127.0.0.1:9"
LONG_NAME = "x" * 10_000


@dataclass(frozen=True)
class Refused:
    """A call that must be refused before sending, naming `parameter`."""

    label: str
    call: Callable[[Any], Any]
    parameter: str


REFUSED = [
    *(
        Refused(f"release_id={value!r}", lambda c, v=value: c.database.get_release(v), "release_id")
        for value in (0, -1, "abc", 1.5, True, None, "1", [1])
    ),
    *(
        Refused(f"username={value!r}", lambda c, v=value: c.users.get_profile(v), "username")
        for value in ("..", ".", "", " .. ", None, 42)
    ),
    Refused(
        "iterator username='..'",
        lambda c: c.collection.iter_collection_items_by_folder("..", 0),
        "username",
    ),
    Refused(
        "username='..' before another segment",
        lambda c: c.collection.get_collection_folder("..", 0),
        "username",
    ),
    Refused("order_id='..'", lambda c: c.marketplace.get_order(".."), "order_id"),
    Refused(
        "folder_id=-1",
        lambda c: c.collection.get_collection_items_by_folder("sandbox", -1),
        "folder_id",
    ),
    Refused("page=0", lambda c: c.wantlist.get_wantlist("sandbox", page=0), "page"),
    Refused("page=-3", lambda c: c.wantlist.get_wantlist("sandbox", page=-3), "page"),
    Refused("per_page=101", lambda c: c.wantlist.get_wantlist("sandbox", per_page=101), "per_page"),
    Refused("per_page=0", lambda c: c.database.search(q="x", per_page=0), "per_page"),
    Refused(
        "inventory status",
        lambda c: c.marketplace.get_inventory("sandbox", status="Nope"),
        "status",
    ),
    Refused("inventory sort", lambda c: c.marketplace.get_inventory("sandbox", sort="x"), "sort"),
    Refused(
        "sort_order",
        lambda c: c.marketplace.get_inventory("sandbox", sort_order="sideways"),
        "sort_order",
    ),
    Refused("order status", lambda c: c.marketplace.list_orders(status="Lost"), "status"),
    Refused("search type", lambda c: c.database.search(q="x", type="song"), "type"),
    Refused("currency", lambda c: c.database.get_release(1, curr_abbr="XXX"), "curr_abbr"),
    Refused("fee price=0", lambda c: c.marketplace.get_fee(0), "price"),
    Refused("fee price='abc'", lambda c: c.marketplace.get_fee("abc"), "price"),
    Refused(
        "fee currency",
        lambda c: c.marketplace.get_fee_with_currency(10.0, "DOGE"),
        "currency",
    ),
    Refused(
        "rating=6 on a write",
        lambda c: c.database.update_release_rating_by_user(1, "sandbox", rating=6),
        "rating",
    ),
    Refused(
        "listing condition",
        lambda c: c.marketplace.create_listing(release_id=1, condition="Shiny", price=5.0),
        "condition",
    ),
]

ENCODED = [
    ("a/b", "/users/a%2Fb"),
    ("../identity", "/users/..%2Fidentity"),
    ("..%2F..", "/users/..%252F.."),
    ("a?b=c", "/users/a%3Fb%3Dc"),
    ("a#b", "/users/a%23b"),
    ("a b", "/users/a%20b"),
    ("a\nb", "/users/a%0Ab"),
    ("ユーザー", "/users/" + quote("ユーザー", safe="")),
    # No length limit in the spec: a 10,000-character name is one (long) encoded segment.
    (LONG_NAME, "/users/" + LONG_NAME),
]

BAD_CONSTRUCTION = [
    ({"token": "sandbox-token\nX-Injected: 1"}, "token"),
    ({"token": "sandbox-token\r\n"}, "token"),
    ({"token": ""}, "token"),
    ({"token": " "}, "token"),
    ({"token": " sandbox-token"}, "token"),
    ({"consumer_key": "key-only"}, "consumer_secret"),
    ({"consumer_key": "k", "consumer_secret": "s\n"}, "consumer_secret"),
    ({"token": "t-123", "base_url": "http://api.example.com"}, "base_url"),
    ({"token": "t-123", "base_url": "ftp://127.0.0.1"}, "base_url"),
    ({"token": "t-123", "base_url": "not a url"}, "base_url"),
    ({"token": "t-123", "user_agent": "App/1.0\nX-Injected: 1"}, "user_agent"),
    ({"token": "t-123", "text_format": "xml"}, "text_format"),
]


def _sync_client(transport: RecordingTransport) -> Discogs:
    return Discogs(
        token="input-token-123", base_url=BASE, transport=transport, rate_limiter=False, cache=False
    )


def _async_client(transport: RecordingTransport) -> AsyncDiscogs:
    return AsyncDiscogs(
        token="input-token-123", base_url=BASE, transport=transport, rate_limiter=False, cache=False
    )


def _run_sync(call: Callable[[Any], Any], transport: RecordingTransport) -> Any:
    with _sync_client(transport) as client:
        result = call(client)
        return list(result) if inspect.isgenerator(result) else result


def _run_async(call: Callable[[Any], Any], transport: RecordingTransport) -> Any:
    async def run() -> Any:
        async with _async_client(transport) as client:
            result = call(client)
            if inspect.isasyncgen(result) or hasattr(result, "__anext__"):
                return [item async for item in result]
            return await result

    return asyncio.run(run())


RUNNERS = {"sync": _run_sync, "async": _run_async}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.label)
def test_bad_arguments_are_refused_naming_the_parameter_and_nothing_is_sent(
    case: Refused, runner: str
) -> None:
    transport = RecordingTransport()

    with pytest.raises(InvalidParameterError) as caught:
        RUNNERS[runner](case.call, transport)

    assert caught.value.parameter == case.parameter
    assert case.parameter in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert len(str(caught.value).splitlines()) == 1
    assert transport.sent == []


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize(("username", "path"), ENCODED, ids=[repr(u)[:20] for u, _ in ENCODED])
def test_path_values_are_percent_encoded_into_one_segment(
    username: str, path: str, runner: str
) -> None:
    profile = load_example("users_get_200.json")
    transport = RecordingTransport(reply=lambda request: httpx.Response(200, json=profile))

    RUNNERS[runner](lambda c: c.users.get_profile(username), transport)

    assert [request.raw_path for request in transport.sent] == [path]
    assert transport.sent[0].url.host == "127.0.0.1"
    assert transport.sent[0].url.query == b""
    assert transport.sent[0].raw_path.split("/")[1:-1] == ["users"]  # one segment after it


def test_a_username_with_a_slash_stays_one_segment_before_later_segments() -> None:
    empty_page = {"pagination": {"page": 1, "pages": 1, "per_page": 100, "items": 0}}
    transport = RecordingTransport(
        reply=lambda request: httpx.Response(200, json={**empty_page, "releases": []})
    )

    _run_sync(lambda c: c.collection.iter_collection_items_by_folder("a/b", 0), transport)

    assert [r.raw_path for r in transport.sent] == ["/users/a%2Fb/collection/folders/0/releases"]


@pytest.mark.parametrize("client_class", [Discogs, AsyncDiscogs])
@pytest.mark.parametrize(
    ("options", "parameter"), BAD_CONSTRUCTION, ids=[repr(o)[:40] for o, _ in BAD_CONSTRUCTION]
)
def test_bad_client_settings_are_refused_naming_the_parameter(
    options: dict[str, Any], parameter: str, client_class: type[Any]
) -> None:
    transport = RecordingTransport()
    defaults = {"base_url": BASE, "transport": transport, "cache": False}

    with pytest.raises(InvalidParameterError) as caught:
        client_class(**{**defaults, **options})

    assert caught.value.parameter == parameter
    assert parameter in str(caught.value)
    assert "sandbox-token" not in str(caught.value)  # a credential is never echoed back
    assert transport.sent == []


def test_a_token_with_a_newline_is_refused_on_a_live_client() -> None:
    transport = RecordingTransport()
    with _sync_client(transport) as client, pytest.raises(InvalidParameterError) as caught:
        client.token = "rotated-token\nX-Injected: 1"

    assert caught.value.parameter == "token"
    assert "rotated-token" not in str(caught.value)
    assert transport.sent == []


# --- the command line ---------------------------------------------------------------------

runner = CliRunner()

CLI_REFUSED = [
    (["get", "release", "0"], "ID"),
    (["get", "release", "--", "-1"], "ID"),
    (["get", "release", "abc"], "ID"),
    (["get", "release", "1.5"], "ID"),
    (["get", "release", "True"], "ID"),
    (["get", "order", ".."], "order_id"),
    (["get", "order", ""], "order_id"),
    (["export", "collection", "..", "--out", "{tmp}/x.csv"], "username"),
    (["export", "collection", ".", "--out", "{tmp}/x.csv"], "username"),
    (["export", "collection", "", "--out", "{tmp}/x.csv"], "username"),
    (["export", "wantlist", "..", "--out", "{tmp}/x.csv"], "username"),
    (["export", "inventory", "sandbox", "--status", "Nope", "--out", "{tmp}/x.csv"], "status"),
    (["export", "orders", "--status", "Lost", "--out", "{tmp}/x.csv"], "status"),
    (["export", "search", "x", "--type", "song", "--out", "{tmp}/x.csv"], "type"),
    (["export", "collection", "sandbox", "--out", "{tmp}/missing/x.csv"], "destination"),
    (["search", "x", "--type", "song"], "type"),
    (["whoami", "--token", "cli-secret-token\nX-Injected: 1"], "token"),
    (["whoami", "--token", " "], "token"),
    (["get", "release", "1", "--base-url", "http://api.example.com"], "base_url"),
    (["get", "release", "1", "--base-url", "not a url"], "base_url"),
]

CLI_USAGE_ERRORS = [
    ["get", "song", "1"],
    ["export", "collection", "sandbox", "--folder", "-1"],
    ["export", "collection", "sandbox", "--format", "xml"],
    ["export", "artist-releases", "0"],
    ["export", "label-releases", "abc"],
    ["search", "x", "--limit", "0"],
]


@pytest.mark.parametrize(("args", "parameter"), CLI_REFUSED, ids=lambda v: repr(v)[:50])
def test_cli_bad_input_exits_2_with_one_error_line_and_sends_nothing(
    args: list[str], parameter: str, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in args]

    result = runner.invoke(app, argv)

    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert result.exit_code == 2, result.output
    assert len(errors) == 1, result.output
    assert parameter in errors[0]
    assert "Traceback" not in result.output
    assert "cli-secret-token" not in result.output
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("args", CLI_USAGE_ERRORS, ids=lambda v: " ".join(v))
def test_cli_malformed_options_are_usage_errors_and_send_nothing(
    args: list[str], httpx_mock: HTTPXMock
) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output
    assert "Traceback" not in result.output
    assert httpx_mock.get_requests() == []
