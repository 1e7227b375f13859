"""Exceptions raised by the Discogs client, and the mapping from HTTP status to exception.

Every exception is a `DiscogsAPIError` carrying the HTTP status, the server's message, the method
and the URL (with tokens and secrets masked), the rate-limit state and the raw `httpx.Response`,
so a caller can catch one base class or the precise failure.

Failures of local files (an export's destination, partial output, checkpoint or lock) are not
API errors: they form their own family under `LocalIOError`, carrying the path concerned.


    try:
        client.database.get_release(1)
    except ResourceNotFoundError as err:
        print(err.status, err.message)   # 404 Release not found.
    except DiscogsAPIError as err:
        print(err)                        # one readable line, secrets masked
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from musicagent.masking import known_secrets, mask_text, mask_url

if TYPE_CHECKING:
    from musicagent.ratelimit import RateLimitStatus

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CheckpointError",
    "CheckpointMismatchError",
    "CircuitOpenError",
    "DiscogsAPIError",
    "ExportLockedError",
    "ForbiddenError",
    "InvalidParameterError",
    "LocalIOError",
    "NetworkCircuitOpenError",
    "NetworkError",
    "RateLimitError",
    "ResourceNotFoundError",
    "ResponseValidationError",
    "ServerError",
    "UnsafeFileError",
    "error_from_response",
]


class DiscogsAPIError(Exception):
    """Base class of every error the Discogs client raises.

    Attributes:
        status: HTTP status code, or None when no response was received.
        message: the server's `{"message": ...}` text, else the HTTP reason phrase.
        method: HTTP method of the failed request, if known.
        url: the request URL with token, key, secret and OAuth values masked.
        rate_limit: the rate-limit budget when the error happened, if known.
        response: the raw `httpx.Response` (status, headers, body), if there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        rate_limit: RateLimitStatus | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        # Masked here, not only by callers: an error message is the easiest place for a
        # token to leak into logs and bug reports.
        self.message = mask_text(message, known_secrets())
        self.status = status
        self.method = method
        self.url = mask_url(url) if url is not None else None
        self.rate_limit = rate_limit
        self.response = response
        super().__init__(self.message)

    def __str__(self) -> str:
        head = self.message
        if self.status is not None:
            reason = _reason_phrase(self.status)
            status_text = f"{self.status} {reason}".rstrip()
            head = status_text if self.message in ("", reason) else f"{status_text}: {self.message}"
        where = " ".join(part for part in (self.method, self.url) if part)
        return f"{head} ({where})" if where else head

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only arguments, which default exception pickling cannot
        # replay; rebuild from the attributes instead. A live response does not pickle.
        return (_restore_error, (type(self), {**self.__dict__, "response": None}))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, "
            f"method={self.method!r}, url={self.url!r})"
        )


class AuthenticationError(DiscogsAPIError):
    """401 Unauthorized: credentials are missing, wrong or revoked."""


class ForbiddenError(DiscogsAPIError):
    """403 Forbidden: authenticated, but not allowed (e.g. another user's private data)."""


class ResourceNotFoundError(DiscogsAPIError):
    """404 Not Found: no release, artist, label, user or listing with that id or name."""


class BadRequestError(DiscogsAPIError):
    """400 Bad Request or 422 Unprocessable Entity: the server rejected the parameters or body."""


class RateLimitError(DiscogsAPIError):
    """429 Too Many Requests: the rate limit was still exceeded after all retries."""


class ServerError(DiscogsAPIError):
    """5xx: Discogs failed to answer (500, 502, 503, 504), still failing after all retries."""


class NetworkError(DiscogsAPIError):
    """No usable response: connection refused or reset, DNS failure, read or connect timeout."""

    @classmethod
    def from_transport_error(
        cls,
        exc: httpx.TransportError,
        *,
        rate_limit: RateLimitStatus | None = None,
    ) -> NetworkError:
        """Wrap an httpx connect/read/timeout error, keeping the failed request's method and URL."""
        try:
            request: httpx.Request | None = exc.request
        except RuntimeError:  # httpx raises this when the error was created without a request
            request = None
        detail = str(exc) or type(exc).__name__
        return cls(
            f"{type(exc).__name__}: {detail}",
            method=request.method if request is not None else None,
            url=request.url if request is not None else None,
            rate_limit=rate_limit,
        )


class ResponseValidationError(DiscogsAPIError):
    """The response body is not JSON or does not match the spec for this operation.

    Attributes:
        operation_id: the spec operation whose schema was checked (e.g. `get_release`).
        pointer: JSON pointer to the offending value (e.g. `/tracklist/0/title`); "" for the root.
    """

    def __init__(
        self,
        message: str,
        *,
        operation_id: str | None = None,
        pointer: str = "",
        status: int | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        rate_limit: RateLimitStatus | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.pointer = pointer
        super().__init__(
            message,
            status=status,
            method=method,
            url=url,
            rate_limit=rate_limit,
            response=response,
        )

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.url) if part)
        operation = f" of {self.operation_id}" if self.operation_id else ""
        text = f"Invalid response{operation} at {self.pointer or '/'}: {self.message}"
        return f"{text} ({where})" if where else text


