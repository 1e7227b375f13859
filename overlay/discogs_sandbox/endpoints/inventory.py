"""Inventory export and upload operations (CSV in, CSV out)."""

from __future__ import annotations

import csv
import email.policy
import io
from datetime import UTC, datetime
from email import message_from_bytes
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from discogs_sandbox.endpoints.registry import Call, Reply, handles
from discogs_sandbox.people import MEDIA_CONDITIONS, SLEEVE_CONDITIONS, UserSeed
from discogs_sandbox.reading import Found
from discogs_sandbox.rules import ApiError, not_found, parse_number, unprocessable
from discogs_sandbox.seeding import API_ROOT
from discogs_sandbox.state import SandboxState

EXPORT_COLUMNS = (
    "listing_id",
    "artist",
    "title",
    "label",
    "catno",
    "format",
    "release_id",
    "status",
    "price",
    "listed",
    "comments",
    "media_condition",
    "sleeve_condition",
    "accept_offer",
    "external_id",
    "weight",
    "format_quantity",
    "location",
)
"""Columns of the sandbox's inventory export CSV (Discogs does not document its columns)."""


def _export_csv(call: Call, user: UserSeed) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for record in call.state.inventory(user):
        core = call.state.catalogue.release_core(record["release_id"])
        writer.writerow(
            (
                record["id"],
                core.artist_name,
                core.title,
                core.label_name,
                core.catno,
                core.format_text,
                record["release_id"],
                record["status"],
                f"{record['price']:.2f}",
                record["posted"],
                record["comments"] or "",
                record["condition"],
                record["sleeve_condition"] or "",
                "Y" if record["allow_offers"] else "N",
                record["external_id"] or "",
                record["weight"] if record["weight"] is not None else "",
                record["format_quantity"] if record["format_quantity"] is not None else "",
                record["location"] or "",
            )
        )
    return out.getvalue().encode("utf-8")


def job_status(call: Call, record: dict[str, Any]) -> str:
    """Where a job (export or upload) is: pending, processing, then its outcome.

    A job takes ``export_delay`` seconds: pending for the first third, processing for the
    rest. An upload's rows are applied when it finishes (:func:`settle_uploads`).
    """
    elapsed = call.state.clock() - record["started"]
    if elapsed >= record["duration"]:
        return str(record.get("outcome", "success"))
    return "pending" if elapsed < record["duration"] / 3 else "processing"


def _ready(call: Call, record: dict[str, Any]) -> bool:
    return job_status(call, record) not in ("pending", "processing")


def own_exports(call: Call, found: Found) -> list[dict[str, Any]]:
    """The caller's exports, newest first."""
    return call.state.user_exports(call.current_user())


def own_uploads(call: Call, found: Found) -> list[dict[str, Any]]:
    """The caller's uploads, newest first."""
    return call.state.user_uploads(call.current_user())


