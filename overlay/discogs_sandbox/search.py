"""Database search over the generated catalogue: every documented filter really filters.

The catalogue has twenty million releases made on demand, too many to scan, so search covers
the first :data:`SEARCH_RELEASES` releases with their masters, artists and labels (tens of
thousands of results, as a broad Discogs search has), plus any release found by its barcode,
which is resolved directly. Each filter matches case-insensitively when every word of its value
appears in the entry's field; ``year`` matches the year exactly. A filter an entry's type does
not have (``catno`` on an artist) leaves that entry out. Results are what ``GET /{type}s/{id}``
shows for the same id: the same title, year, label and barcode.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from discogs_sandbox.catalogue import (
    ARTIST_BLOCK,
    ARTIST_COUNT,
    LABEL_BLOCK,
    MASTER_BLOCK,
    Catalogue,
)
from discogs_sandbox.seeding import API_ROOT, IMAGE_ROOT

__all__ = ["FILTERS", "REACHABLE_RESULTS", "SEARCH_RELEASES", "SearchIndex"]

SEARCH_RELEASES = 30_000
"""Releases 1..N are searchable by every filter (all releases by barcode)."""

REACHABLE_RESULTS = 10_000
"""Discogs pages through at most this many results, whatever ``items`` says."""

FILTERS = (
    "q",
    "title",
    "release_title",
    "credit",
    "artist",
    "anv",
    "label",
    "genre",
    "style",
    "country",
    "year",
    "format",
    "catno",
    "barcode",
    "track",
    "submitter",
    "contributor",
)
"""The documented search filters (besides ``type``)."""

_TYPE_ORDER = ("release", "master", "artist", "label")
_BARCODE = re.compile(r"^50(\d{11})$")
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class Entry:
    """One searchable item: its type, id and the release whose facts it shows."""

    kind: str
    id: int
    release_id: int


def _words(value: str) -> list[str]:
    return value.casefold().split()


def _contains(text: str, words: Iterable[str]) -> bool:
    folded = text.casefold()
    return all(word in folded for word in words)


class SearchIndex:
    """The searchable part of one catalogue, with the last searches' results kept."""

    def __init__(self, catalogue: Catalogue, releases: int = SEARCH_RELEASES) -> None:
        self.catalogue = catalogue
        self.releases = releases
        self._lock = threading.Lock()
        self._entries: list[Entry] | None = None
        self._cache: OrderedDict[tuple[Any, ...], list[Entry]] = OrderedDict()

    # --- the corpus ---------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every searchable entry, releases first, then masters, artists and labels."""
        if self._entries is None:
            catalogue = self.catalogue
            releases = [Entry("release", n, n) for n in range(1, self.releases + 1)]
            masters = [
                Entry("master", m, m * MASTER_BLOCK)
                for m in range(1, self.releases // MASTER_BLOCK + 1)
                if catalogue.master_of(m * MASTER_BLOCK) == m
            ]
            artists = [
                Entry("artist", a, (a - 1) * ARTIST_BLOCK + 1)
                for a in range(1, min(ARTIST_COUNT, self.releases // ARTIST_BLOCK) + 1)
            ]
            labels = [
                Entry("label", b, (b - 1) * LABEL_BLOCK + 1)
                for b in range(1, self.releases // LABEL_BLOCK + 1)
            ]
            self._entries = releases + masters + artists + labels
        return self._entries

    # --- matching -----------------------------------------------------------------------------

    def _field(self, entry: Entry, name: str) -> str | None:
        """The text a filter looks at in an entry; None when the entry's type has no such field."""
        catalogue = self.catalogue
        if entry.kind == "artist":
            return catalogue.artist_name(entry.id) if name in ("q", "title", "artist") else None
        if entry.kind == "label":
            return catalogue.label_name(entry.id) if name in ("q", "title", "label") else None
        core = catalogue.release_core(entry.release_id)
        simple = {
            "title": core.artist_title,
            "release_title": core.title,
            "artist": core.artist_name,
            "anv": "",
            "label": core.label_name,
            "country": core.country,
            "year": str(core.year or ""),
            "format": core.format_text,
            "catno": core.catno,
            "barcode": _barcode(core.id),
        }
        if name in simple:
            return simple[name]
        if name == "q":
            return " ".join((*simple.values(), *core.genres, *core.styles))
        if name in ("genre", "style"):
            return " ".join(core.genres if name == "genre" else core.styles)
        if name == "credit":
            return f"{core.artist_name} {catalogue.artist_name(catalogue.extra_artist(core.id))}"
        if name == "track":
            return " ".join(t["title"] for t in catalogue.tracklist(core.id, core))
        if name == "submitter":
            return catalogue.contributors(core.id)[0]
        if name == "contributor":
            return " ".join(catalogue.contributors(core.id))
        return None

    def _matches(self, entry: Entry, filters: Mapping[str, list[str]]) -> bool:
        for name, words in filters.items():
            text = self._field(entry, name)
            if text is None:
                return False
            if name == "year":
                if text != " ".join(words):
                    return False
            elif not _contains(text, words):
                return False
        return True

    def search(self, filters: Mapping[str, str], kind: str | None) -> list[Entry]:
        """Every entry matching all filters (and the type, when given), in a stable order."""
        wanted = {k: v for k, v in filters.items() if k in FILTERS and v.strip()}
        key = (kind, tuple(sorted(wanted.items())))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            words = {name: _words(value) for name, value in wanted.items()}
            found = [
                entry
                for entry in self._candidates(wanted)
                if (kind is None or entry.kind == kind) and self._matches(entry, words)
            ]
            found.sort(key=lambda e: _TYPE_ORDER.index(e.kind))
            self._cache[key] = found
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return found

    def _candidates(self, filters: Mapping[str, str]) -> list[Entry]:
        barcode = _BARCODE.match(filters.get("barcode", "").strip())
        if barcode:
            # Every release is found by its own barcode, inside the corpus or not.
            release_id = int(barcode.group(1))
            if self.catalogue.release_exists(release_id):
                return [Entry("release", release_id, release_id)]
            return []
        return self.entries()

    # --- results ------------------------------------------------------------------------------

    def result(self, entry: Entry, *, signed: bool) -> dict[str, Any]:
        """A search result, with the facts of the item it names."""
        catalogue = self.catalogue
        if entry.kind == "artist":
            return {
                "id": entry.id,
                "type": "artist",
                "title": catalogue.artist_name(entry.id),
                "thumb": f"{IMAGE_ROOT}/artist-{entry.id}-1-150.jpg" if signed else "",
                "cover_image": f"{IMAGE_ROOT}/artist-{entry.id}-1.jpg" if signed else "",
                "uri": f"/artist/{entry.id}",
                "resource_url": f"{API_ROOT}/artists/{entry.id}",
                "master_id": None,
                "master_url": None,
            }
        if entry.kind == "label":
            return {
                "id": entry.id,
                "type": "label",
                "title": catalogue.label_name(entry.id),
                "thumb": f"{IMAGE_ROOT}/label-{entry.id}-1-150.jpg" if signed else "",
                "cover_image": "",
                "uri": f"/label/{entry.id}",
                "resource_url": f"{API_ROOT}/labels/{entry.id}",
            }
        core = catalogue.release_core(entry.release_id)
        have, want, _, _ = catalogue.community(core.id)
        thumb = catalogue.thumb(core, signed=signed)
        result: dict[str, Any] = {
            "style": list(core.styles),
            "thumb": thumb,
            "cover_image": thumb.replace("-150.jpg", ".jpg"),
            "format": [core.format_name, *core.descriptions],
            "country": core.country,
            "barcode": [_barcode(core.id)],
            "community": {"want": want, "have": have},
            "label": [core.label_name],
            "catno": core.catno,
            "year": str(core.year) if core.year else "",
            "genre": list(core.genres),
            "title": core.artist_title,
            "type": entry.kind,
        }
        if entry.kind == "master":
            result.update(
                id=entry.id,
                uri=f"/master/{entry.id}",
                resource_url=f"{API_ROOT}/masters/{entry.id}",
                master_id=entry.id,
                master_url=f"{API_ROOT}/masters/{entry.id}",
            )
            return result
        result.update(
            id=core.id,
            uri=f"/release/{core.id}",
            resource_url=f"{API_ROOT}/releases/{core.id}",
            master_id=core.master_id,
            master_url=f"{API_ROOT}/masters/{core.master_id}" if core.master_id else None,
            format_quantity=int(core.qty),
            formats=[
                {"name": core.format_name, "qty": core.qty, "descriptions": list(core.descriptions)}
            ],
        )
        if signed:
            result["user_data"] = {"in_wantlist": False, "in_collection": False}
        return result


def _barcode(release_id: int) -> str:
    """The barcode the catalogue gives a release (its first identifier)."""
    return f"50{release_id:011d}"
