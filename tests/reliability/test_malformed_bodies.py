"""Malformed, truncated and wrong-typed bodies raise `ResponseValidationError`, nothing else.

Every GET operation with a JSON model is fed bodies a broken proxy or a changed API could send:
not JSON, cut short, the wrong JSON type, HTML, nothing at all, and — for every field of its
documentation example down to three levels — a value of the wrong type. The client must raise
`ResponseValidationError` naming the operation (and the field), never `KeyError`, `TypeError`
or a model holding a silently wrong value. Bodies cut short *on the wire* (the sandbox's
`p_truncate`, where the headers promise more than arrives) are network failures, retried: see
`test_crawl_under_faults.py`.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from discogs_facade import OPERATIONS, Operation
from discogs_spec import load_example

from musicagent import AsyncDiscogs, Discogs
from musicagent.errors import ResponseValidationError
from musicagent.validation import bundled_validator
from tests.reliability.conftest import RecordingTransport

JSON_OPERATIONS = sorted(
    (op for op in OPERATIONS.values() if op.method == "GET" and op.result_kind == "model"),
    key=lambda op: op.operation_id,
)

HTML_PAGE = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"

BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "empty list": (b"[]", "application/json"),
    "a string": (b'"x"', "application/json"),
    "null": (b"null", "application/json"),
    "a number": (b"1", "application/json"),
    "true": (b"true", "application/json"),
    "empty body": (b"", "application/json"),
    "truncated JSON": (b'{"id": 1, "title": "Mezzan', "application/json"),
    "HTML error page": (HTML_PAGE, "text/html; charset=utf-8"),
    "HTML labelled JSON": (HTML_PAGE, "application/json"),
    "not UTF-8": (b'{"title": "\xff\xfe"}', "application/json"),
    "two documents": (b'{"id": 1}{"id": 2}', "application/json"),
    "nested 5000 deep": (b"[" * 5000 + b"]" * 5000, "application/json"),
}


def arguments_for(op: Operation[Any]) -> dict[str, Any]:
    """Valid values for the required arguments of an operation."""
    values: dict[str, Any] = {}
    for arg in op.arguments:
        if arg.required:
            schema = arg.schema
            if "enum" in schema:
                values[arg.python_name] = schema["enum"][0]
            else:
                kind = schema.get("type", "")
                # A type list (an id as number or string) takes its first type.
                kind = kind[0] if isinstance(kind, list) else kind
                values[arg.python_name] = {"integer": 1, "number": 1.5}.get(kind, "sandbox")
    return values


def public_method(client: Any, op: Operation[Any]) -> Any:
    """The client method of an operation, as users call it: `client.<tag>.<operation_id>`."""
    return getattr(getattr(client, op.tag), op.operation_id)


def documentation_example(op: Operation[Any]) -> Any:
    """The example body the spec attaches to the operation's 200 response."""
    spec_op = bundled_validator().operation_by_id(op.operation_id)
    content = spec_op.operation["responses"]["200"]["content"]["application/json"]
    example = next(iter(content["examples"].values()))
    return load_example(example["externalValue"].rsplit("/", 1)[1])


