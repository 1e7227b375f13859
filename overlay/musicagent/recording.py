"""Record the responses a client receives, scrubbed, for `musicagent validate-response`.

`Recorder(directory).record(...)` writes each final response as one file, plus a row of
`MANIFEST.tsv` (columns `file`, `method`, `path`, `status`, `operation_id`, `url`,
`content_type`) that `musicagent validate-response --manifest DIR/MANIFEST.tsv` reads as it is.
Bodies that are not JSON (the OAuth form answers, the inventory CSV) are written too, listed in
`OTHER.tsv` with the same columns, since they have no JSON schema to check.

Nothing private reaches the disk: credentials (`Authorization`, `token=`, `oauth_token_secret`,
signatures, any secret registered with `musicagent.masking`), e-mail addresses and postal
addresses are replaced before anything is written. Safe to share from several threads.
"""

from __future__ import annotations

import csv
import json
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from musicagent.masking import MASK, is_secret_name, mask_headers, mask_text, mask_url

__all__ = ["MANIFEST", "OTHER", "Recorder", "scrub_body"]

MANIFEST = "MANIFEST.tsv"
"""Rows of the JSON (or empty) bodies recorded: what `validate-response --manifest` reads."""
OTHER = "OTHER.tsv"
"""Rows of the bodies that are not JSON."""

COLUMNS = ("file", "method", "path", "status", "operation_id", "url", "content_type")

EMAIL_MASK = "scrubbed@example.invalid"
ADDRESS_MASK = "(address scrubbed)"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Fields that hold a postal address in Discogs bodies (orders, profiles, upload results).
_ADDRESS_NAMES = frozenset(
    {"shipping_address", "billing_address", "address", "buyer_address", "seller_address"}
)
_EMAIL_NAMES = frozenset({"email", "buyer_email", "seller_email", "paypal_email"})


def _scrub_text(text: str) -> str:
    return _EMAIL.sub(EMAIL_MASK, mask_text(text))


def scrub_body(value: Any, name: str = "") -> Any:
    """A decoded JSON body with credentials, e-mail addresses and postal addresses replaced.

    The shape is kept (a string stays a string), so the scrubbed body validates as the original.
    """
    if isinstance(value, dict):
        return {key: scrub_body(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_body(item, name) for item in value]
    if isinstance(value, str) and value:
        lowered = name.lower()
        if lowered in _EMAIL_NAMES:
            return EMAIL_MASK
        if lowered in _ADDRESS_NAMES:
            return ADDRESS_MASK
        if is_secret_name(lowered):
            return MASK
        return _scrub_text(value)
    return value


def _scrub_form(text: str) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs:
        return _scrub_text(text)
    return urlencode([(k, MASK if is_secret_name(k) else _scrub_text(v)) for k, v in pairs])


def _is_json(content_type: str, body: bytes) -> bool:
    # An empty body (204) belongs in the manifest too: validate-response checks "no body".
    if "json" in content_type or not body.strip():
        return True
    return not content_type and body.lstrip()[:1] in (b"{", b"[")


class Recorder:
    """Writes each response it is given into `directory`, scrubbed, with a manifest row."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = sum(
            max(0, len((self.directory / name).read_text(encoding="utf-8").splitlines()) - 1)
            for name in (MANIFEST, OTHER)
            if (self.directory / name).is_file()
        )

    def __repr__(self) -> str:
        return f"Recorder({str(self.directory)!r})"

    def record(
        self,
        operation_id: str | None,
        method: str,
        url: httpx.URL,
        status: int,
        headers: httpx.Headers,
        body: bytes,
    ) -> None:
        """Write one final response: its scrubbed body, its scrubbed headers, a manifest row."""
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        as_json = _is_json(content_type, body)
        text, extension = self._scrubbed(body, content_type, as_json)
        with self._lock:
            self._count += 1
            stem = f"{self._count:05d}-{operation_id or 'unmatched'}-{status}"
            (self.directory / f"{stem}{extension}").write_text(text, encoding="utf-8")
            (self.directory / f"{stem}.headers.json").write_text(
                json.dumps(mask_headers(headers), indent=1, sort_keys=True) + "\n",
                encoding="utf-8",
            )
            row = {
                "file": f"{stem}{extension}",
                "method": method.upper(),
                "path": url.path,
                "status": str(status),
                "operation_id": operation_id or "",
                "url": _scrub_text(mask_url(url)),
                "content_type": content_type,
            }
            self._append(MANIFEST if as_json else OTHER, row)

    def _scrubbed(self, body: bytes, content_type: str, as_json: bool) -> tuple[str, str]:
        text = body.decode("utf-8", errors="replace")
        if as_json:
            if not text.strip():
                return "", ".json"
            try:
                decoded = json.loads(text)
            except ValueError:
                return _scrub_text(text), ".txt"
            return json.dumps(scrub_body(decoded), indent=1, ensure_ascii=False) + "\n", ".json"
        if content_type == "application/x-www-form-urlencoded" or (
            "=" in text and "\n" not in text.strip()
        ):
            return _scrub_form(text), ".txt"
        return _scrub_text(text), ".csv" if "csv" in content_type else ".txt"

    def _append(self, name: str, row: dict[str, str]) -> None:
        path = self.directory / name
        new = not path.exists()
        with path.open("a", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerow(row)
