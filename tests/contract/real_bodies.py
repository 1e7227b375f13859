"""The real bodies the project has: every capture and documentation example, with its operation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from discogs_facade import OPERATIONS, Operation

from musicagent.responses import read_response
from musicagent.validation import SpecValidator, bundled_validator
from tests.conftest import CAPTURES, EXAMPLES, read_tsv


@dataclass(frozen=True)
class RealBody:
    """One real success body and the operation that answered it."""

    name: str
    operation_id: str
    method: str
    path: str
    status: int
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@cache
def success_bodies() -> tuple[RealBody, ...]:
    """Every real JSON success body of an operation that returns a model."""
    validator = bundled_validator()
    found = []
    for base, manifest in ((CAPTURES, "MANIFEST.tsv"), (EXAMPLES, "INDEX.tsv")):
        for row in read_tsv(base / manifest):
            if row["file"].startswith("(") or not row["status"].startswith("2"):
                continue
            op = validator.match(row["method"], row["path_template"])
            if OPERATIONS[op.operation_id].result_kind != "model":
                continue
            found.append(
                RealBody(
                    f"{base.name}/{row['file']}",
                    op.operation_id,
                    row["method"],
                    row["path_template"],
                    int(row["status"]),
                    (base / row["file"]).read_bytes(),
                )
            )
    return tuple(found)


def schema_pointer(validator: SpecValidator, operation_id: str, status: int) -> str:
    pointer = validator.response_schema_pointer(validator.operation_by_id(operation_id), status)
    assert pointer is not None
    return pointer


def client_accepts(operation: Operation[Any], raw: bytes, status: int = 200) -> bool:
    """Whether the default (non-strict) client returns a result for this body."""
    from musicagent.errors import ResponseValidationError

    request = httpx.Request(operation.method, "https://api.discogs.com/x")
    try:
        read_response(operation, httpx.Response(status, content=raw, request=request))
    except ResponseValidationError:
        return False
    return True
