"""Reading a response: the operation's result from a final response, or a typed error.

One parse per body, straight from bytes into the operation's Pydantic model; with `strict`, the
body is first checked against the spec's response schema. Used by the request loop once the
final attempt's body has been read.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
from discogs_facade import Operation
from pydantic import ValidationError as PydanticValidationError

from musicagent.errors import ResponseValidationError, error_from_response
from musicagent.ratelimit import RateLimitStatus
from musicagent.validation import bundled_validator, json_pointer

R = TypeVar("R")

__all__ = ["read_response"]


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
    result: Any
    if status in (204, 304) or op.result_kind == "none":
        result = None
    elif op.result_kind == "location":
        result = response.headers.get("Location")
    elif op.result_kind == "bytes":
        result = response.content
    elif op.result_kind == "form":
        result = _parse(op, response, dict(parse_qsl(response.text)), rate_limit)
    else:
        if strict:
            _validate_strictly(op, response, rate_limit)
        result = _parse(op, response, None, rate_limit)
    return result  # type: ignore[no-any-return]


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
    decoded: dict[str, Any] | None,
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
) -> None:
    try:
        body = json.loads(response.content)
    except ValueError:
        raise _fail(op, response, "", "body is not valid JSON", rate_limit) from None
    validator = bundled_validator()
    spec_op = validator.operation_by_id(op.operation_id)
    pointer = validator.response_schema_pointer(spec_op, response.status_code)
    if pointer is None:
        return
    problems = validator.validate_schema(pointer, body)
    if problems:
        raise _fail(op, response, problems[0].pointer, problems[0].message, rate_limit)
