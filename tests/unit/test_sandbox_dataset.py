"""The generated dataset: deterministic, consistent, spec-valid, odd where Discogs is odd."""

from __future__ import annotations

from collections import Counter

from discogs_sandbox import SandboxConfig
from discogs_sandbox.catalogue import ARTIST_BLOCK, Catalogue
from discogs_sandbox.search import SearchIndex
from discogs_sandbox.state import SandboxState
from musicagent.validation import bundled_validator

SAMPLE = range(1, 4000, 13)


def _valid(schema: str, body: object) -> list[str]:
    pointer = f"/components/schemas/{schema}"
    return [str(p) for p in bundled_validator().validate_schema(pointer, body)]


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert Catalogue(1).release(42, signed=True) == Catalogue(1).release(42, signed=True)
    assert Catalogue(1).release(42, signed=True) != Catalogue(2).release(42, signed=True)


def test_generated_database_items_match_their_schemas() -> None:
    catalogue = Catalogue(0)
    index = SearchIndex(catalogue)
    entries = index.entries()
    problems = []
    for n in SAMPLE:
        problems += _valid("Release", catalogue.release(n, signed=n % 2 == 0))
        problems += _valid("Artist", catalogue.artist(n, signed=True))
        problems += _valid("Label", catalogue.label(n, signed=False))
        problems += _valid("BasicInformation", catalogue.basic_information(n, signed=True))
        problems += _valid(
            "SearchResult", index.result(entries[(n * 997) % len(entries)], signed=True)
        )
    for master_id in range(1, 60):
        problems += _valid("Master", catalogue.master(master_id, signed=True))
    assert problems == []


def test_odd_values_of_real_data_appear() -> None:
    catalogue = Catalogue(0)
    releases = [catalogue.release(n, signed=False) for n in SAMPLE]
    shapes = Counter(
        "absent" if "master_id" not in r else repr(r["master_id"])[:4] for r in releases
    )
    assert any(r["year"] == 0 for r in releases)
    assert any(r["released"].endswith("-00-00") for r in releases)
    assert shapes["None"] and shapes["absent"] and shapes["0"]
    assert any(r["thumb"] == "" for r in releases)
    assert any("notes" not in r for r in releases) and any(r.get("notes") is None for r in releases)
    assert any(any(not ch.isascii() for ch in r["title"]) for r in releases)
    assert any(t.get("sub_tracks") for r in releases for t in r["tracklist"])


def test_links_between_items_agree() -> None:
    catalogue = Catalogue(0)
    for master_id in (5, 77, 1234):
        for release_id in catalogue.master_version_ids(master_id):
            assert catalogue.release(release_id, signed=False)["master_id"] == master_id
    artist_id = 321
    entries = catalogue.artist_release_entries(artist_id, signed=False)
    main = [e for e in entries if e["role"] == "Main"]
    release_ids = [e["id"] for e in main if e["type"] == "release"]
    assert len(main) == ARTIST_BLOCK
    assert all(catalogue.release_core(r).artist_id == artist_id for r in release_ids)
    credited = [e["id"] for e in entries if e["role"] != "Main"]
    assert credited and all(catalogue.extra_artist(r) == artist_id for r in credited)


def test_a_collection_of_100000_items_is_made_lazily() -> None:
    state = SandboxState(SandboxConfig(collection_size=100_000))
    user = state.users["sandbox"]
    view = state.collection_view(user, 0)
    assert len(view) == 100_000
    assert view.tail is None  # nothing materialised for the untouched "All" folder
    last = view.window(99_990, 100_010)
    assert len(last) == 10
    item = state.instance(user, last[-1])
    assert item["instance_id"] == user.instance_base + 99_999
    folder_counts = [state.collection_count(user, f) for f in state.folder_ids(user)[1:]]
    assert sum(folder_counts) == 100_000


def test_every_user_starts_with_the_documented_shape() -> None:
    state = SandboxState(SandboxConfig(collection_size=20, inventory_size=10, order_count=3))
    assert list(state.users) == ["sandbox", "vinyl.collector", "crate_digger", "record-shop"]
    sandbox = state.users["sandbox"]
    assert state.folder_ids(sandbox)[:2] == [0, 1]
    assert len(state.inventory(state.users["record-shop"])) == 30
    assert len(state.user_orders(sandbox)) == 3
    assert all(order["messages"] for order in state.user_orders(sandbox))
