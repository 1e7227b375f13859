"""Adding an operation is one edit to the spec: the table row, the walker and the counts follow.

Tried as a maintainer would: a new paginated `GET /releases/{release_id}/images` (no x-iterator,
no example yet) added to a copy of the spec.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from endpoints_table import render
from facade import Resolver, _page_items, iterator_name


def _with_images_operation(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    spec["components"]["schemas"]["ReleaseImagesPage"] = {
        "type": "object",
        "required": ["pagination", "images"],
        "properties": {
            "pagination": {"$ref": "#/components/schemas/Pagination"},
            "images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}},
        },
    }
    spec["paths"]["/releases/{release_id}/images"] = {
        "get": {
            "operationId": "get_release_images",
            "tags": ["database"],
            "summary": "Get Release Images",
            "parameters": [
                {"$ref": "#/components/parameters/ReleaseId"},
                {"$ref": "#/components/parameters/Page"},
                {"$ref": "#/components/parameters/PerPage"},
            ],
            "responses": {
                "200": {
                    "description": "The images.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ReleaseImagesPage"},
                            "x-musicagent-no-example": "not in the docs yet",
                        }
                    },
                }
            },
        }
    }
    return spec


def test_a_new_operation_gets_its_table_row_from_the_spec(spec: dict[str, Any]) -> None:
    current = (ROOT / "spec" / "endpoints.tsv").read_text(encoding="utf-8")
    table = render(_with_images_operation(spec), current)
    rows = [line.split("\t") for line in table.splitlines()]
    header, new = rows[0], next(r for r in rows if r[1] == "get_release_images")
    row = dict(zip(header, new, strict=True))
    assert row["iterator"] == "iter_release_images"
    assert row["paginated"] == "yes"
    assert (row["method"], row["path_template"]) == ("GET", "/releases/{release_id}/images")
    assert row["query_params"] == "page,per_page"
    assert row["name"] == "Get Release Images"
    # Every existing row keeps its documentation columns.
    assert table.count("\n") == current.count("\n") + 1


def test_the_walker_follows_from_the_pagination_shape(spec: dict[str, Any]) -> None:
    changed = _with_images_operation(spec)
    raw = changed["paths"]["/releases/{release_id}/images"]["get"]
    items = _page_items(raw, "ReleaseImagesPage", Resolver(changed))
    assert items is not None
    assert items[0] == "images"
    assert iterator_name("get_release_images") == "iter_release_images"


def test_every_x_iterator_in_the_spec_is_the_derived_name(spec: dict[str, Any]) -> None:
    # x-iterator only renames; today every walker has the derived name, so it could be dropped.
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "x-iterator" in op:
                assert op["x-iterator"] == iterator_name(op["operationId"])


def test_a_non_paginated_operation_gets_no_walker(spec: dict[str, Any]) -> None:
    raw = spec["paths"]["/releases/{release_id}"]["get"]
    assert _page_items(raw, "Release", Resolver(spec)) is None
