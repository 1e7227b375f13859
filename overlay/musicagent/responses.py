"""Reading a response: the operation's result from a final response, or a typed error.

One parse per body into the operation's Pydantic model. The models are strict where the spec is
typed, so the default client refuses what the spec refuses. With `strict`, the body is also
checked against the spec's compiled response schema, and a status the operation does not document
is an error. Used by the request loop once the final attempt's body has been read.

Observers (`observe_responses`) see the outcome of every body read, valid or not, even when the
caller catches the error: the pytest plugin uses this to fail the test that received a bad body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
from discogs_facade import Operation
from pydantic import ValidationError as PydanticValidationError

from musicagent.errors import ResponseValidationError, error_from_response
from musicagent.ratelimit import RateLimitStatus
from musicagent.validation import (
    UnknownOperationError,
    UnknownStatusError,
    bundled_validator,
    json_pointer,
)

R = TypeVar("R")

__all__ = ["ResponseOutcome", "observe_responses", "read_response"]


@dataclass(frozen=True)
class ResponseOutcome:
    """What reading one response body found: the operation, the request, and the error if any."""

    operation_id: str
    method: str
    url: str
    status: int
    error: ResponseValidationError | None


Observer = Callable[[ResponseOutcome], None]

_lock = threading.Lock()
_observers: tuple[tuple[Observer, bool], ...] = ()


@contextmanager
def observe_responses(observer: Observer, *, strict: bool = True) -> Iterator[None]:
    """Call `observer` with the outcome of every body read while the block runs.

    With `strict` (the default), every client checks every body strictly meanwhile, whatever
    it was configured with. Observers run in the thread that read the body; they must be quick.
    """
    global _observers
    entry = (observer, strict)
    with _lock:
        _observers = (*_observers, entry)
    try:
        yield
    finally:
        with _lock:
            _observers = tuple(o for o in _observers if o is not entry)


def read_response(
    op: Operation[R],
    response: httpx.Response,
    *,
    strict: bool = False,
    rate_limit: RateLimitStatus | None = None,
) -> R:
    """Turn a response into the operation's result, or raise the matching typed error."""
    status = response.status_code
    if status >= 400 or (status >= 300 and status != 304):
        raise error_from_response(response, rate_limit=rate_limit)
    observers = _observers
    strict = strict or any(wants_strict for _, wants_strict in observers)
    try:
        result = _read(op, response, strict, rate_limit)
    except ResponseValidationError as exc:
        _notify(observers, op, response, exc)
        raise
    _notify(observers, op, response, None)
    return result


def _read(
    op: Operation[R], response: httpx.Response, strict: bool, rate_limit: RateLimitStatus | None
) -> R:
    status = response.status_code
    result: Any
    if status in (204, 304) or op.result_kind == "none":
        if op.result_kind in ("model", "form") and not _documents_no_body(op.operation_id, status):
            # A method typed to return a model must not hand back None (a 304 here means the
            # cache had nothing to revalidate).
            raise _fail(
                op,
                response,
                "",
                f"{op.operation_id} answered {status} without a body; it documents a body "
                f"for {', '.join(map(str, op.success_statuses))}",
                rate_limit,
            )
        result = None
    elif op.result_kind == "location":
        result = response.headers.get("Location")
    elif op.result_kind == "bytes":
        result = response.content
    elif op.result_kind == "form":
        result = _parse(op, response, dict(parse_qsl(response.text)), rate_limit)
    elif strict:
        result = _parse(op, response, _validate_strictly(op, response, rate_limit), rate_limit)
    else:
        result = _parse(op, response, None, rate_limit)
    return result  # type: ignore[no-any-return]


def _notify(
    observers: tuple[tuple[Observer, bool], ...],
    op: Operation[Any],
    response: httpx.Response,
    error: ResponseValidationError | None,
) -> None:
    if not observers:
        return
    request = response.request
    outcome = ResponseOutcome(
        op.operation_id, request.method, str(request.url), response.status_code, error
    )
    for observer, _ in observers:
        observer(outcome)


@cache
def _documents_no_body(operation_id: str, status: int) -> bool:
    """Whether the spec documents `status` for this operation as an answer without a body."""
    validator = bundled_validator()
    try:
        spec_op = validator.operation_by_id(operation_id)
        return validator.response_schema_pointer(spec_op, status) is None
    except (UnknownOperationError, UnknownStatusError):
        return False


def _fail(
    op: Operation[Any],
    response: httpx.Response,
    pointer: str,
    message: str,
    rate_limit: RateLimitStatus | None,
) -> ResponseValidationError:
    request = response.request
    return ResponseValidationError(
        message,
        operation_id=op.operation_id,
        pointer=pointer,
        status=response.status_code,
        method=request.method,
        url=request.url,
        rate_limit=rate_limit,
        response=response,
    )


def _parse(
    op: Operation[Any],
    response: httpx.Response,
    decoded: Any,
    rate_limit: RateLimitStatus | None,
) -> Any:
    if op.model is None:
        return decoded if decoded is not None else response.json()
    try:
        if decoded is not None:
            return op.model.model_validate(decoded)
        # One parse, straight from bytes into the model.
        return op.model.model_validate_json(response.content)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise _fail(
                op, response, "", f"body is not valid JSON ({first['msg']})", rate_limit
            ) from None
        raise _fail(op, response, json_pointer(first["loc"]), first["msg"], rate_limit) from None


def _validate_strictly(
    op: Operation[Any], response: httpx.Response, rate_limit: RateLimitStatus | None
) -> Any:
    """The decoded body once it matches the spec's schema for its status (else the error)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        raise _fail(op, response, "", "body is not valid JSON", rate_limit) from None
    validator = bundled_validator()
    spec_op = validator.operation_by_id(op.operation_id)
    try:
        pointer = validator.response_schema_pointer(spec_op, response.status_code)
    except UnknownStatusError as exc:
        # An undocumented success status is drift the strict reader reports, not a lookup bug.
        raise _fail(op, response, "", str(exc), rate_limit) from None
    if pointer is not None and not validator.is_valid(pointer, body):
        first = validator.validate_schema(pointer, body)[0]
        raise _fail(op, response, first.pointer, first.message, rate_limit)
    if body is None:
        raise _fail(op, response, "", "body is JSON null", rate_limit)
    return body
