"""A real body of one operation is refused as the body of another, unless they share a shape.

Each real success body is served as the answer of every other operation that returns a model;
the validator and the default client must both refuse it, except for the pairs below, whose
schemas are the same component (a write that answers with what the read returns), and empty
pages, which look alike whatever their items would have been.
"""

from __future__ import annotations

from typing import Any

import pytest
from discogs_facade import OPERATIONS

from musicagent.validation import bundled_validator
from tests.contract.real_bodies import RealBody, client_accepts, success_bodies

# Operations answering the same component: a body of one is a body of the other.
SHARED = [
    {"create_collection_folder", "edit_collection_folder", "get_collection_folder"},
    {"add_to_wantlist", "edit_wantlist_release"},
    {"edit_order", "get_order"},
    {"edit_profile", "get_profile"},
    {"get_fee", "get_fee_with_currency"},
    {"get_release_rating_by_user", "update_release_rating_by_user"},
    {"get_collection_items_by_folder", "get_collection_items_by_release"},
]


def _shared(a: str, b: str) -> bool:
    return any({a, b} <= group for group in SHARED)


def _empty_page(body: Any) -> bool:
    """A page whose item list is empty: any page with the same key takes it."""
    return (
        isinstance(body, dict)
        and "pagination" in body
        and all(value == [] for key, value in body.items() if key != "pagination")
    )


MODEL_OPERATIONS = sorted(op for op, o in OPERATIONS.items() if o.result_kind == "model")


def _served_as(real: RealBody) -> list[tuple[str, int, str]]:
    validator = bundled_validator()
    found = []
    for other in MODEL_OPERATIONS:
        if other == real.operation_id or _shared(real.operation_id, other):
            continue
        status = OPERATIONS[other].success_statuses[0]
        pointer = validator.response_schema_pointer(validator.operation_by_id(other), status)
        if pointer is not None:
            found.append((other, status, pointer))
    return found


@pytest.mark.parametrize("real", success_bodies(), ids=lambda real: real.name)
def test_a_real_body_is_refused_as_another_operations_answer(real: RealBody) -> None:
    if _empty_page(real.body):
        pytest.skip("an empty page has the shape of every page with the same key")
    validator = bundled_validator()
    accepted = []
    for other, status, pointer in _served_as(real):
        by_schema = validator.is_valid(pointer, real.body)
        by_client = client_accepts(OPERATIONS[other], real.raw, status)
        if by_schema or by_client:
            accepted.append(f"{other} (validator {by_schema}, client {by_client})")
    assert accepted == [], f"{real.name} ({real.operation_id}) passes as: {accepted}"


def test_shared_pairs_really_answer_one_component() -> None:
    validator = bundled_validator()
    for group in SHARED:
        names = set()
        for op_id in group:
            status = OPERATIONS[op_id].success_statuses[0]
            names.add(validator.response_schema_name(validator.operation_by_id(op_id), status))
        # Same component, or Fee/Price-like aliases of one shape.
        assert len(names) == 1 or names == {"Fee"}, (group, names)
