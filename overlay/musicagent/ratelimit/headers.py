"""The `X-Discogs-Ratelimit*` response headers, read defensively.

Discogs reports its budget on every response: `X-Discogs-Ratelimit` (requests allowed per
window), `-Used` and `-Remaining`. A server (or anything in between) may send any text there,
so every value is clamped before the limiter acts on it: the limit to `[1, ceiling]`, the
requests counted to `[0, limit]`. A claim of three hundred million requests used therefore
means "the window is full", not three hundred million units of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = [
    "LIMIT_HEADER",
    "REMAINING_HEADER",
    "USED_HEADER",
    "RateLimitHeaders",
    "parse_rate_limit_headers",
]

LIMIT_HEADER = "x-discogs-ratelimit"
USED_HEADER = "x-discogs-ratelimit-used"
REMAINING_HEADER = "x-discogs-ratelimit-remaining"
# Longer digit strings are not a count of requests; refusing them early also keeps int()
# from spending time on a megabyte of digits.
_MAX_DIGITS = 12
_HUGE: int = int("1" + "0" * _MAX_DIGITS)


@dataclass(frozen=True)
class RateLimitHeaders:
    """The `X-Discogs-Ratelimit*` values of one response as sent; a missing header is None."""

    limit: int | None
    used: int | None
    remaining: int | None

    def limit_within(self, ceiling: int) -> int | None:
        """The server's limit clamped to `[1, ceiling]`; None when it sent none (or not > 0).

        The configured limit is the ceiling: a server may lower the budget, never raise it.
        """
        if self.limit is None or self.limit < 1:
            return None
        return min(self.limit, ceiling)

    def server_used(self, limit: int) -> int | None:
        """Requests the server counts in its window, from -Used or -Remaining, within `[0, limit]`.

        When both are sent the larger count wins (the safe side).
        """
        used, remaining = self.used, self.remaining
        if remaining is not None:
            counted = limit - min(max(remaining, 0), limit)
            used = counted if used is None else max(used, counted)
        if used is None:
            return None
        return min(max(used, 0), limit)


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """Read `X-Discogs-Ratelimit`, `-Used` and `-Remaining`; None when none of them is present."""
    if isinstance(headers, httpx.Headers):
        values = _from_raw(headers)
    else:
        found = {name.lower(): value for name, value in headers.items()}
        values = (
            _int_or_none(found.get(LIMIT_HEADER)),
            _int_or_none(found.get(USED_HEADER)),
            _int_or_none(found.get(REMAINING_HEADER)),
        )
    limit, used, remaining = values
    if limit is None and used is None and remaining is None:
        return None
    return RateLimitHeaders(limit=limit, used=used, remaining=remaining)


_RAW_NAMES = {
    name.encode("ascii"): index
    for index, name in enumerate((LIMIT_HEADER, USED_HEADER, REMAINING_HEADER))
}
# Raw header name (as the server spelled it) -> index of the value it holds, or -1; bounded,
# since a hostile server can send any number of distinct names.
_RAW_INDEX: dict[bytes, int] = {}
_RAW_INDEX_MAX = 512


def _raw_index(name: bytes) -> int:
    index = _RAW_NAMES.get(name.lower(), -1)
    if len(_RAW_INDEX) < _RAW_INDEX_MAX:
        _RAW_INDEX[name] = index
    return index


def _from_raw(headers: httpx.Headers) -> tuple[int | None, int | None, int | None]:
    """The three values in one pass over the raw headers (a lookup per name would scan them
    all three times); a repeated header reads as `items()` joins it, which is no number."""
    found: list[bytes | None] = [None, None, None]
    repeated = False
    for name, value in headers.raw:
        try:
            index = _RAW_INDEX[name]
        except KeyError:
            index = _raw_index(name)
        if index >= 0:
            if found[index] is not None:
                repeated = True
            found[index] = value
    if repeated:
        return _joined(headers)
    encoding = headers.encoding
    limit, used, remaining = found
    return (
        None if limit is None else _int_or_none(limit.decode(encoding)),
        None if used is None else _int_or_none(used.decode(encoding)),
        None if remaining is None else _int_or_none(remaining.decode(encoding)),
    )


def _joined(headers: httpx.Headers) -> tuple[int | None, int | None, int | None]:
    # Case-insensitive lookups, repeated headers joined as `items()` joins them.
    return (
        _int_or_none(headers.get(LIMIT_HEADER)),
        _int_or_none(headers.get(USED_HEADER)),
        _int_or_none(headers.get(REMAINING_HEADER)),
    )


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        return int(value)  # the usual spelling, read without the checks below
    text = value.strip()
    if len(text.lstrip("+-")) > _MAX_DIGITS:
        # Out of any sensible range; clamping treats it as "as large as it gets".
        digits = text.lstrip("+-")
        if not digits.isdigit():
            return None
        return -_HUGE if text.startswith("-") else _HUGE
    try:
        return int(text)
    except ValueError:
        return None
