"""The generated Discogs database of the sandbox: releases, masters, artists, labels, search.

Ids are laid out so that links agree without storing anything:

- releases 1 … ``RELEASE_COUNT``;
- artist *a* made releases ``25(a-1)+1 … 25a``; label *l* released ``40(l-1)+1 … 40l``;
- master *m* groups releases ``7m … 7m+n-1`` (n from 1 to 6) and its main release is ``7m``;
  other releases have no master (``master_id`` null, 0 or absent, as real data varies).

Bodies look like the real API's, odd corners included: ``year: 0``, ``released: "1987-00-00"``,
missing notes, empty thumbnails, unicode names, headings and index tracks with ``sub_tracks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from discogs_sandbox.seeding import API_ROOT, IMAGE_ROOT, WEB_ROOT, mix, pick, rng, unit

RELEASE_COUNT = 20_000_000
ARTIST_BLOCK = 25
LABEL_BLOCK = 40
MASTER_BLOCK = 7
ARTIST_COUNT = RELEASE_COUNT // ARTIST_BLOCK
LABEL_COUNT = RELEASE_COUNT // LABEL_BLOCK
MASTER_COUNT = RELEASE_COUNT // MASTER_BLOCK - 1

_ARTIST_NAMES = (
    "Björk Guðmundsdóttir",
    "Sigur Rós",
    "Mötley Crüe",
    "Молчат Дома",
    "坂本龍一",
    "Os Mutantes",
    "Françoise Hardy",
    "Ólafur Arnalds",
    "The Persuader",
    "Nils Frahm",
    "Kraftwerk",
    "Sade",
    "DJ Shadow",
    "Mdou Moctar",
    "Yellow Magic Orchestra",
    "Łona i Webber",
    "Khruangbin",
    "Ali Farka Touré",
    "Café Tacvba",
    "Boards Of Canada",
    "Ryuichi & The Strangers",
    "Jürgen Paape",
    "Ester Rada",
    "Tinariwen",
)
_TITLE_WORDS = (
    "Midnight",
    "Ström",
    "Garden",
    "Echoes",
    "Kaleidoscope",
    "夜明け",
    "Noir",
    "Sous La Pluie",
    "Horizon",
    "Résonance",
    "Dub",
    "Electric",
    "Blue",
    "Sommernacht",
    "Orbit",
    "Ночь",
    "Waves",
    "Velvet",
    "Sunrise",
    "Żywioł",
)
_LABEL_NAMES = (
    "Planet E",
    "Warp Records",
    "Ninja Tune",
    "Sub Pop",
    "ECM Records",
    "Disques Vogue",
    "Toshiba EMI",
    "Mélodie Records",
    "Kompakt",
    "Rough Trade",
    "Blue Note",
    "Sähkö Recordings",
)
_FORMATS = (
    ("Vinyl", ("LP", "Album")),
    ("Vinyl", ('12"', "33 ⅓ RPM", "EP")),
    ("Vinyl", ('7"', "45 RPM", "Single")),
    ("CD", ("Album",)),
    ("Cassette", ("Album",)),
    ("File", ("MP3", "Album")),
    ("Box Set", ("Compilation",)),
)
_COUNTRIES = ("UK", "US", "Germany", "France", "Japan", "Brazil", "Poland", "Iceland", "", "Europe")
_GENRES = (
    ("Electronic", ("Techno", "Ambient")),
    ("Rock", ("Psychedelic Rock", "Post Rock")),
    ("Jazz", ("Modal", "Hard Bop")),
    ("Pop", ("Synth-pop", "Euro-Disco")),
    ("Folk, World, & Country", ("Desert Blues",)),
    ("Hip Hop", ("Instrumental",)),
)
_QUALITIES = ("Correct", "Needs Vote", "Complete and Correct", "Needs Minor Changes")
_ROLES = ("Producer", "Written-By", "Mastered By", "Design", "Engineer", "Mixed By")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """A Discogs timestamp: ISO 8601 with a -07:00 offset (the API's local time)."""
    local = moment.astimezone(UTC) - timedelta(hours=7)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + "-07:00"


def past(seconds: float) -> datetime:
    """The dataset's 'now' minus some seconds (generated dates never depend on the clock)."""
    return _EPOCH - timedelta(seconds=seconds)


def slug(text: str) -> str:
    """A URL slug like the ones in discogs.com page URLs."""
    kept = "".join(c if c.isalnum() else "-" for c in text)
    return "-".join(part for part in kept.split("-") if part) or "item"


def image(kind: str, item_id: int, number: int, *, signed: bool) -> dict[str, Any]:
    """An image object; its URLs are empty strings unless ``signed`` (authenticated request)."""
    url = f"{IMAGE_ROOT}/{kind}-{item_id}-{number}.jpg" if signed else ""
    thumb = f"{IMAGE_ROOT}/{kind}-{item_id}-{number}-150.jpg" if signed else ""
    return {
        "type": "primary" if number == 1 else "secondary",
        "uri": url,
        "resource_url": url,
        "uri150": thumb,
        "width": 600,
        "height": 600 if number == 1 else 450,
    }


@dataclass(frozen=True, slots=True)
class ReleaseCore:
    """The few facts of a release every list entry needs (cheap to make, cached)."""

    id: int
    title: str
    artist_id: int
    artist_name: str
    label_id: int
    label_name: str
    catno: str
    format_name: str
    descriptions: tuple[str, ...]
    qty: str
    year: int
    released: str
    released_formatted: str
    country: str
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    master_id: int | None
    master_style: str
    has_image: bool

    @property
    def artist_title(self) -> str:
        """``Artist - Title`` as search results and listings show it."""
        return f"{self.artist_name} - {self.title}"

    @property
    def format_text(self) -> str:
        """``Vinyl, LP, Album`` as list entries show the format."""
        return ", ".join((self.format_name, *self.descriptions))


class Catalogue:
    """The generated Discogs database for one seed; every item is made on demand."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        # Bounded: a 100,000-item crawl touches each release once; the cache only helps
        # repeats, and holds the whole searchable part of the catalogue.
        self.release_core = lru_cache(maxsize=40_000)(self._release_core)
        self.artist_name = lru_cache(maxsize=20_000)(self._artist_name)  # type: ignore[method-assign]
        self.label_name = lru_cache(maxsize=20_000)(self._label_name)  # type: ignore[method-assign]

    # --- names ------------------------------------------------------------------------------

    def artist_name(self, artist_id: int) -> str:
        """Name of a generated artist; some carry a Discogs-style "(2)" suffix."""
        return self._artist_name(artist_id)

    def label_name(self, label_id: int) -> str:
        """Name of a generated label."""
        return self._label_name(label_id)

    def _artist_name(self, artist_id: int) -> str:
        name = pick(_ARTIST_NAMES, self.seed, "artist-name", artist_id)
        if artist_id > len(_ARTIST_NAMES):
            name = f"{name} ({artist_id % 97 + 2})"
        return name

    def _label_name(self, label_id: int) -> str:
        name = pick(_LABEL_NAMES, self.seed, "label-name", label_id)
        return name if label_id <= len(_LABEL_NAMES) else f"{name} ({label_id % 89 + 2})"

    # --- releases -----------------------------------------------------------------------------

    @staticmethod
    def release_exists(release_id: int) -> bool:
        """Whether a release id is in the dataset."""
        return 1 <= release_id <= RELEASE_COUNT

    def master_versions_count(self, master_id: int) -> int:
        """How many releases a master groups (1-6)."""
        return 1 + mix(self.seed, "master-size", master_id) % 6

    def master_of(self, release_id: int) -> int | None:
        """The master a release belongs to, if any."""
        master_id, offset = divmod(release_id, MASTER_BLOCK)
        if 1 <= master_id <= MASTER_COUNT and offset < self.master_versions_count(master_id):
            return master_id
        return None

    def _release_core(self, release_id: int) -> ReleaseCore:
        r = rng(self.seed, "release", release_id)
        words = r.sample(_TITLE_WORDS, r.randint(1, 3))
        title = " ".join(words)
        artist_id = (release_id - 1) // ARTIST_BLOCK + 1
        label_id = (release_id - 1) // LABEL_BLOCK + 1
        format_name, descriptions = r.choice(_FORMATS)
        genre, styles = r.choice(_GENRES)
        year = r.randint(1958, 2023)
        shape = r.random()
        if shape < 0.05:
            year, released, formatted = 0, "", ""
        elif shape < 0.25:
            released, formatted = f"{year}-00-00", str(year)
        elif shape < 0.4:
            month = r.randint(1, 12)
            released, formatted = f"{year}-{month:02d}-00", f"{_MONTHS[month - 1]} {year}"
        else:
            month, day = r.randint(1, 12), r.randint(1, 28)
            released = f"{year}-{month:02d}-{day:02d}"
            formatted = f"{day:02d} {_MONTHS[month - 1]} {year}"
        master_id = self.master_of(release_id)
        master_style = "id" if master_id is not None else r.choice(("null", "absent", "zero"))
        catno = r.choice(("none", "", f"{label_id % 900 + 100}-{release_id % 10000:04d}"))
        return ReleaseCore(
            id=release_id,
            title=title,
            artist_id=artist_id,
            artist_name=self.artist_name(artist_id),
            label_id=label_id,
            label_name=self.label_name(label_id),
            catno=catno,
            format_name=format_name,
            descriptions=descriptions,
            qty=str(r.choice((1, 1, 1, 2))),
            year=year,
            released=released,
            released_formatted=formatted,
            country=r.choice(_COUNTRIES),
            genres=(genre,),
            styles=styles[: r.randint(0, len(styles))],
            master_id=master_id,
            master_style=master_style,
            has_image=r.random() > 0.1,
        )

    def thumb(self, core: ReleaseCore, *, signed: bool) -> str:
        """Thumbnail URL of a release ("" without image or when not authenticated)."""
        if not (core.has_image and signed):
            return ""
        return f"{IMAGE_ROOT}/release-{core.id}-1-150.jpg"

    def basic_information(self, release_id: int, *, signed: bool) -> dict[str, Any]:
        """The ``basic_information`` of collection and wantlist items."""
        core = self.release_core(release_id)
        info: dict[str, Any] = {
            "id": core.id,
            "master_id": core.master_id if core.master_style == "id" else None,
            "master_url": (
                f"{API_ROOT}/masters/{core.master_id}" if core.master_style == "id" else None
            ),
            "resource_url": f"{API_ROOT}/releases/{core.id}",
            "thumb": self.thumb(core, signed=signed),
            "cover_image": self.thumb(core, signed=signed).replace("-150.jpg", ".jpg"),
            "title": core.title,
            "year": core.year,
            "formats": [
                {"name": core.format_name, "qty": core.qty, "descriptions": list(core.descriptions)}
            ],
            "labels": [
                {
                    "name": core.label_name,
                    "catno": core.catno,
                    "entity_type": "1",
                    "entity_type_name": "Label",
                    "id": core.label_id,
                    "resource_url": f"{API_ROOT}/labels/{core.label_id}",
                }
            ],
            "artists": [self.credit(core.artist_id)],
            "genres": list(core.genres),
            "styles": list(core.styles),
        }
        if core.master_style == "zero":
            info["master_id"] = 0
        return info

    def credit(self, artist_id: int, role: str = "", join: str = "") -> dict[str, Any]:
        """An artist credit as releases list them."""
        return {
            "name": self.artist_name(artist_id),
            "anv": "",
            "join": join,
            "role": role,
            "tracks": "",
            "id": artist_id,
            "resource_url": f"{API_ROOT}/artists/{artist_id}",
        }

    def community(self, release_id: int) -> tuple[int, int, float, int]:
        """(have, want, rating average, rating count) of a release."""
        r = rng(self.seed, "community", release_id)
        count = r.randint(0, 400)
        average = round(r.uniform(2.5, 5.0), 2) if count else 0
        return r.randint(0, 5000), r.randint(0, 2000), average, count

    def for_sale(self, release_id: int) -> tuple[int, float | None, bool]:
        """(copies for sale, lowest price in USD or None, blocked from sale)."""
        r = rng(self.seed, "for-sale", release_id)
        blocked = r.random() < 0.02
        count = 0 if blocked or r.random() < 0.2 else r.randint(1, 120)
        return count, (round(r.uniform(0.5, 80.0), 2) if count else None), blocked

    def release(self, release_id: int, *, signed: bool) -> dict[str, Any]:
        """The full body of ``GET /releases/{id}``."""
        core = self.release_core(release_id)
        r = rng(self.seed, "release-detail", release_id)
        have, want, average, count = self.community(release_id)
        for_sale, lowest, blocked = self.for_sale(release_id)
        quality = r.choice(_QUALITIES)
        contributors = [
            {"username": name, "resource_url": f"{API_ROOT}/users/{name}"}
            for name in self.contributors(release_id)
        ]
        body: dict[str, Any] = {
            "id": core.id,
            "status": "Accepted",
            "year": core.year,
            "resource_url": f"{API_ROOT}/releases/{core.id}",
            "uri": f"{WEB_ROOT}/release/{core.id}-{slug(core.artist_title)}",
            "artists": [self.credit(core.artist_id)],
            "artists_sort": core.artist_name,
            "labels": self.basic_information(release_id, signed=signed)["labels"],
            "series": [],
            "companies": [
                {
                    "name": f"{core.label_name} Pressing Plant",
                    "catno": "",
                    "entity_type": "17",
                    "entity_type_name": "Pressed By",
                    "id": core.label_id + 1,
                    "resource_url": f"{API_ROOT}/labels/{core.label_id + 1}",
                }
            ],
            "formats": [
                {"name": core.format_name, "qty": core.qty, "descriptions": list(core.descriptions)}
            ],
            "data_quality": quality,
            "community": {
                "have": have,
                "want": want,
                "rating": {"count": count, "average": average},
                "submitter": contributors[0],
                "contributors": contributors,
                "data_quality": quality,
                "status": "Accepted",
            },
            "format_quantity": int(core.qty),
            "date_added": timestamp(past(release_id * 7.0)),
            "date_changed": timestamp(past(release_id * 3.0)),
            "num_for_sale": for_sale,
            "lowest_price": lowest,
            "title": core.title,
            "country": core.country,
            "released": core.released,
            "released_formatted": core.released_formatted,
            "identifiers": [
                {"type": "Barcode", "value": f"50{release_id:011d}"},
                {"type": "Matrix / Runout", "value": f"SBX {release_id} A", "description": "A"},
            ],
            "videos": [],
            "genres": list(core.genres),
            "styles": list(core.styles),
            "tracklist": self.tracklist(release_id, core),
            "extraartists": [self.credit(self.extra_artist(release_id), role=r.choice(_ROLES))],
            "images": (
                [image("release", core.id, n, signed=signed) for n in (1, 2)]
                if core.has_image
                else []
            ),
            "thumb": self.thumb(core, signed=signed),
            "estimated_weight": r.choice((230, 115, 85, None)),
            "blocked_from_sale": blocked,
            "is_offensive": False,
        }
        if core.master_style == "id":
            body["master_id"] = core.master_id
            body["master_url"] = f"{API_ROOT}/masters/{core.master_id}"
        elif core.master_style == "null":
            body["master_id"] = None
            body["master_url"] = None
        elif core.master_style == "zero":
            body["master_id"] = 0
        shape = r.random()
        if shape < 0.6:
            body["notes"] = f"Recorded at Studio Ström, Reykjavík.\n[b]Release {release_id}[/b]"
        elif shape < 0.7:
            body["notes"] = None
        if r.random() < 0.3:
            body["videos"] = [
                {
                    "uri": f"https://www.youtube.com/watch?v=sbx{release_id}",
                    "title": f"{core.artist_name} - {core.title}",
                    "description": r.choice((f"{core.title} (official audio)", "", None)),
                    "duration": r.randint(120, 600),
                    "embed": True,
                }
            ]
        return body

    def contributors(self, release_id: int) -> list[str]:
        """Usernames of who submitted (the first) and edited a release."""
        names = ("memory", "vargind", "hog", "ørjan", "_80_", "jan_marian")
        return rng(self.seed, "contributors", release_id).sample(names, 2)

    @staticmethod
    def extra_artist(release_id: int) -> int:
        """The artist credited besides the main one (``extraartists``)."""
        return 1 + (release_id * 31) % ARTIST_COUNT

    def tracklist(self, release_id: int, core: ReleaseCore) -> list[dict[str, Any]]:
        """A tracklist; some have a heading and an index track with sub-tracks."""
        r = rng(self.seed, "tracks", release_id)
        tracks: list[dict[str, Any]] = []
        vinyl = core.format_name == "Vinyl"
        count = r.randint(2, 10)
        if r.random() < 0.15:
            tracks.append({"position": "", "type_": "heading", "title": "Side One", "duration": ""})
        for n in range(1, count + 1):
            position = f"{'AB'[(n - 1) * 2 // count]}{n}" if vinyl else str(n)
            track: dict[str, Any] = {
                "position": position,
                "type_": "track",
                "title": " ".join(r.sample(_TITLE_WORDS, 2)),
                "duration": r.choice(("", f"{r.randint(2, 9)}:{r.randint(0, 59):02d}")),
            }
            if n == count and r.random() < 0.2:
                track["type_"] = "index"
                track["sub_tracks"] = [
                    {
                        "position": f"{position}.{part}",
                        "type_": "track",
                        "title": f"Part {part}",
                        "duration": "",
                    }
                    for part in "abc"
                ]
            if r.random() < 0.1:
                track["extraartists"] = [self.credit(core.artist_id + 1, role="Remix")]
            tracks.append(track)
        # A split or compilation credits its artists per track.
        if unit(self.seed, "track-artists", release_id) < 0.3:
            for number, track in enumerate(tracks):
                if track["type_"] != "heading":
                    guest = 1 + (core.artist_id + number) % ARTIST_COUNT
                    track["artists"] = [self.credit(guest if number % 2 else core.artist_id)]
        return tracks

    # --- masters ------------------------------------------------------------------------------

    @staticmethod
    def master_exists(master_id: int) -> bool:
        """Whether a master id is in the dataset."""
        return 1 <= master_id <= MASTER_COUNT

    def master_version_ids(self, master_id: int) -> list[int]:
        """Release ids of a master's versions (the main release first)."""
        first = master_id * MASTER_BLOCK
        return [first + k for k in range(self.master_versions_count(master_id))]

    def master(self, master_id: int, *, signed: bool) -> dict[str, Any]:
        """The body of ``GET /masters/{id}``."""
        main = self.release(master_id * MASTER_BLOCK, signed=signed)
        versions = self.master_version_ids(master_id)
        body: dict[str, Any] = {
            "id": master_id,
            "main_release": versions[0],
            "most_recent_release": versions[-1],
            "resource_url": f"{API_ROOT}/masters/{master_id}",
            "uri": f"{WEB_ROOT}/master/{master_id}-{slug(main['title'])}",
            "versions_url": f"{API_ROOT}/masters/{master_id}/versions",
            "main_release_url": f"{API_ROOT}/releases/{versions[0]}",
            "most_recent_release_url": f"{API_ROOT}/releases/{versions[-1]}",
            "num_for_sale": main["num_for_sale"],
            "lowest_price": main["lowest_price"],
            "images": main["images"],
            "genres": main["genres"],
            "styles": main["styles"],
            "year": main["year"],
            "tracklist": main["tracklist"],
            "artists": main["artists"],
            "title": main["title"],
            "data_quality": main["data_quality"],
            "videos": main["videos"],
        }
        if "notes" in main:
            body["notes"] = main["notes"]
        return body

    def master_version(self, release_id: int, *, signed: bool, user: bool) -> dict[str, Any]:
        """One entry of ``GET /masters/{id}/versions``."""
        core = self.release_core(release_id)
        have, want, _, _ = self.community(release_id)
        entry: dict[str, Any] = {
            "id": release_id,
            "label": core.label_name,
            "country": core.country,
            "title": core.title,
            "major_formats": [core.format_name],
            "format": core.format_text,
            "catno": core.catno,
            "released": str(core.year) if core.year else "",
            "status": "Accepted",
            "resource_url": f"{API_ROOT}/releases/{release_id}",
            "thumb": self.thumb(core, signed=signed),
            "stats": {"community": {"in_wantlist": want, "in_collection": have}},
        }
        if user:
            entry["stats"]["user"] = {"in_wantlist": 0, "in_collection": 0}
        return entry

    # --- artists and labels ---------------------------------------------------------------------

    @staticmethod
    def artist_exists(artist_id: int) -> bool:
        """Whether an artist id is in the dataset."""
        return 1 <= artist_id <= ARTIST_COUNT

    def artist(self, artist_id: int, *, signed: bool) -> dict[str, Any]:
        """The body of ``GET /artists/{id}``."""
        r = rng(self.seed, "artist", artist_id)
        name = self.artist_name(artist_id)
        body: dict[str, Any] = {
            "id": artist_id,
            "name": name,
            "resource_url": f"{API_ROOT}/artists/{artist_id}",
            "uri": f"{WEB_ROOT}/artist/{artist_id}-{slug(name)}",
            "releases_url": f"{API_ROOT}/artists/{artist_id}/releases",
            "profile": r.choice((f"[b]{name}[/b] is an artist of the sandbox.", "")),
            "namevariations": [name.upper(), name.split(" (")[0]],
            "urls": [f"https://{slug(name).lower()}.example.com"],
            "images": [image("artist", artist_id, 1, signed=signed)],
            "data_quality": r.choice(_QUALITIES),
        }
        if r.random() < 0.3:
            body["realname"] = r.choice((None, f"{name.split(' ')[0]} Jónsdóttir"))
        if r.random() < 0.3:
            body["members"] = [
                {
                    "id": member,
                    "name": self.artist_name(member),
                    "resource_url": f"{API_ROOT}/artists/{member}",
                    "active": bool(member % 2),
                }
                for member in (artist_id + 1, artist_id + 2)
                if self.artist_exists(member)
            ]
        links = rng(self.seed, "artist-links", artist_id)
        body["aliases"] = [
            self._artist_ref(other)
            for other in (artist_id + 7, artist_id + 11)[: links.randint(1, 2)]
            if self.artist_exists(other)
        ]
        if "members" not in body and links.random() < 0.5:
            body["groups"] = [
                {**self._artist_ref(group), "active": links.random() < 0.7}
                for group in (artist_id - 1, artist_id - 2)
                if self.artist_exists(group)
            ]
        return body

    def _artist_ref(self, artist_id: int) -> dict[str, Any]:
        return {
            "id": artist_id,
            "name": self.artist_name(artist_id),
            "resource_url": f"{API_ROOT}/artists/{artist_id}",
        }

    def extra_credit_releases(self, artist_id: int, limit: int = 3) -> list[int]:
        """Releases crediting an artist besides its own (``extraartists``), the first few."""
        inverse = pow(31, -1, ARTIST_COUNT)
        first = ((artist_id - 1) * inverse) % ARTIST_COUNT or ARTIST_COUNT
        found = []
        for release_id in range(first, RELEASE_COUNT + 1, ARTIST_COUNT):
            if self.extra_artist(release_id) == artist_id:
                found.append(release_id)
            if len(found) == limit:
                break
        return found

    def artist_release_entries(self, artist_id: int, *, signed: bool) -> list[dict[str, Any]]:
        """Entries of ``GET /artists/{id}/releases`` (releases, and masters they belong to)."""
        entries: list[dict[str, Any]] = []
        first = (artist_id - 1) * ARTIST_BLOCK + 1
        for release_id in range(first, first + ARTIST_BLOCK):
            core = self.release_core(release_id)
            have, want, _, _ = self.community(release_id)
            stats = {"community": {"in_wantlist": want, "in_collection": have}}
            if core.master_id is not None and release_id == core.master_id * MASTER_BLOCK:
                entries.append(
                    {
                        "id": core.master_id,
                        "type": "master",
                        "main_release": release_id,
                        "title": core.title,
                        "artist": core.artist_name,
                        "role": "Main",
                        "year": core.year,
                        "thumb": self.thumb(core, signed=signed),
                        "resource_url": f"{API_ROOT}/masters/{core.master_id}",
                        "stats": stats,
                    }
                )
            else:
                entries.append(
                    {
                        "id": release_id,
                        "type": "release",
                        "status": "Accepted",
                        "format": core.format_text,
                        "label": core.label_name,
                        "title": core.title,
                        "artist": core.artist_name,
                        "role": "Main",
                        "year": core.year,
                        "thumb": self.thumb(core, signed=signed),
                        "resource_url": f"{API_ROOT}/releases/{release_id}",
                        "stats": stats,
                    }
                )
        for release_id in self.extra_credit_releases(artist_id):
            core = self.release_core(release_id)
            credit = self.release(release_id, signed=signed)["extraartists"][0]
            have, want, _, _ = self.community(release_id)
            entries.append(
                {
                    "id": release_id,
                    "type": "release",
                    "status": "Accepted",
                    "format": core.format_text,
                    "label": core.label_name,
                    "title": core.title,
                    "artist": core.artist_name,
                    "role": credit["role"],
                    "year": core.year,
                    "thumb": self.thumb(core, signed=signed),
                    "resource_url": f"{API_ROOT}/releases/{release_id}",
                    "stats": {"community": {"in_wantlist": want, "in_collection": have}},
                }
            )
        return entries

    @staticmethod
    def label_exists(label_id: int) -> bool:
        """Whether a label id is in the dataset."""
        return 1 <= label_id <= LABEL_COUNT

    def label(self, label_id: int, *, signed: bool) -> dict[str, Any]:
        """The body of ``GET /labels/{id}``."""
        r = rng(self.seed, "label", label_id)
        name = self.label_name(label_id)
        body: dict[str, Any] = {
            "id": label_id,
            "name": name,
            "resource_url": f"{API_ROOT}/labels/{label_id}",
            "uri": f"{WEB_ROOT}/label/{label_id}-{slug(name)}",
            "releases_url": f"{API_ROOT}/labels/{label_id}/releases",
            "profile": f"Independent label. [a={self.artist_name(label_id)}] runs it.",
            "contact_info": r.choice((None, f"{name}\r\nBox 1\r\nMalmö, Sweden")),
            "urls": [f"https://{slug(name).lower()}.example.com"],
            "images": [image("label", label_id, 1, signed=signed)],
            "data_quality": r.choice(_QUALITIES),
            "sublabels": [
                {
                    "id": label_id + 1,
                    "name": self.label_name(label_id + 1),
                    "resource_url": f"{API_ROOT}/labels/{label_id + 1}",
                }
            ]
            if self.label_exists(label_id + 1)
            else [],
        }
        if label_id > 1 and r.random() < 0.3:
            body["parent_label"] = {
                "id": label_id - 1,
                "name": self.label_name(label_id - 1),
                "resource_url": f"{API_ROOT}/labels/{label_id - 1}",
            }
        return body

    def label_release_entries(self, label_id: int, *, signed: bool) -> list[dict[str, Any]]:
        """Entries of ``GET /labels/{id}/releases``."""
        first = (label_id - 1) * LABEL_BLOCK + 1
        entries = []
        for release_id in range(first, first + LABEL_BLOCK):
            core = self.release_core(release_id)
            have, want, _, _ = self.community(release_id)
            entries.append(
                {
                    "id": release_id,
                    "status": "Accepted",
                    "format": core.format_text,
                    "catno": core.catno,
                    "thumb": self.thumb(core, signed=signed),
                    "resource_url": f"{API_ROOT}/releases/{release_id}",
                    "title": core.title,
                    "year": core.year,
                    "artist": core.artist_name,
                    "stats": {"community": {"in_wantlist": want, "in_collection": have}},
                }
            )
        return entries

    # --- marketplace figures ---------------------------------------------------------------------

    def price_suggestions(self, release_id: int, currency: str) -> dict[str, Any]:
        """Suggested prices per media condition (``{}`` for some releases)."""
        if unit(self.seed, "no-suggestions", release_id) < 0.1:
            return {}
        base = 2.0 + unit(self.seed, "suggest", release_id) * 40
        conditions = (
            "Mint (M)",
            "Near Mint (NM or M-)",
            "Very Good Plus (VG+)",
            "Very Good (VG)",
            "Good Plus (G+)",
            "Good (G)",
            "Fair (F)",
            "Poor (P)",
        )
        return {
            condition: {"currency": currency, "value": round(base * (1.0 - 0.11 * n), 2)}
            for n, condition in enumerate(conditions)
        }

    def random_release_id(self, *parts: object) -> int:
        """A release id chosen by the parts."""
        return 1 + mix(self.seed, "release-pick", *parts) % RELEASE_COUNT


def fee_for(price: float, currency: str) -> dict[str, Any]:
    """The Marketplace fee of a sale price: 8 percent, rounded to cents."""
    return {"value": round(price * 0.08, 2), "currency": currency}
