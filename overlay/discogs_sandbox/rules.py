"""The documented rules the sandbox applies: error bodies, paging, parameter checks.

Pure functions and small types with no web framework in them, so they are tested alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "AUTH_REALM",
    "DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "MESSAGES",
    "ApiError",
    "Page",
    "forbidden",
    "not_found",
    "paginate",
    "parse_page",
    "unauthorized",
    "unprocessable",
]

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
AUTH_REALM = 'OAuth realm="https://api.discogs.com"'
"""The ``WWW-Authenticate`` challenge Discogs sends with a 401."""

MESSAGES = {
    "unauthorized": "You must authenticate to access this resource.",
    "forbidden": "You don't have permission to access this resource.",
    "not_found": "The requested resource was not found.",
    "too_many": "You are making requests too quickly.",
    "release": "Release not found.",
    "master": "Master Release not found.",
    "artist": "Artist not found.",
    "label": "Label not found.",
    "user": "User does not exist or may have been deleted.",
    "malformed": "Malformed JSON or form data in the request body.",
}
"""The ``message`` texts of the sandbox's error bodies (Discogs' wording where documented)."""

# Query parameters that carry credentials never appear in pagination links.
_SECRET_PARAMETERS = frozenset({"token", "key", "secret"})


class ApiError(Exception):
    """An error answer: HTTP status, ``{"message": …}`` body and extra headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    detail: Any = None
    """Where a newer Discogs endpoint says which field failed (``detail`` in the body)."""

    def body(self) -> dict[str, Any]:
        """The JSON body Discogs sends with an error."""
        if self.detail is not None:
            return {"message": self.message, "detail": self.detail}
        return {"message": self.message}


def unauthorized(detail: str | None = None) -> ApiError:
    """401 with Discogs' challenge header; ``detail`` goes to ``X-Sandbox-Reason`` only."""
    headers = {"WWW-Authenticate": AUTH_REALM}
    if detail:
        headers["X-Sandbox-Reason"] = detail
    return ApiError(401, MESSAGES["unauthorized"], headers)


def forbidden(message: str | None = None) -> ApiError:
    """403: authenticated, but not allowed to touch this resource."""
    return ApiError(403, message or MESSAGES["forbidden"])


def not_found(kind: str = "not_found") -> ApiError:
    """404 with the message Discogs uses for that kind of resource."""
    return ApiError(404, MESSAGES.get(kind, kind))


def unprocessable(message: str) -> ApiError:
    """422: a parameter is missing, has the wrong type or makes no sense."""
    return ApiError(422, message)


@dataclass(frozen=True)
class Page:
    """The page a list request asks for."""

    number: int
    per_page: int

    @property
    def start(self) -> int:
        """Index of the first item on this page."""
        return (self.number - 1) * self.per_page

    @property
    def stop(self) -> int:
        """Index after the last item on this page."""
        return self.number * self.per_page


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise unprocessable(f"Invalid {name}: expected an integer, got {raw!r}.") from None


def parse_page(query: Mapping[str, str], default_per_page: int = DEFAULT_PER_PAGE) -> Page:
    """Read ``page`` and ``per_page``; 422 when either is not a whole number in range."""
    number = _positive_int(query, "page", 1)
    per_page = _positive_int(query, "per_page", default_per_page)
    if number < 1:
        raise unprocessable(f"Invalid page: must be 1 or more, got {number}.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise unprocessable(
            f"Invalid per_page: must be between 1 and {MAX_PER_PAGE}, got {per_page}."
        )
    return Page(number, per_page)


def page_count(total: int, per_page: int) -> int:
    """Pages of a list (1 for an empty list, so page 1 always exists)."""
    return max(1, math.ceil(total / per_page))


def page_url(
    base_url: str, path: str, query: Sequence[tuple[str, str]], number: int, per_page: int
) -> str:
    """Absolute URL of another page of the same list, other parameters kept."""
    kept = [(k, v) for k, v in query if k not in ("page", "per_page", *_SECRET_PARAMETERS)]
    kept += [("page", str(number)), ("per_page", str(per_page))]
    return f"{base_url}{path}?{urlencode(kept)}"


def paginate(
    base_url: str,
    path: str,
    query: Sequence[tuple[str, str]],
    page: Page,
    total: int,
    *,
    reachable: int | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The ``pagination`` object and ``Link`` header of one page; 404 past the last page.

    Discogs answers a page past the end with 404, which clients read as "no more items".
    ``reachable`` is how many entries can be paged to at most (search stops at 10,000).
    """
    pages = page_count(total if reachable is None else min(total, reachable), page.per_page)
    if page.number > pages:
        raise not_found()
    urls: dict[str, str] = {}
    if page.number > 1:
        urls["first"] = page_url(base_url, path, query, 1, page.per_page)
        urls["prev"] = page_url(base_url, path, query, page.number - 1, page.per_page)
    if page.number < pages:
        urls["next"] = page_url(base_url, path, query, page.number + 1, page.per_page)
        urls["last"] = page_url(base_url, path, query, pages, page.per_page)
    link = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in urls.items()) or None
    pagination = {
        "page": page.number,
        "pages": pages,
        "per_page": page.per_page,
        "items": total,
        "urls": urls,
    }
    return pagination, link


def check_choice(query: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    """A query parameter that must be one of ``allowed`` (422 naming them otherwise)."""
    value = query.get(name)
    if value is None or value == "":
        return None
    choices = list(allowed)
    if value not in choices:
        raise unprocessable(f"Invalid {name}: expected one of {', '.join(choices)}.")
    return value


def parse_bool(value: Any, name: str) -> bool:
    """A boolean from JSON (true/false) or a form/query string (true/false/1/0)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise unprocessable(f"Invalid {name}: expected true or false.")


def parse_number(value: Any, name: str, *, minimum: float | None = None) -> float:
    """A number from JSON or a string (422 naming the parameter otherwise)."""
    if isinstance(value, bool):
        raise unprocessable(f"Invalid {name}: expected a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise unprocessable(f"Invalid {name}: expected a number.") from None
    if math.isnan(number) or (minimum is not None and number < minimum):
        raise unprocessable(f"Invalid {name}: must be {minimum} or more.")
    return number


def parse_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number within bounds from JSON or a string (422 otherwise)."""
    if isinstance(value, bool):
        raise unprocessable(f"Invalid {name}: expected an integer.")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise unprocessable(f"Invalid {name}: expected an integer.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            raise unprocessable(f"Invalid {name}: must be {low} or more.")
        if low is None:
            raise unprocessable(f"Invalid {name}: must be {high} or less.")
        raise unprocessable(f"Invalid {name}: must be between {low} and {high}.")
    return number
