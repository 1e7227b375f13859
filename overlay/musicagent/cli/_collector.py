"""The garbage collector while the command line starts: paused, then told to skip startup.

A `musicagent` process imports a few thousand classes, schemas and functions before its first
request. Python's cyclic collector, running on its usual schedule, walks that growing heap again
and again while they load (about a tenth of a one-request command's time) and, later, in every
full collection of a long export (about a tenth of its CPU), though none of it is ever garbage.
So the command line pauses the collector while it starts and, once the command's modules are
loaded, moves everything alive into the collector's permanent generation (`gc.freeze`) and
turns it back on: from then on it only looks at what the command itself creates.

A command also runs with a larger first-generation threshold (`COMMAND_THRESHOLD` rather than
Python's 700). A page of 100 collection items parsed into models is a few thousand objects
alive at once: at 700 every page set off several young collections (and their promotions to
older generations) that found nothing to free, about a tenth of an export's CPU. With room
for a page, collections come from the few objects each response leaves in reference cycles,
which keeps memory as bounded as before (each cycle holds one response until collected).

This is the command line's own process; the library never changes the collector of a program
that imports it, and `main()` gives a caller its thresholds back.
"""

from __future__ import annotations

import gc

__all__ = ["COMMAND_THRESHOLD", "pause", "restore", "resume"]

COMMAND_THRESHOLD = 5_000
"""Allocations (net of frees) between young collections while a command runs: room for a page
of parsed items. Above it the garbage that response cycles hold waits longer (measured on a
100,000-item export: 5,000 kept peak memory within 6 MB of the default, 20,000 added 36 MB)."""

_paused = False
_caller_threshold: tuple[int, int, int] | None = None


def pause() -> None:
    """Stop cyclic collection while the command line loads (no-op when it is already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what startup created and collect again; only undoes `pause` (safe to repeat)."""
    global _paused, _caller_threshold
    if _paused:
        _paused = False
        gc.freeze()
        threshold = gc.get_threshold()
        if _caller_threshold is None:
            _caller_threshold = threshold
        gc.set_threshold(max(threshold[0], COMMAND_THRESHOLD), threshold[1], threshold[2])
        gc.enable()


def restore() -> None:
    """Give the collector back as `main` found it: on again if startup never reached `resume`
    (a command that failed while loading), with the caller's thresholds. Called when `main`
    returns, so a caller of `main` in its own process keeps its collector."""
    global _paused, _caller_threshold
    if _caller_threshold is not None:
        gc.set_threshold(*_caller_threshold)
        _caller_threshold = None
    if _paused:
        _paused = False
        gc.enable()
