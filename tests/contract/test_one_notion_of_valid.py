"""The models and the validator make one judgement: on the same mutated real bodies they agree.

Every real body (captures and documentation examples) is corrupted the ways real corruption
looks — `true` for an id, `"12"` for a count, `null` where the spec says non-null, a list for an
object, a missing member — and each corrupted body is judged by the spec's compiled JSON Schema
and by the default client (its strict Pydantic models). They must agree on every one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from discogs_facade import OPERATIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicagent.validation import bundled_validator
from tests.contract.real_bodies import RealBody, client_accepts, schema_pointer, success_bodies

Path = tuple[str | int, ...]


def _paths(value: Any, at: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield at, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*at, index))


def _replacements(value: Any) -> list[Any]:
    """Subtle corruptions of a value: what a lax parser would quietly coerce or let through."""
    if isinstance(value, bool):
        return ["yes", 1, None]
    if isinstance(value, int):
        return [True, str(value), None, value + 0.5]
    if isinstance(value, float):
        return [True, str(value), None]
    if isinstance(value, str):
        return [1, True, None, [value]]
    if value is None:
        return [0, "x", True]
    if isinstance(value, list):
        return [{}, "x", None]
    return [[], "x", None]


_DELETE = object()


def _mutated(body: Any, path: Path, replacement: Any) -> Any:
    copy = json.loads(json.dumps(body))
    if not path:
        return {} if replacement is _DELETE else replacement
    parent = copy
    for token in path[:-1]:
        parent = parent[token]
    if replacement is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


def _mutations(body: Any) -> list[tuple[Path, Any]]:
    found: list[tuple[Path, Any]] = [((), _DELETE)]  # the whole body as `{}`
    for path, value in _paths(body):
        for replacement in _replacements(value):
            found.append((path, replacement))
        if path and isinstance(path[-1], str):
            found.append((path, _DELETE))
    return found


def _verdicts(real: RealBody, mutated: Any) -> tuple[bool, bool]:
    validator = bundled_validator()
    pointer = schema_pointer(validator, real.operation_id, real.status)
    by_schema = validator.is_valid(pointer, mutated)
    raw = json.dumps(mutated).encode()
    by_client = client_accepts(OPERATIONS[real.operation_id], raw, real.status)
    return by_schema, by_client


def _describe(real: RealBody, path: Path, replacement: Any) -> str:
    shown = "(deleted)" if replacement is _DELETE else json.dumps(replacement)
    return f"{real.name} /{'/'.join(map(str, path))} = {shown}"


BODIES = success_bodies()
PER_BODY = 400


def test_every_operation_with_real_data_is_covered() -> None:
    covered = {real.operation_id for real in BODIES}
    # Real bodies (captures or documentation examples) exist for these; the rest of the
    # model-returning operations have none, so the mutation test cannot reach them.
    assert len(covered) >= 40, sorted(covered)


@pytest.mark.parametrize("real", BODIES, ids=lambda real: real.name)
def test_models_and_validator_agree_on_mutated_real_bodies(real: RealBody) -> None:
    body = real.body
    mutations = _mutations(body)
    random.Random(real.name).shuffle(mutations)
    disagreements = []
    rejected = 0
    for path, replacement in mutations[:PER_BODY]:
        by_schema, by_client = _verdicts(real, _mutated(body, path, replacement))
        rejected += not by_schema
        if by_schema != by_client:
            verdict = "validator accepts, client refuses" if by_schema else "client accepts"
            disagreements.append(f"{_describe(real, path, replacement)}: {verdict}")
    assert disagreements == []
    assert rejected > 0  # the corruptions are real: some of them must be refused


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_models_and_validator_agree_on_any_single_corruption(data: st.DataObject) -> None:
    real = data.draw(st.sampled_from(BODIES), label="body")
    path, replacement = data.draw(st.sampled_from(_mutations(real.body)), label="mutation")
    by_schema, by_client = _verdicts(real, _mutated(real.body, path, replacement))
    assert by_schema == by_client, _describe(real, path, replacement)


def test_an_integral_float_is_the_one_documented_difference() -> None:
    # JSON Schema calls 1.0 an integer; the strict models refuse it (Discogs never sends one).
    real = next(r for r in BODIES if r.operation_id == "get_release")
    mutated = {**real.body, "id": float(real.body["id"])}
    assert _verdicts(real, mutated) == (True, False)
