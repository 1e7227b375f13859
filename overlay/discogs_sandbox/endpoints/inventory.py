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
from discogs_sandbox.rules import ApiError, not_found, parse_number, unprocessable
from discogs_sandbox.seeding import API_ROOT

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


def _ready(call: Call, record: dict[str, Any]) -> bool:
    return bool(call.state.clock() >= record["ready_at"])


def export_body(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    """An export as ``GET /inventory/export/{id}`` shows it."""
    ready = _ready(call, record)
    url = f"{API_ROOT}/inventory/export/{record['id']}"
    return {
        "id": record["id"],
        "status": "success" if ready else "in progress",
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
    now = datetime.fromtimestamp(call.state.clock(), tz=UTC)
    record = {
        "id": export_id,
        "owner": user.username.lower(),
        "created_ts": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "finished_ts": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "filename": f"{user.username}-inventory-{now:%Y%m%d-%H%M}.csv",
        "csv": _export_csv(call, user),
        "ready_at": call.state.clock() + call.config.export_delay,
    }
    call.state.exports[export_id] = record
    return Reply(200, None, {"Location": f"{call.base_url}/inventory/export/{export_id}"})


@handles("list_inventory_exports")
def list_inventory_exports(call: Call) -> Reply:
    """GET /inventory/export: the caller's exports, newest first."""
    records = call.state.user_exports(call.current_user())
    return call.paged(
        "items", len(records), lambda a, b: [export_body(call, r) for r in records[a:b]]
    )


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


def _record_upload(call: Call, user: UserSeed, kind: str, filename: str, count: int) -> Reply:
    upload_id = call.state.next_id()
    now = datetime.fromtimestamp(call.state.clock(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    call.state.uploads[upload_id] = {
        "id": upload_id,
        "owner": user.username.lower(),
        "type": kind,
        "status": "success",
        "filename": filename,
        "results": f"CSV file contains {count} records.<p>Processed {count} records.",
        "created_ts": now,
        "finished_ts": now,
    }
    return Reply(200, None, {"Location": f"{call.base_url}/inventory/upload/{upload_id}"})


@handles("upload_inventory_add")
def upload_inventory_add(call: Call) -> Reply:
    """POST /inventory/upload/add: list every row For Sale."""
    user = call.current_user()
    filename, text = _upload_file(call)
    rows = _rows(text, ("release_id", "price", "media_condition"))
    prepared = []
    for row in rows:
        release_id = int(parse_number(row["release_id"], "release_id", minimum=1))
        if not call.state.catalogue.release_exists(release_id):
            raise unprocessable(f"Invalid release_id {release_id}: no such release.")
        prepared.append({"release_id": release_id, **_listing_values(row)})
    for values in prepared:
        call.state.create_listing(user, values)
    return _record_upload(call, user, "add", filename, len(rows))


@handles("upload_inventory_change")
def upload_inventory_change(call: Call) -> Reply:
    """POST /inventory/upload/change: update the caller's listings of each row's release."""
    user = call.current_user()
    filename, text = _upload_file(call)
    rows = _rows(text, ("release_id",))
    for row in rows:
        release_id = int(parse_number(row["release_id"], "release_id", minimum=1))
        values = _listing_values(row)
        if not values:
            raise unprocessable("Each row needs release_id and at least one field to change.")
        # Discogs does not say how rows find listings; the sandbox matches on release_id.
        for record in call.state.inventory(user):
            if record["release_id"] == release_id:
                record.update(values)
    return _record_upload(call, user, "change", filename, len(rows))


@handles("upload_inventory_delete")
def upload_inventory_delete(call: Call) -> Reply:
    """POST /inventory/upload/delete: delete the listings named by ``listing_id``."""
    user = call.current_user()
    filename, text = _upload_file(call)
    rows = _rows(text, ("listing_id",))
    for row in rows:
        listing_id = int(parse_number(row["listing_id"], "listing_id", minimum=1))
        record = call.state.listings.get(listing_id)
        if record is not None and record["owner"] == user.username.lower():
            del call.state.listings[listing_id]
    return _record_upload(call, user, "delete", filename, len(rows))


def upload_body(record: dict[str, Any]) -> dict[str, Any]:
    """An upload as ``GET /inventory/upload/{id}`` shows it."""
    return {
        k: record[k]
        for k in ("id", "status", "type", "filename", "results", "created_ts", "finished_ts")
    }


@handles("list_inventory_uploads")
def list_inventory_uploads(call: Call) -> Reply:
    """GET /inventory/upload: the caller's uploads, newest first."""
    records = call.state.user_uploads(call.current_user())
    return call.paged("items", len(records), lambda a, b: [upload_body(r) for r in records[a:b]])


@handles("get_inventory_upload")
def get_inventory_upload(call: Call) -> Reply:
    """GET /inventory/upload/{id} (honours If-Modified-Since)."""
    record = _owned(call, call.state.uploads)
    cached = _last_modified(call, record["finished_ts"])
    if cached is not None:
        return cached
    reply = Reply(200, upload_body(record))
    stamp = datetime.fromisoformat(record["finished_ts"]).replace(tzinfo=UTC)
    reply.headers["Last-Modified"] = format_datetime(stamp, usegmt=True)
    return reply
