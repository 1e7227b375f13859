"""pytest plugin: check every Discogs response a test suite receives against the spec.

Installed with musicagent (entry point `musicagent-validation`); off until asked for:

    pytest --discogs-validate-responses          # or, in pytest.ini / pyproject.toml:
    [tool.pytest.ini_options]
    discogs_validate_responses = true

For the run, every musicagent client reads every body strictly (whatever it was configured
with), and a test that received a body that does not match the spec fails, naming the operation,
the URL and the first problem, even when the code under test caught the error. A test that means
to receive bad bodies opts out with `@pytest.mark.discogs_allow_invalid_responses`.

Imports only pytest until the option is on.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from musicagent.responses import ResponseOutcome

__all__ = ["ALLOW_MARKER", "OPTION"]

OPTION = "discogs_validate_responses"
ALLOW_MARKER = "discogs_allow_invalid_responses"
_STASH = pytest.StashKey["_Collector"]()


class _Collector:
    """The invalid responses received since the current test started (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: list[ResponseOutcome] = []
        self.stack = ExitStack()

    def __call__(self, outcome: ResponseOutcome) -> None:
        if outcome.error is not None:
            with self._lock:
                self._found.append(outcome)

    def take(self) -> list[ResponseOutcome]:
        with self._lock:
            found, self._found = self._found, []
        return found


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("musicagent")
    group.addoption(
        "--discogs-validate-responses",
        action="store_true",
        dest=OPTION,
        default=None,
        help="Check every Discogs response received through musicagent against the spec "
        "(strict mode for the run); fail the test that received an invalid one.",
    )
    parser.addini(
        OPTION,
        type="bool",
        default=False,
        help="Same as --discogs-validate-responses.",
    )


def _enabled(config: pytest.Config) -> bool:
    option = config.getoption(OPTION)
    return bool(option if option is not None else config.getini(OPTION))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}: this test receives invalid Discogs bodies on purpose "
        "(--discogs-validate-responses does not fail it).",
    )
    if not _enabled(config):
        return
    from musicagent.responses import observe_responses

    collector = _Collector()
    collector.stack.enter_context(observe_responses(collector, strict=True))
    config.stash[_STASH] = collector


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.stash.get(_STASH, None)
    if collector is not None:
        collector.stack.close()
        del config.stash[_STASH]


def _describe(found: list[ResponseOutcome]) -> str:
    lines = [f"received {len(found)} Discogs response(s) that do not match the spec:"]
    for outcome in found[:5]:
        lines.append(f"  {outcome.status} {outcome.error}")
    if len(found) > 5:
        lines.append(f"  … and {len(found) - 5} more")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    collector = item.config.stash.get(_STASH, None)
    if collector is None:
        return (yield)
    collector.take()  # what setup fixtures received belongs to no test body
    try:
        result = yield
    finally:
        found = collector.take()
    if found and item.get_closest_marker(ALLOW_MARKER) is None:
        pytest.fail(_describe(found), pytrace=False)
    return result
