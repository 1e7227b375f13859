"""spec/endpoints.tsv, the operation table, derived from the spec by `make generate`.

One row per operation, in spec order. The columns the spec decides (tag, operation id, walker,
method, path, parameters, pagination) are always rewritten from it; the columns that record what
the Discogs documentation says (group, name, auth, response_status, example_response_in_docs,
notes) are kept from the table as it was, and a new operation's row starts with them derived from
the spec (summary, security, documented statuses, attached examples) for a maintainer to check.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from facade import METHODS, Resolver, _page_items, _schema_name, iterator_name

COLUMNS = (
    "tag",
    "operation_id",
    "iterator",
    "group",
    "name",
    "method",
    "path_template",
    "path_params",
    "query_params",
    "body_params",
    "auth",
    "paginated",
    "response_status",
    "example_response_in_docs",
    "notes",
)
DOCS_COLUMNS = ("group", "name", "auth", "response_status", "example_response_in_docs", "notes")


def _success_model(raw: dict[str, Any], r: Resolver) -> str | None:
    for status, response in raw["responses"].items():
        if status.startswith("2"):
            content = r.deref(response).get("content") or {}
            if "application/json" in content:
                return _schema_name(content["application/json"].get("schema"))
    return None


def _has_example(raw: dict[str, Any], r: Resolver) -> bool:
    for status, response in raw["responses"].items():
        if status.startswith("2"):
            for media in (r.deref(response).get("content") or {}).values():
                if "examples" in media or "example" in media:
                    return True
    return False


def _auth(raw: dict[str, Any], spec: dict[str, Any]) -> str:
    security = raw.get("security", spec.get("security", []))
    if not security:
        return "none"
    return "optional" if {} in security else "required"


def derived_row(
    raw: dict[str, Any], method: str, path: str, spec: dict[str, Any]
) -> dict[str, str]:
    """The row of one operation as the spec alone describes it."""
    r = Resolver(spec)
    params = [r.deref(p) for p in raw.get("parameters", [])]
    body_fields: list[str] = []
    body = raw.get("requestBody")
    if body:
        body = r.deref(body)
        _, content = next(iter(body["content"].items()))
        view = r.object_view(content["schema"])
        body_fields = [f"{n}*" if n in view["required"] else n for n in view["properties"]]
    page = _page_items(raw, _success_model(raw, r), r)
    op_id = raw["operationId"]
    statuses = [s for s in raw["responses"] if s.isdigit()]
    return {
        "tag": raw["tags"][0],
        "operation_id": op_id,
        "iterator": (raw.get("x-iterator") or iterator_name(op_id)) if page else "",
        "group": raw["tags"][0],
        "name": raw.get("summary", op_id),
        "method": method.upper(),
        "path_template": path,
        "path_params": ",".join(p["name"] for p in params if p["in"] == "path"),
        "query_params": ",".join(p["name"] for p in params if p["in"] == "query"),
        "body_params": ",".join(body_fields),
        "auth": _auth(raw, spec),
        "paginated": "yes" if page else "no",
        "response_status": ",".join(statuses),
        "example_response_in_docs": "yes" if _has_example(raw, r) else "no",
        "notes": "",
    }


def render(spec: dict[str, Any], current: str = "") -> str:
    """The table for `spec`, keeping the documentation columns of the rows in `current`."""
    kept = {
        row["operation_id"]: row for row in csv.DictReader(io.StringIO(current), delimiter="\t")
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            row = derived_row(item[method], method, path, spec)
            old = kept.get(row["operation_id"])
            if old is not None:
                row.update({column: old.get(column) or "" for column in DOCS_COLUMNS})
            writer.writerow(row)
    return out.getvalue()