def export_body(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    """An export as ``GET /inventory/export/{id}`` shows it."""
    ready = _ready(call, record)
    url = f"{API_ROOT}/inventory/export/{record['id']}"
    return {
        "id": record["id"],
        "status": job_status(call, record),
        "created_ts": record["created_ts"],
        "finished_ts": record["finished_ts"] if ready else None,
        "filename": record["filename"] if ready else None,
        "url": url,
        "download_url": f"{url}/download" if ready else None,
    }


@handles("export_inventory")
def export_inventory(call: Call) -> Reply:
    """POST /inventory/export: 200 with the new export's URL in ``Location``."""
    user = call.current_user()
    for existing in call.state.user_exports(user):
        if not _ready(call, existing):
            raise ApiError(409, "An export of your inventory is already in progress.")
    export_id = call.state.next_id()
    started = call.state.clock()
    now = datetime.fromtimestamp(started, tz=UTC)
    done = datetime.fromtimestamp(started + call.config.export_delay, tz=UTC)
    record = {
        "id": export_id,
        "owner": user.username.lower(),
        "created_ts": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "finished_ts": done.strftime("%Y-%m-%dT%H:%M:%S"),
        "filename": f"{user.username}-inventory-{now:%Y%m%d-%H%M}.csv",
        "csv": _export_csv(call, user),
        "started": started,
        "duration": call.config.export_delay,
    }
    call.state.exports[export_id] = record
    return Reply(200, None, {"Location": f"{call.base_url}/inventory/export/{export_id}"})


def _owned(call: Call, table: dict[int, dict[str, Any]]) -> dict[str, Any]:
    user = call.current_user()
    record = table.get(call.int_param("id"))
    if record is None or record["owner"] != user.username.lower():
        raise not_found()
    return record


def _last_modified(call: Call, stamp: str) -> Reply | None:
    """304 when the client's copy (``If-Modified-Since``) is still current."""
    modified = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    since = call.headers.get("if-modified-since")
    if since:
        try:
            if parsedate_to_datetime(since) >= modified:
                return Reply(304, None, {"Last-Modified": format_datetime(modified, usegmt=True)})
        except (TypeError, ValueError):
            pass
    return None


@handles("get_inventory_export")
def get_inventory_export(call: Call) -> Reply:
    """GET /inventory/export/{id} (honours If-Modified-Since)."""
    record = _owned(call, call.state.exports)
    if _ready(call, record):
        cached = _last_modified(call, record["finished_ts"])
        if cached is not None:
            return cached
    reply = Reply(200, export_body(call, record))
    stamp = datetime.fromisoformat(record["created_ts"]).replace(tzinfo=UTC)
    reply.headers["Last-Modified"] = format_datetime(stamp, usegmt=True)
    return reply


@handles("download_inventory_export")
def download_inventory_export(call: Call) -> Reply:
    """GET /inventory/export/{id}/download: the CSV file."""
    record = _owned(call, call.state.exports)
    if not _ready(call, record):
        raise ApiError(404, "The export is not finished yet.")
    headers = {"Content-Disposition": f"attachment; filename={record['filename']}"}
    return Reply(200, record["csv"], headers, "text/csv; charset=utf-8")


def _upload_file(call: Call) -> tuple[str, str]:
    """(file name, text) of the multipart field ``upload``; 415/422 when missing."""
    content_type = call.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, "Send the CSV file as multipart/form-data in a field named upload.")
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + call.body,
        policy=email.policy.HTTP,
    )
    if not message.is_multipart():
        raise ApiError(415, "The multipart body could not be read.")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "upload":
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = part.get_filename() or "upload.csv"
            try:
                return name, data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise unprocessable("The CSV file must be UTF-8 text.") from None
    raise unprocessable("Missing upload: send the CSV file in a field named upload.")


