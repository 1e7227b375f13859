"""The sandbox state: writes over generated data, lookups, reset, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from discogs_sandbox import SandboxConfig
from discogs_sandbox.state import SandboxState, StateError


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(SandboxConfig(collection_size=50, wantlist_size=30))


def test_added_instance_comes_first_and_counts(state: SandboxState) -> None:
    user = state.users["sandbox"]
    instance_id = state.add_instance(user, 1, 123)
    view = state.collection_view(user, 0)
    assert len(view) == 51
    assert state.instance(user, view.window(0, 1)[0])["instance_id"] == instance_id
    assert state.instances_of_release(user, 123) == [view.window(0, 1)[0]]


def test_generated_instances_are_found_by_id_and_by_release(state: SandboxState) -> None:
    user = state.users["vinyl.collector"]
    base = state.instance(user, 17)
    assert state.find_instance(user, base["instance_id"]) == 17
    assert 17 in state.instances_of_release(user, base["release_id"])


def test_moves_and_removals_change_folder_views(state: SandboxState) -> None:
    user = state.users["sandbox"]
    folder = state.create_folder(user, "Moved here")
    state.edit_instance(user, 3, rating=5, folder_id=folder)
    state.remove_instance(user, 4)
    assert list(state.collection_view(user, folder)) == [3]
    assert 4 not in list(state.collection_view(user, 0))
    assert state.instance(user, 3)["rating"] == 5
    assert sum(state.collection_count(user, f) for f in state.folder_ids(user)[1:]) == 49
    with pytest.raises(StateError):
        state.delete_folder(user, folder)


def test_sorted_views_order_by_the_key(state: SandboxState) -> None:
    user = state.users["sandbox"]
    years = [
        state.catalogue.release_core(state.instance(user, ref)["release_id"]).year
        for ref in state.collection_view(user, 0, "year", "desc")
    ]
    assert years == sorted(years, reverse=True)


def test_wantlist_positions_and_releases_map_both_ways(state: SandboxState) -> None:
    user = state.users["sandbox"]
    for index in (0, 7, 29):
        release_id = state.holdings.want_release(user, index)
        assert state.find_want(user, release_id) == index
    ref = state.put_want(user, 5, "note", 4)
    assert state.want_view(user).window(0, 1) == [ref]
    state.remove_want(user, 0)
    assert len(state.want_view(user)) == 30


def test_reset_forgets_every_write(state: SandboxState) -> None:
    user = state.users["sandbox"]
    state.add_instance(user, 1, 5)
    state.create_folder(user, "x")
    state.reset()
    assert len(state.collection_view(user, 0)) == 50
    assert len(state.folder_ids(user)) == 5


def test_writes_from_many_threads_are_all_kept(state: SandboxState) -> None:
    user = state.users["sandbox"]
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda n: state.add_instance(user, 1, n + 1), range(200)))
    assert len(set(ids)) == 200
    assert len(state.collection_view(user, 0)) == 250
