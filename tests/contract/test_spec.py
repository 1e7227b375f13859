"""The spec itself: valid OpenAPI, one operation per endpoints.tsv row, examples attached."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from tests.conftest import EXAMPLES, ROOT, read_tsv

ENDPOINTS = read_tsv(ROOT / "spec" / "endpoints.tsv")
METHODS = ("get", "put", "post", "delete", "patch")


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    ops = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                ops[item[method]["operationId"]] = (method.upper(), path, item[method])
    return ops


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def test_spec_declares_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")


def test_every_endpoint_row_is_an_operation_with_its_tag_method_and_path(
    spec: dict[str, Any],
) -> None:
    ops = _operations(spec)
    for row in ENDPOINTS:
        assert row["operation_id"] in ops, f"{row['operation_id']} missing from the spec"
        method, path, op = ops[row["operation_id"]]
        assert (method, path) == (row["method"], row["path_template"]), row["operation_id"]
        assert op["tags"] == [row["tag"]], row["operation_id"]


def test_spec_has_no_operation_outside_endpoints_table(spec: dict[str, Any]) -> None:
    missing = set(_operations(spec)) - {row["operation_id"] for row in ENDPOINTS}
    assert not missing, f"{sorted(missing)} not in spec/endpoints.tsv: run `make generate`"
    assert set(_operations(spec)) == {row["operation_id"] for row in ENDPOINTS}


def test_endpoints_table_is_derived_from_the_spec(spec: dict[str, Any]) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from endpoints_table import render

    committed = (ROOT / "spec" / "endpoints.tsv").read_text(encoding="utf-8")
    assert committed == render(spec, committed), (
        "spec/endpoints.tsv is behind spec/discogs.yaml: run `make generate`, then check the "
        "documentation columns (group, name, auth, response_status, example_response_in_docs, "
        "notes) of any new row"
    )


def test_every_json_success_body_has_an_example_or_says_why_not(spec: dict[str, Any]) -> None:
    # The sandbox answers and the contract tests check with these examples; an operation
    # without one names the choice (`x-musicagent-no-example: <reason>`) instead of failing
    # later with a bare KeyError.
    missing = []
    for op_id, (_, _, op) in _operations(spec).items():
        for status, response in op["responses"].items():
            content = (response.get("content") or {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            if "examples" not in content and not content.get("x-musicagent-no-example"):
                missing.append(f"{op_id} {status}")
    assert missing == [], (
        f"{missing}: attach a body from spec/examples/ (examples: docs: externalValue: ...) and "
        "list it in spec/examples/INDEX.tsv, or give the reason there is none as "
        "`x-musicagent-no-example: <reason>` on the media type"
    )


def test_paginated_operations_take_page_and_per_page_within_bounds(
    spec: dict[str, Any],
) -> None:
    ops = _operations(spec)
    params = spec["components"]["parameters"]
    assert params["PerPage"]["schema"]["maximum"] == 100
    assert params["PerPage"]["schema"]["minimum"] == 1
    assert params["Page"]["schema"]["minimum"] == 1
    for row in ENDPOINTS:
        if row["paginated"] != "yes":
            continue
        refs = {p.get("$ref") for p in ops[row["operation_id"]][2].get("parameters", [])}
        assert "#/components/parameters/Page" in refs, row["operation_id"]
        assert "#/components/parameters/PerPage" in refs, row["operation_id"]


def test_no_query_parameter_has_a_default(spec: dict[str, Any]) -> None:
    # A default makes the generated client always send the parameter.
    for _, _, op in _operations(spec).values():
        for param in op.get("parameters", []):
            assert "default" not in param.get("schema", {}), op["operationId"]
    for name, param in spec["components"]["parameters"].items():
        assert "default" not in param.get("schema", {}), name


def test_every_response_body_schema_is_a_named_component(spec: dict[str, Any]) -> None:
    for op_id, (_, _, op) in _operations(spec).items():
        for status, response in op["responses"].items():
            for media, content in (response.get("content") or {}).items():
                schema = content.get("schema", {})
                if media == "application/json":
                    assert "$ref" in schema, f"{op_id} {status}: inline JSON body schema"


def test_every_documentation_example_is_attached_to_its_operation(spec: dict[str, Any]) -> None:
    attached: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("externalValue")
            if isinstance(value, str):
                attached.add(value.removeprefix("examples/"))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(spec["paths"])
    files = {r["file"] for r in read_tsv(EXAMPLES / "INDEX.tsv") if not r["file"].startswith("(")}
    assert files - attached == set()
    assert all((EXAMPLES / name).is_file() for name in attached)


def test_example_files_are_json(spec: dict[str, Any]) -> None:
    for path in EXAMPLES.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_every_operation_has_a_generated_request_builder() -> None:
    import importlib

    for row in ENDPOINTS:
        module = importlib.import_module(f"discogs_api.api.{row['tag']}.{row['operation_id']}")
        assert callable(module.request_kwargs), row["operation_id"]


def test_bundled_spec_is_the_yaml_spec(spec: dict[str, Any]) -> None:
    from discogs_spec import load_spec

    bundled = dict(load_spec())
    bundled.pop("x-generated")
    assert bundled == spec
