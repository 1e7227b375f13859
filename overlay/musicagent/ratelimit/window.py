"""The moving window itself: pure functions on a sorted list of send times with weights.

An entry is `(time, units)`: a request we sent or reserved is one unit at its send time; the
requests the server counts but we did not send ("someone else spent them") are one entry of
`n` units at the moment we learned of them. So a server claiming the window is full costs one
entry, whatever number it claims. Every store applies these functions (the Redis store runs the
same rules inside its Lua script), so the rules live here once.

A request sent at `t` counts until `t + span`. `tidy` first forgets what has left the window
and what cannot be real: an entry dated further ahead than any queue of waiters could have
reserved (a clock stepped back, or another process's clock ahead of ours) would otherwise make
every process wait for it.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass

__all__ = [
    "CLOCK_TOLERANCE",
    "HELD_STEPS",
    "Entry",
    "Held",
    "WindowSnapshot",
    "add_unaccounted",
    "admit",
    "earliest_send_time",
    "fill",
    "release",
    "reserve",
    "snapshot",
    "tidy",
    "units",
]

Entry = tuple[float, int]
"""`(send time, units)`: units is 1 for our own requests, more for requests sent by others."""

CLOCK_TOLERANCE = 1.0
"""Seconds an entry may lie ahead of what the queue explains (clock readings of processes
sharing a store are not perfectly ordered)."""

Held = tuple[tuple[float, int], ...]
"""`((until, units), ...)`, `until` increasing: at any time before `until`, at least `units`
units sent no later than a reservation's slot are still in the window (see `admit`)."""

HELD_STEPS = 4
"""Steps of `Held` a reservation describes: enough for the oldest entries to leave the window
during an attempt; past the last step nothing is promised (the response then corrects)."""


@dataclass(frozen=True)
class WindowSnapshot:
    """What a window holds at one moment: units sent so far, all units, seconds to a free slot."""

    used: int
    units: int
    next_free_in: float


_time = operator.itemgetter(0)
_units = operator.itemgetter(1)


def units(entries: list[Entry]) -> int:
    """All units of a window: our requests and reservations, and what others spent."""
    return sum(map(_units, entries))


