"""`Recorder`: every response written, scrubbed of credentials, e-mails and addresses, with a
manifest `musicagent validate-response --manifest` reads as it is."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from musicagent.cli import app
from musicagent.masking import forget_secret, register_secret
from musicagent.recording import MANIFEST, OTHER, Recorder, scrub_body
from tests.conftest import EXAMPLES, read_tsv

BASE = "https://api.discogs.com"
TOKEN = "recorded-token-0123456789"


def _headers(**extra: str) -> httpx.Headers:
    return httpx.Headers({"content-type": "application/json", **extra})


def _record_example(recorder: Recorder, op: str, path: str, name: str, status: int = 200) -> None:
    body = (EXAMPLES / name).read_bytes()
    recorder.record(op, "GET", httpx.URL(f"{BASE}{path}"), status, _headers(), body)


def test_recorded_responses_validate_through_the_manifest(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    _record_example(recorder, "get_release", "/releases/249504", "releases_get_200.json")
    _record_example(recorder, "get_release", "/releases/0", "releases_get_404.json", 404)
    _record_example(recorder, "get_artist", "/artists/108713", "artists_get_200.json")
    recorder.record(
        "delete_listing",
        "DELETE",
        httpx.URL(f"{BASE}/marketplace/listings/7"),
        204,
        httpx.Headers(),
        b"",
    )
    rows = read_tsv(tmp_path / MANIFEST)
    assert [(r["operation_id"], r["status"]) for r in rows] == [
        ("get_release", "200"),
        ("get_release", "404"),
        ("get_artist", "200"),
        ("delete_listing", "204"),
    ]
    result = CliRunner().invoke(app, ["validate-response", "--manifest", str(tmp_path / MANIFEST)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "4 valid, 0 invalid"


def test_a_recorded_body_that_drifted_is_reported(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    body = json.loads((EXAMPLES / "releases_get_200.json").read_text(encoding="utf-8"))
    body["tracklist"] = "A1"
    body["new_field"] = {"x": 1}
    recorder.record(
        "get_release",
        "GET",
        httpx.URL(f"{BASE}/releases/1"),
        200,
        _headers(),
        json.dumps(body).encode(),
    )
    result = CliRunner().invoke(
        app, ["validate-response", "--manifest", str(tmp_path / MANIFEST), "--report-unknown"]
    )
    assert result.exit_code == 1
    assert "invalid 00001-get_release-200.json: /tracklist:" in result.output
    assert "unknown get_release /new_field (1 body)" in result.output


def test_credentials_emails_and_addresses_never_reach_the_disk(tmp_path: Path) -> None:
    register_secret(TOKEN)
    try:
        recorder = Recorder(tmp_path)
        order = {
            "id": "1-1",
            "shipping_address": "Jane Doe\n1 Main Street\nSpringfield",
            "buyer": {"username": "jane", "email": "jane@example.com"},
            "message": f"mail me at jane@example.com, token={TOKEN}",
            "oauth_token_secret": "very-secret-value-1",
        }
        recorder.record(
            "get_order",
            "GET",
            httpx.URL(f"{BASE}/marketplace/orders/1-1?token={TOKEN}"),
            200,
            _headers(
                **{"set-cookie": f"session={TOKEN}", "authorization": f"Discogs token={TOKEN}"}
            ),
            json.dumps(order).encode(),
        )
        recorder.record(
            None,
            "POST",
            httpx.URL(f"{BASE}/oauth/access_token"),
            200,
            httpx.Headers({"content-type": "application/x-www-form-urlencoded"}),
            b"oauth_token=abcdefgh12345678&oauth_token_secret=zyxwvuts87654321",
        )
    finally:
        forget_secret(TOKEN)
    written = "".join(p.read_text(encoding="utf-8") for p in sorted(tmp_path.iterdir()))
    for leaked in (
        TOKEN,
        "jane@example.com",
        "1 Main Street",
        "very-secret-value-1",
        "abcdefgh12345678",
        "zyxwvuts87654321",
    ):
        assert leaked not in written
    body = json.loads((tmp_path / "00001-get_order-200.json").read_text(encoding="utf-8"))
    assert body["buyer"]["email"] == "scrubbed@example.invalid"
    assert body["id"] == "1-1"  # the shape is kept
    assert read_tsv(tmp_path / OTHER)[0]["file"] == "00002-unmatched-200.txt"


def test_scrubbing_keeps_types() -> None:
    assert scrub_body({"email": "", "n": 1, "ok": True, "l": ["a@b.co"]}) == {
        "email": "",
        "n": 1,
        "ok": True,
        "l": ["scrubbed@example.invalid"],
    }


def test_recording_from_many_threads_loses_and_repeats_nothing(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    body = (EXAMPLES / "releases_get_200.json").read_bytes()

    def work(n: int) -> None:
        for i in range(10):
            recorder.record(
                "get_release",
                "GET",
                httpx.URL(f"{BASE}/releases/{n * 100 + i}"),
                200,
                _headers(),
                body,
            )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = read_tsv(tmp_path / MANIFEST)
    assert len(rows) == 80
    assert len({r["file"] for r in rows}) == 80
    assert len({r["path"] for r in rows}) == 80
    assert all((tmp_path / r["file"]).is_file() for r in rows)


def test_a_second_recorder_on_the_same_directory_appends(tmp_path: Path) -> None:
    _record_example(Recorder(tmp_path), "get_release", "/releases/1", "releases_get_200.json")
    _record_example(Recorder(tmp_path), "get_release", "/releases/2", "releases_get_200.json")
    assert [r["file"] for r in read_tsv(tmp_path / MANIFEST)] == [
        "00001-get_release-200.json",
        "00002-get_release-200.json",
    ]


def test_the_record_dir_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from musicagent import DiscogsSettings

    monkeypatch.setenv("DISCOGS_RECORD_DIR", str(tmp_path / "rec"))
    assert DiscogsSettings(_env_file=None).record_dir == tmp_path / "rec"
    monkeypatch.delenv("DISCOGS_RECORD_DIR")
    assert DiscogsSettings(_env_file=None).record_dir is None