def _rows(text: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise unprocessable(f"The CSV header lacks required column(s): {', '.join(missing)}.")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _listing_values(row: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if row.get("price"):
        values["price"] = round(parse_number(row["price"], "price", minimum=0), 2)
    if row.get("media_condition"):
        if row["media_condition"] not in MEDIA_CONDITIONS:
            raise unprocessable(f"Invalid media_condition {row['media_condition']!r}.")
        values["condition"] = row["media_condition"]
    if row.get("sleeve_condition"):
        if row["sleeve_condition"] not in SLEEVE_CONDITIONS:
            raise unprocessable(f"Invalid sleeve_condition {row['sleeve_condition']!r}.")
        values["sleeve_condition"] = row["sleeve_condition"]
    if row.get("accept_offer"):
        values["allow_offers"] = row["accept_offer"].upper() == "Y"
    for name in ("comments", "location", "external_id"):
        if row.get(name):
            values[name] = row[name]
    for name in ("weight", "format_quantity"):
        if row.get(name):
            values[name] = parse_number(row[name], name, minimum=0)
    return values


def _apply_add(state: SandboxState, user: UserSeed, row: dict[str, str]) -> None:
    release_id = int(parse_number(row["release_id"], "release_id", minimum=1))
    if not state.catalogue.release_exists(release_id):
        raise unprocessable(f"Invalid release_id {release_id}: no such release.")
    values = _listing_values(row)
    if "price" not in values or "condition" not in values:
        raise unprocessable("price and media_condition are required.")
    state.create_listing(user, {"release_id": release_id, **values})


def _apply_change(state: SandboxState, user: UserSeed, row: dict[str, str]) -> None:
    release_id = int(parse_number(row["release_id"], "release_id", minimum=1))
    values = _listing_values(row)
    if not values:
        raise unprocessable("Each row needs release_id and at least one field to change.")
    # Discogs does not say how rows find listings; the sandbox matches on release_id.
    matched = [r for r in state.inventory(user) if r["release_id"] == release_id]
    if not matched:
        raise unprocessable(f"No listing of release_id {release_id} in your inventory.")
    for record in matched:
        record.update(values)


def _apply_delete(state: SandboxState, user: UserSeed, row: dict[str, str]) -> None:
    listing_id = int(parse_number(row["listing_id"], "listing_id", minimum=1))
    record = state.listings.get(listing_id)
    if record is None or record["owner"] != user.username.lower():
        raise unprocessable(f"Listing {listing_id} is not in your inventory.")
    del state.listings[listing_id]


_APPLY = {"add": _apply_add, "change": _apply_change, "delete": _apply_delete}
_REQUIRED = {"add": ("release_id", "price", "media_condition"), "change": ("release_id",)}


def settle_uploads(state: SandboxState) -> None:
    """Finish every upload whose time is up: apply its rows, one result line per row.

    An upload whose rows all fail ends as ``failure``; otherwise ``success``, with the rows
    that failed named in ``results``. Called before every request, under the state lock.
    """
    now = state.clock()
    for record in state.uploads.values():
        if "rows" not in record or now - record["started"] < record["duration"]:
            continue
        rows = record.pop("rows")
        user = state.user(record["owner"])
        assert user is not None
        errors = []
        for number, row in enumerate(rows, start=1):
            try:
                _APPLY[record["type"]](state, user, row)
            except ApiError as exc:
                errors.append(f"Row {number}: {exc.message}")
        done = len(rows) - len(errors)
        lines = [f"CSV file contains {len(rows)} records.", f"Processed {done} records."]
        record["results"] = "<p>".join(lines + errors)
        record["outcome"] = "failure" if rows and not done else "success"


def _upload(call: Call, kind: str) -> Reply:
    user = call.current_user()
    filename, text = _upload_file(call)
    rows = _rows(text, _REQUIRED.get(kind, ("listing_id",)))
    upload_id = call.state.next_id()
    started = call.state.clock()
    stamp = datetime.fromtimestamp(started, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    done = datetime.fromtimestamp(started + call.config.export_delay, tz=UTC)
    call.state.uploads[upload_id] = {
        "id": upload_id,
        "owner": user.username.lower(),
        "type": kind,
        "filename": filename,
        "results": f"CSV file contains {len(rows)} records.",
        "created_ts": stamp,
        "finished_ts": done.strftime("%Y-%m-%dT%H:%M:%S"),
        "started": started,
        "duration": call.config.export_delay,
        "rows": rows,
    }
    settle_uploads(call.state)
    return Reply(200, None, {"Location": f"{call.base_url}/inventory/upload/{upload_id}"})


@handles("upload_inventory_add")
def upload_inventory_add(call: Call) -> Reply:
    """POST /inventory/upload/add: list every valid row For Sale when the job finishes."""
    return _upload(call, "add")


@handles("upload_inventory_change")
def upload_inventory_change(call: Call) -> Reply:
    """POST /inventory/upload/change: update the caller's listings of each row's release."""
    return _upload(call, "change")


@handles("upload_inventory_delete")
def upload_inventory_delete(call: Call) -> Reply:
    """POST /inventory/upload/delete: delete the listings named by ``listing_id``."""
    return _upload(call, "delete")


def upload_body(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    """An upload as ``GET /inventory/upload/{id}`` shows it."""
    body = {k: record[k] for k in ("id", "type", "filename", "results", "created_ts")}
    body["status"] = job_status(call, record)
    body["finished_ts"] = record["finished_ts"] if _ready(call, record) else None
    return body


@handles("get_inventory_upload")
def get_inventory_upload(call: Call) -> Reply:
    """GET /inventory/upload/{id} (honours If-Modified-Since)."""
    record = _owned(call, call.state.uploads)
    if _ready(call, record):
        cached = _last_modified(call, record["finished_ts"])
        if cached is not None:
            return cached
    reply = Reply(200, upload_body(call, record))
    moment = record["finished_ts"] if _ready(call, record) else record["created_ts"]
    stamp = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    reply.headers["Last-Modified"] = format_datetime(stamp, usegmt=True)
    return reply
