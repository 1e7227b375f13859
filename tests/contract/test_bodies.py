"""Every documentation example and every real capture validates against its operation's
response schema and parses into the Pydantic model generated for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from musicagent.validation import SpecValidator, parse_problems
from tests.conftest import CAPTURES, EXAMPLES, read_tsv


def _cases(base: Path, manifest: str) -> list[Any]:
    return [
        pytest.param(
            base / r["file"], r["method"], r["path_template"], int(r["status"]), id=r["file"]
        )
        for r in read_tsv(base / manifest)
        if not r["file"].startswith("(")
    ]


@pytest.fixture(scope="module")
def validator(spec: dict[str, Any]) -> SpecValidator:
    return SpecValidator(spec)


def _check(validator: SpecValidator, file: Path, method: str, path: str, status: int) -> None:
    body = json.loads(file.read_text(encoding="utf-8"))
    op, problems = validator.validate_response(method, path, status, body)
    assert [str(p) for p in problems] == []
    assert parse_problems(validator, op, status, body) == []


@pytest.mark.parametrize(("file", "method", "path", "status"), _cases(EXAMPLES, "INDEX.tsv"))
def test_documentation_example_validates_and_parses(
    validator: SpecValidator, file: Path, method: str, path: str, status: int
) -> None:
    _check(validator, file, method, path, status)


@pytest.mark.parametrize(("file", "method", "path", "status"), _cases(CAPTURES, "MANIFEST.tsv"))
def test_real_capture_validates_and_parses(
    validator: SpecValidator, file: Path, method: str, path: str, status: int
) -> None:
    _check(validator, file, method, path, status)


def test_success_bodies_name_a_generated_model(validator: SpecValidator) -> None:
    from musicagent.validation import model_for

    for op in validator.operations():
        for status in op.operation["responses"]:
            if status.startswith("2"):
                name = validator.response_schema_name(op, int(status))
                if name is not None:
                    assert model_for(name) is not None, f"{op.operation_id}: no model {name}"