def wrong_typed_variants(body: Any) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, body) with one value of the wrong type, for every value 1-3 levels down:
    an object where a scalar or list belongs, a string where an object belongs."""

    def walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
        if path:
            yield path
        if len(path) >= 3:
            return
        if isinstance(value, dict):
            for key, child in value.items():
                yield from walk(child, (*path, key))
        elif isinstance(value, list) and value:
            yield from walk(value[0], (*path, 0))

    for path in walk(body, ()):
        mutated = copy.deepcopy(body)
        node = mutated
        for step in path[:-1]:
            node = node[step]
        original = node[path[-1]]
        node[path[-1]] = "x" if isinstance(original, dict) else {"unexpected": "object"}
        yield "".join(f"/{step}" for step in path), mutated


def _server(body: bytes, content_type: str) -> RecordingTransport:
    return RecordingTransport(
        reply=lambda request: httpx.Response(
            200, content=body, headers={"Content-Type": content_type}
        )
    )


def _call(op: Operation[Any], transport: RecordingTransport) -> Any:
    with Discogs(
        token="bodies-token-123",
        base_url="http://127.0.0.1:9",
        transport=transport,
        rate_limiter=False,
        cache=False,
    ) as client:
        return public_method(client, op)(**arguments_for(op))


def _problem(op: Operation[Any], outcome: BaseException | None) -> str | None:
    """What is wrong with how a bad body was handled, or None when it was handled right."""
    if outcome is None:
        return "returned a value"
    if not isinstance(outcome, ResponseValidationError):
        return f"raised {type(outcome).__name__}: {outcome}"
    if outcome.operation_id != op.operation_id or op.operation_id not in str(outcome):
        return f"error does not name the operation: {outcome}"
    if outcome.status != 200 or outcome.method != "GET" or outcome.response is None:
        return f"error lacks status, method or response: {outcome!r}"
    return None


def _outcome(call: Any) -> BaseException | None:
    try:
        call()
    except Exception as exc:
        return exc
    return None


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=lambda op: op.operation_id)
def test_bodies_that_are_not_the_model_raise_response_validation_error(
    op: Operation[Any],
) -> None:
    problems = {}
    for name, (body, content_type) in BAD_BODIES.items():
        transport = _server(body, content_type)
        problem = _problem(op, _outcome(lambda t=transport: _call(op, t)))
        if problem:
            problems[name] = problem
        assert len(transport.sent) == 1  # a bad body is not a reason to ask again

    assert problems == {}


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=lambda op: op.operation_id)
def test_async_bodies_that_are_not_the_model_raise_response_validation_error(
    op: Operation[Any],
) -> None:
    async def call(transport: RecordingTransport) -> Any:
        async with AsyncDiscogs(
            token="bodies-token-123",
            base_url="http://127.0.0.1:9",
            transport=transport,
            rate_limiter=False,
            cache=False,
        ) as client:
            return await public_method(client, op)(**arguments_for(op))

    problems = {}
    for name, (body, content_type) in BAD_BODIES.items():
        transport = _server(body, content_type)
        problem = _problem(op, _outcome(lambda t=transport: asyncio.run(call(t))))
        if problem:
            problems[name] = problem

    assert problems == {}


@pytest.mark.parametrize("op", JSON_OPERATIONS, ids=lambda op: op.operation_id)
def test_every_wrong_typed_field_raises_response_validation_error_naming_it(
    op: Operation[Any],
) -> None:
    example = documentation_example(op)
    validator = bundled_validator()
    schema = validator.response_schema_pointer(validator.operation_by_id(op.operation_id), 200)
    assert schema is not None
    # The example itself is read without complaint: what fails below is the mutation.
    assert _call(op, _server(json.dumps(example).encode(), "application/json")) is not None

    problems = {}
    variants = list(wrong_typed_variants(example))
    for pointer, body in variants:
        # Only what the spec itself calls wrong must be refused.
        assert validator.validate_schema(schema, body), f"the spec accepts {pointer}"
        outcome = _outcome(
            lambda b=body: _call(op, _server(json.dumps(b).encode(), "application/json"))
        )
        problem = _problem(op, outcome)
        if (
            problem is None
            and isinstance(outcome, ResponseValidationError)
            and not outcome.pointer.startswith(pointer)
        ):
            problem = f"pointer {outcome.pointer!r} does not name the field"
        if problem:
            problems[pointer] = problem

    assert variants
    assert problems == {}


def test_a_truncated_real_body_raises_response_validation_error() -> None:
    op = OPERATIONS["get_release"]
    whole = json.dumps(documentation_example(op)).encode()
    outcomes = [
        _outcome(lambda cut=cut: _call(op, _server(whole[:cut], "application/json")))
        for cut in range(0, len(whole), max(1, len(whole) // 40))
    ]

    assert len(outcomes) >= 40
    assert all(_problem(op, outcome) is None for outcome in outcomes)
    assert all("not valid JSON" in str(outcome) for outcome in outcomes)


def test_an_oauth_form_answer_without_its_fields_raises_response_validation_error() -> None:
    op = OPERATIONS["get_request_token"]

    def call(transport: RecordingTransport) -> Any:
        with Discogs(
            consumer_key="bodies-key",
            consumer_secret="bodies-secret-123",
            base_url="http://127.0.0.1:9",
            transport=transport,
            rate_limiter=False,
            cache=False,
        ) as client:
            return public_method(client, op)()

    for body in (b"", b"<html>502</html>", b"oauth_token=only-half", b"\xff\xfe"):
        transport = _server(body, "application/x-www-form-urlencoded")
        outcome = _outcome(lambda t=transport: call(t))
        assert isinstance(outcome, ResponseValidationError), (body, outcome)
        assert outcome.operation_id == "get_request_token"
