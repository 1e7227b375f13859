"""The pytest plugin's ``discogs_sandbox`` fixture: shared and reset, or built from a marker."""

from __future__ import annotations

import pytest

from discogs_sandbox import Sandbox

pytestmark = pytest.mark.integration


def test_fixture_gives_a_running_sandbox_with_fresh_state(discogs_sandbox: Sandbox) -> None:
    with discogs_sandbox.client() as client:
        folder = client.collection.create_collection_folder("sandbox", name="Temporary")
    assert folder.id in discogs_sandbox.state.folder_ids(discogs_sandbox.state.users["sandbox"])
    assert discogs_sandbox.stats()["requests"] == 1


def test_shared_fixture_is_reset_between_tests(discogs_sandbox: Sandbox) -> None:
    user = discogs_sandbox.state.users["sandbox"]
    assert len(discogs_sandbox.state.folder_ids(user)) == 5
    assert discogs_sandbox.stats()["requests"] == 0


@pytest.mark.discogs_sandbox(collection_size=7, seed=11)
def test_marker_builds_a_sandbox_with_those_options(discogs_sandbox: Sandbox) -> None:
    with discogs_sandbox.client() as client:
        items = list(client.collection.iter_collection_items_by_folder("sandbox", 0))
    assert len(items) == 7
    assert discogs_sandbox.config.seed == 11