class CircuitOpenError(ServerError):
    """Calls are failing fast because the last several calls all failed.

    Raised without contacting the server after `failure_threshold` consecutive failures; the
    circuit lets one trial request through at `retry_at` (in `retry_in` seconds).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_at: datetime,
        retry_in: float,
        method: str | None = None,
        url: str | httpx.URL | None = None,
    ) -> None:
        self.retry_at = retry_at
        self.retry_in = retry_in
        super().__init__(message, method=method, url=url)


class NetworkCircuitOpenError(CircuitOpenError, NetworkError):
    """The circuit is open and the failures that opened it were network errors.

    Catchable both as `NetworkError` and as `CircuitOpenError`.
    """


class InvalidParameterError(DiscogsAPIError, ValueError):
    """An argument was rejected before sending (e.g. `per_page=500`, an unknown currency).

    Also a `ValueError`, so code that validates input generically keeps working.

    Attributes:
        parameter: the name of the rejected parameter.
        allowed: what would have been accepted, e.g. "1..100" or the list of currencies.
        value: the rejected value.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        parameter: str,
        allowed: str | Sequence[str] | None = None,
        value: object = None,
    ) -> None:
        self.parameter = parameter
        self.allowed = allowed
        self.value = value
        if message is None:
            message = f"invalid {parameter}={value!r}"
            if allowed is not None:
                message += f"; allowed: {_describe_allowed(allowed)}"
        super().__init__(message)


class LocalIOError(Exception):
    """A local file could not be read or written: an export's destination, its partial
    output, its checkpoint or its lock. Not a `DiscogsAPIError`: nothing went wrong with Discogs.

    Attributes:
        path: the file concerned.
        reason: what went wrong, in words (`No space left on device`).
        checkpoint: the checkpoint that lets the export resume, when one exists; None otherwise.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str], checkpoint: str | None = None
    ) -> None:
        self.path = str(path)
        self.checkpoint = checkpoint
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_local_error, (type(self), self.__dict__, str(self)))


class ExportLockedError(LocalIOError):
    """Another export is writing the same destination right now.

    Attributes:
        holder: what the other run recorded about itself (`pid 1234 on host, since …`), if known.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str], holder: str | None) -> None:
        self.holder = holder
        super().__init__(message, path=path)


class UnsafeFileError(LocalIOError):
    """A file an export would write or resume from is a symbolic link, not a regular file, or
    belongs to another user: following it could overwrite a file the export does not own."""


class CheckpointError(LocalIOError):
    """A checkpoint cannot be used to resume an export (unreadable, written by another version,
    or its partial output is missing or shorter than recorded). Start the export over."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint beside the destination belongs to a different export (another kind,
    query, format or options). Start over, or export to another file.

    Attributes:
        differences: what differs, e.g. `["query"]`.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str], differences: list[str]
    ) -> None:
        self.differences = differences
        super().__init__(message, path=path)


def _restore_local_error(
    error_class: type[LocalIOError], state: dict[str, Any], message: str
) -> LocalIOError:
    error = error_class.__new__(error_class)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


_STATUS_TO_ERROR: dict[int, type[DiscogsAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: ResourceNotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[DiscogsAPIError]:
    """The exception class raised for an HTTP error status (5xx → `ServerError`)."""
    if status in _STATUS_TO_ERROR:
        return _STATUS_TO_ERROR[status]
    if status >= 500:
        return ServerError
    return DiscogsAPIError


def error_from_response(
    response: httpx.Response,
    *,
    rate_limit: RateLimitStatus | None = None,
) -> DiscogsAPIError:
    """Build the typed exception for an error response (4xx or 5xx).

    The message is the body's `{"message": ...}` when present, else the reason phrase, and the
    URL has its secrets masked: `404 Not Found: Release not found. (GET https://…/releases/1)`.
    """
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a Response built without a request (tests, hand-made responses)
        request = None
    error_class = error_class_for_status(response.status_code)
    return error_class(
        _server_message(response) or _reason_phrase(response.status_code),
        status=response.status_code,
        method=request.method if request is not None else None,
        url=request.url if request is not None else None,
        rate_limit=rate_limit,
        response=response,
    )


def _server_message(response: httpx.Response) -> str | None:
    """The `message` field of a JSON error body, or None if the body is not that shape."""
    try:
        body = json.loads(response.content)
    except (httpx.ResponseNotRead, ValueError):  # a streamed body, or not JSON (an HTML 502 page)
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) and message else None


def _restore_error(error_class: type[DiscogsAPIError], state: dict[str, Any]) -> DiscogsAPIError:
    error = error_class.__new__(error_class)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


def _reason_phrase(status: int) -> str:
    return httpx.codes.get_reason_phrase(status)


def _describe_allowed(allowed: str | Sequence[str]) -> str:
    return allowed if isinstance(allowed, str) else ", ".join(allowed)
