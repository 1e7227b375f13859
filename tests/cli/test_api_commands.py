"""`musicagent api`: every generated command against the sandbox, reads and writes.

Writes run twice: with --dry-run (nothing reaches the sandbox) and for real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from discogs_cli import COMMANDS
from typer.testing import CliRunner

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent.cli import app
from musicagent.ratelimit import RateLimiter

pytestmark = pytest.mark.integration

runner = CliRunner()
ME = "sandbox"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=10_000, collection_size=60, export_delay=0) as server:
        yield server


@pytest.fixture
def api(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    sandbox.reset()
    RateLimiter.reset_shared()
    monkeypatch.setenv("DISCOGS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("DISCOGS_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("DISCOGS_CACHE", "off")
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_REQUESTS", "10000")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seen: set[str] = set()

    def run(*argv: str, code: int = 0, stdin: str | None = None) -> Any:
        seen.add(f"{argv[0]} {argv[1]}")
        result = runner.invoke(app, ["api", *argv], input=stdin)
        assert result.exit_code == code, (argv, result.output)
        text = result.stdout
        return json.loads(text) if text.strip().startswith(("{", "[", "null")) else text

    run.seen = seen  # type: ignore[attr-defined]
    run.sandbox = sandbox  # type: ignore[attr-defined]
    return run


def _requests(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["requests"])


def write(api: Any, *argv: str) -> Any:
    """A write: first as a dry run (nothing sent, credentials masked), then for real."""
    before = _requests(api.sandbox)
    shown = api(*argv, "--dry-run", "--json")
    assert _requests(api.sandbox) == before
    assert shown["headers"]["authorization"] == "Discogs token=***"
    assert SANDBOX_TOKEN not in json.dumps(shown)
    return api(*argv, "--yes")


def test_every_generated_command_runs_against_the_sandbox(api: Any, tmp_path: Path) -> None:
    release = api("database", "get-release", "1")
    assert release["id"] == 1 and release["title"]
    assert api("database", "get-release", "249504", "--curr-abbr", "EUR")["id"] == 249504
    write(api, "database", "update-release-rating-by-user", "1", ME, "--rating", "4")
    assert api("database", "get-release-rating-by-user", "1", ME)["rating"] == 4
    assert write(api, "database", "delete-release-rating-by-user", "1", ME) is None
    assert "rating" in api("database", "get-community-release-rating", "1")
    api("database", "get-release-stats", "1")
    assert api("database", "get-master", "2")["id"] == 2
    assert api("database", "get-master-versions", "2", "--per-page", "2")["versions"]
    assert api("database", "get-artist", "3")["id"] == 3
    api("database", "get-artist-releases", "3", "--sort", "year", "--per-page", "5")
    assert api("database", "get-label", "2")["id"] == 2
    api("database", "get-label-releases", "2", "--per-page", "10")
    assert api("database", "search", "--q", "nirvana", "--type", "release", "--per-page", "3")

    assert api("users", "get-identity")["username"] == ME
    api("users", "get-profile", ME)
    assert write(api, "users", "edit-profile", ME, "--location", "Malmö")["location"] == "Malmö"
    api("users", "get-user-submissions", ME, "--per-page", "5")
    api("users", "get-user-contributions", ME, "--per-page", "5")

    assert api("collection", "list-collection-folders", ME)["folders"][0]["id"] == 0
    folder = write(api, "collection", "create-collection-folder", ME, "--name", "Ström")
    fid = str(folder["id"])
    assert api("collection", "get-collection-folder", ME, fid)["name"] == "Ström"
    write(api, "collection", "edit-collection-folder", ME, fid, "--name", "Renamed")
    added = write(api, "collection", "add-to-collection-folder", ME, fid, "7")
    iid = str(added["instance_id"])
    assert api("collection", "get-collection-items-by-release", ME, "7")["releases"]
    api("collection", "get-collection-items-by-folder", ME, "0", "--per-page", "5")
    write(api, "collection", "edit-collection-instance-field", ME, fid, "7", iid, "3",
          "--value", "Nice")  # fmt: skip
    write(api, "collection", "edit-collection-instance", ME, fid, "7", iid, "--rating", "5")
    write(api, "collection", "delete-collection-instance", ME, fid, "7", iid)
    write(api, "collection", "delete-collection-folder", ME, fid)
    assert api("collection", "list-collection-fields", ME)["fields"]
    api("collection", "get-collection-value", ME)

    api("wantlist", "get-wantlist", ME, "--per-page", "3")
    write(api, "wantlist", "add-to-wantlist", ME, "11", "--notes", "first", "--rating", "3")
    write(api, "wantlist", "edit-wantlist-release", ME, "11", "--notes", "any pressing")
    write(api, "wantlist", "delete-from-wantlist", ME, "11")

    lists = api("lists", "get-user-lists", ME)
    api("lists", "get-list", str(lists["lists"][0]["id"]))

    api("marketplace", "get-inventory", ME, "--per-page", "5")
    listing = write(api, "marketplace", "create-listing", "--release-id", "12",
                    "--condition", "Mint (M)", "--price", "9.5")  # fmt: skip
    lid = str(listing["listing_id"])
    api("marketplace", "get-listing", lid, "--curr-abbr", "GBP")
    body = tmp_path / "listing.json"
    body.write_text(json.dumps({"release_id": 12, "condition": "Good (G)", "price": 8.0}))
    write(api, "marketplace", "edit-listing", lid, "--body", str(body))
    write(api, "marketplace", "delete-listing", lid)
    orders = api("marketplace", "list-orders", "--per-page", "5")
    oid = orders["orders"][0]["id"]
    order = api("marketplace", "get-order", oid)
    api("marketplace", "list-order-messages", oid, "--per-page", "2")
    write(api, "marketplace", "add-order-message", oid, "--message", "Thanks")
    write(api, "marketplace", "edit-order", oid, "--status", order["next_status"][0])
    assert api("marketplace", "get-fee", "10")["value"] > 0
    api("marketplace", "get-fee-with-currency", "10", "EUR")
    api("marketplace", "get-price-suggestions", "1")
    api("marketplace", "get-release-marketplace-stats", "1", "--curr-abbr", "EUR")

    location = write(api, "inventory", "export-inventory")["location"]
    eid = location.rstrip("/").rsplit("/", 1)[1]
    api("inventory", "list-inventory-exports")
    api("inventory", "get-inventory-export", eid)
    out = tmp_path / "export.csv"
    api("inventory", "download-inventory-export", eid, "--output", str(out))
    assert out.read_bytes().startswith(b"listing_id,")
    upload = tmp_path / "add.csv"
    upload.write_text("release_id,price,media_condition\n123,1.50,Mint (M)\n")
    write(api, "inventory", "upload-inventory-add", "--upload", str(upload))
    write(api, "inventory", "upload-inventory-change", "--upload", str(upload))
    delete = tmp_path / "delete.csv"
    delete.write_text("listing_id\n1\n")
    write(api, "inventory", "upload-inventory-delete", "--upload", str(delete))
    uploads = api("inventory", "list-inventory-uploads")
    api("inventory", "get-inventory-upload", str(uploads["items"][0]["id"]))

    # OAuth: the request-token step with the sandbox application's key and secret.
    api("oauth", "get-request-token", "--dry-run", "--json")
    api("oauth", "get-access-token", "--dry-run", "--json")

    expected = {f"{c.group} {c.name}" for c in COMMANDS}
    assert api.seen == expected


def test_select_on_a_single_body_keeps_the_shape(api: Any) -> None:
    picked = api("database", "get-release", "1", "--select", "id,title,artists.name")
    assert set(picked) == {"id", "title", "artists"}
    assert all(set(a) == {"name"} for a in picked["artists"])


def test_all_walks_every_page_and_select_applies_to_each_item(api: Any) -> None:
    items = api("collection", "get-collection-items-by-folder", ME, "0", "--all",
                "--select", "id,basic_information.title")  # fmt: skip
    assert len(items) == 60
    assert all(set(i) == {"id", "basic_information"} for i in items)


def test_json_is_the_default_when_piped_and_a_list_page_parses(api: Any) -> None:
    page = api("wantlist", "get-wantlist", ME, "--per-page", "3")
    assert page["pagination"]["per_page"] == 3 and len(page["wants"]) == 3


def test_a_select_path_that_matches_nothing_is_bad_input(api: Any) -> None:
    result = runner.invoke(app, ["api", "database", "get-release", "1", "--select", "titel"])
    assert result.exit_code == 2
    assert "--select: no field 'titel'" in result.output


def test_an_out_of_range_argument_names_the_parameter_and_sends_nothing(api: Any) -> None:
    before = _requests(api.sandbox)
    result = runner.invoke(app, ["api", "database", "get-release", "0"])
    assert result.exit_code == 2
    assert "release_id" in result.output
    assert _requests(api.sandbox) == before


def test_a_body_that_is_not_json_is_refused_naming_body(api: Any) -> None:
    result = runner.invoke(
        app, ["api", "collection", "create-collection-folder", ME, "--body", "-"], input="{no"
    )
    assert result.exit_code == 2
    assert "--body is not valid JSON" in result.output


def test_not_found_exits_4(api: Any) -> None:
    result = runner.invoke(app, ["api", "database", "get-release", "987654321"])
    assert result.exit_code == 4


def test_a_write_on_a_terminal_asks_and_a_no_sends_nothing(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import musicagent.cli.api_call as api_call

    monkeypatch.setattr(api_call, "on_terminal", lambda: True)
    before = _requests(api.sandbox)
    argv = ["api", "collection", "create-collection-folder", ME, "--name", "X"]
    result = runner.invoke(app, argv, input="n\n")
    assert result.exit_code == 1
    assert "changes your Discogs account" in result.output
    assert _requests(api.sandbox) == before
    assert runner.invoke(app, [*argv, "--yes"]).exit_code == 0


def test_help_comes_from_the_spec() -> None:
    result = runner.invoke(app, ["api", "database", "get-release", "--help"])
    assert result.exit_code == 0
    assert "Get a release" in result.output and "--curr-abbr" in result.output
    assert "USD" in result.output