def tidy(entries: list[Entry], now: float, limit: int, span: float) -> int:
    """Drop entries that left the window and entries dated beyond the window's end.

    A reservation is only ever made `span` after the `limit`-th most recent unit, so the entry
    preceded by `k` units is at most `span * (k // limit)` ahead of `now` (waiters that gave up
    only remove the latest entry, see `release`, so this holds for every stored entry). Anything
    later came from a clock that disagrees with ours; it and everything queued behind it go.
    Returns the units dropped (a store keeping a running total subtracts them).
    """
    expired = bisect.bisect_right(entries, now - span, key=_time)
    dropped = units(entries[:expired]) if expired else 0
    del entries[:expired]
    horizon = now + CLOCK_TOLERANCE
    if not entries or entries[-1][0] <= horizon:
        # Nothing lies ahead of what any queue explains (the usual case): no entry to check.
        return dropped
    # Entries up to `horizon` pass whatever precedes them; check only those after it.
    start = bisect.bisect_right(entries, horizon, key=_time)
    units_before = units(entries[:start])
    for index in range(start, len(entries)):
        sent_at, weight = entries[index]
        if sent_at > now + span * (units_before // limit) + CLOCK_TOLERANCE:
            dropped += units(entries[index:])
            del entries[index:]
            return dropped
        units_before += weight
    return dropped


def earliest_send_time(
    entries: list[Entry], now: float, limit: int, span: float, total: int | None = None
) -> float:
    """The earliest time at or after `now` a request may be sent without breaking the limit.

    `entries` holds the sorted entries still inside the window (some may be reservations in
    the future). Once `limit` units are taken, the next request goes when the `limit`-th most
    recent unit leaves the window. `total` is `units(entries)` when the caller knows it.
    """
    # Never before the latest reservation: callers queue in order, and it keeps the check
    # below exact (every unit is then at or before the new one).
    start = max(now, entries[-1][0]) if entries else now
    # Fewer entries than the limit: only weighted entries could fill it, so count units first
    # (a sum, not a walk) and walk only when the window is full.
    if len(entries) < limit and (units(entries) if total is None else total) < limit:
        return start
    counted = 0
    for sent_at, weight in reversed(entries):
        counted += weight
        if counted >= limit:
            return max(start, sent_at + span)
    return start


def reserve(entries: list[Entry], now: float, limit: int, span: float) -> float:
    """Take the next free slot for one request and return its send time."""
    slot = earliest_send_time(entries, now, limit, span)
    bisect.insort_right(entries, (slot, 1), key=_time)
    return slot


def admit(
    entries: list[Entry], now: float, limit: int, span: float, total: int | None = None
) -> tuple[float, Held]:
    """`reserve`, and what of the window is sure to count while the request is under way.

    The second value lets a response's `X-Discogs-Ratelimit-Used` be checked without opening
    the store again: at a time `t` before a step's `until`, the window still holds at least
    that step's `units` sent by `t` (the entries dated before the slot, then the reservation
    itself). Entries dated before the slot cannot be given back (`release` only takes the
    latest), so they only leave by age, oldest first; entries dated at the slot itself could
    be given back, so they are not counted, except the reservation. `total` is
    `units(entries)` when the caller knows it (the reservation adds one).
    """
    if total is None:
        total = units(entries)
    slot = earliest_send_time(entries, now, limit, span, total)
    # Entries at or after the slot are the few equal to it (the slot is never before the last).
    end = bisect.bisect_left(entries, slot, key=_time)
    remaining = total - units(entries[end:]) + 1
    held: list[tuple[float, int]] = []
    for sent_at, weight in entries[: min(end, HELD_STEPS)]:
        held.append((sent_at + span, remaining))
        remaining -= weight
    if end < HELD_STEPS:
        held.append((slot + span, 1))
    bisect.insort_right(entries, (slot, 1), key=_time)
    return slot, tuple(held)


def release(entries: list[Entry], slot: float) -> int:
    """Give back a reservation whose request was never sent, when nothing is queued behind it.

    A reservation with others after it stays: they were scheduled counting it, and removing it
    from the middle could let a newcomer squeeze in ahead of them (one slot lost, never one too
    many). It also keeps `tidy`'s bound true. Returns the units given back (1 or 0).
    """
    if entries and entries[-1] == (slot, 1):
        del entries[-1]
        return 1
    return 0


def add_unaccounted(
    entries: list[Entry], now: float, server_used: int, total: int | None = None
) -> int:
    """Record that the server counts `server_used` requests so far, when we know of fewer.

    The difference was spent by someone else, we do not know when: assume just now, which keeps
    it in the window longest (the safe side). One entry, whatever the difference. Returns the
    units added; `total` is `units(entries)` when the caller knows it.
    """
    # Entries are sorted: what was sent by now is a prefix, and each holds at least one unit.
    end = bisect.bisect_right(entries, now, key=_time)
    if server_used <= end:
        return 0
    # What is not sent yet are the reservations ahead of now: usually none, or a short queue.
    sent = units(entries[:end]) if total is None else total - units(entries[end:])
    if server_used <= sent:
        return 0
    bisect.insort_right(entries, (now, server_used - sent), key=_time)
    return server_used - sent


def fill(entries: list[Entry], now: float, limit: int, total: int | None = None) -> int:
    """Record a full window (a 429): the next request waits until a unit leaves it.

    Returns the units added; `total` is `units(entries)` when the caller knows it.
    """
    if total is None:
        total = units(entries)
    if limit <= total:
        return 0
    bisect.insort_right(entries, (now, limit - total), key=_time)
    return limit - total


def snapshot(
    entries: list[Entry], now: float, limit: int, span: float, total: int | None = None
) -> WindowSnapshot:
    """Units sent so far, all units (reservations included) and seconds until a slot frees."""
    if total is None:
        total = units(entries)
    used = total - units(entries[bisect.bisect_right(entries, now, key=_time) :])
    next_free = earliest_send_time(entries, now, limit, span, total)
    return WindowSnapshot(used=used, units=total, next_free_in=next_free - now)
