"""The garbage collector while the command line starts: paused, then told to skip startup.

A `musicagent` process imports a few thousand classes, schemas and functions before its first
request. Python's cyclic collector, running on its usual schedule, walks that growing heap again
and again while they load (about a tenth of a one-request command's time) and, later, in every
full collection of a long export (about a tenth of its CPU), though none of it is ever garbage.
So the command line pauses the collector while it starts and, once the command's modules are
loaded, moves everything alive into the collector's permanent generation (`gc.freeze`) and
turns it back on: from then on it only looks at what the command itself creates.

This is the command line's own process; the library never changes the collector of a program
that imports it.
"""

from __future__ import annotations

import gc

__all__ = ["pause", "restore", "resume"]

_paused = False


def pause() -> None:
    """Stop cyclic collection while the command line loads (no-op when it is already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what startup created and collect again; only undoes `pause` (safe to repeat)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def restore() -> None:
    """Collect again if startup never reached `resume` (a command that failed while loading):
    called when `main` returns, so a caller of `main` in its own process keeps its collector."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
