"""pytest plugin: the ``discogs_sandbox`` fixture, a running Discogs sandbox per test.

Enabled through the ``pytest11`` entry point of musicagent (or ``-p
discogs_sandbox.pytest_plugin``). One server is shared by the whole session and reset before
each test (generated data back, counters at zero, faults off); a test marked
``@pytest.mark.discogs_sandbox(collection_size=10, rate_limit=5, rate_window=1, p5xx=0.2)``
gets a server of its own with those options::

    def test_my_code_reads_a_release(discogs_sandbox):
        client = discogs_sandbox.client()
        assert client.database.get_release(1).id == 1

    @pytest.mark.discogs_sandbox(rate_limit=3, rate_window=1)
    def test_my_code_survives_the_rate_limit(discogs_sandbox): ...

Importing this module needs nothing beyond pytest; the fixture needs the ``sandbox`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from discogs_sandbox.server import Sandbox

MARKER = "discogs_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``discogs_sandbox`` marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): run this test against a Discogs sandbox of its own, built with "
        "these SandboxConfig / FaultConfig options",
    )


def _sandbox_class() -> type[Sandbox]:
    try:
        from discogs_sandbox.server import Sandbox
    except ModuleNotFoundError as exc:
        from discogs_sandbox import INSTALL_HINT

        pytest.skip(f"{INSTALL_HINT} ({exc.name} is missing)")
    return Sandbox


@pytest.fixture(scope="session")
def discogs_sandbox_session() -> Iterator[Sandbox]:
    """One Discogs sandbox for the whole test session (use ``discogs_sandbox`` in tests)."""
    with _sandbox_class()() as sandbox:
        yield sandbox


@pytest.fixture
def discogs_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running Discogs sandbox on loopback, fresh for this test (see the module docs)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and (marker.kwargs or marker.args):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword options only")
        with _sandbox_class()(**marker.kwargs) as sandbox:
            yield sandbox
        return
    shared: Sandbox = request.getfixturevalue("discogs_sandbox_session")
    shared.reset()
    yield shared
