"""Database operations: what releases, masters, artists and labels show, and rating writes.

The plain reads (a release, its stats, an artist's releases, search…) are rows of the table in
:mod:`discogs_sandbox.endpoints.reads`; the bodies they show are built here. Master versions
keep a handler: their documented filters come back as facets with counts.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from discogs_spec import load_example

from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.people import UserSeed
from discogs_sandbox.reading import Found, page_of, sort_entries
from discogs_sandbox.rules import not_found, parse_int, unprocessable
from discogs_sandbox.seeding import mix
from discogs_sandbox.spec_core import spec_enum

CURRENCIES = spec_enum("CurrencyCode")
# Rough rates from USD, only so marketplace figures change with the currency asked for.
USD_RATES = {
    "USD": 1.0,
    "GBP": 0.79,
    "EUR": 0.92,
    "CAD": 1.36,
    "AUD": 1.52,
    "JPY": 151.0,
    "CHF": 0.9,
    "MXN": 17.1,
    "BRL": 5.0,
    "NZD": 1.65,
    "SEK": 10.6,
    "ZAR": 18.7,
}

# Items whose bodies are the documentation's own examples.
EXAMPLE_RELEASE = 249504
EXAMPLE_MASTER = 1000
EXAMPLE_ARTIST = 108713
EXAMPLE_LABEL = 1


def currency_of(call: Call, name: str = "curr_abbr") -> str:
    """The currency asked for (checked by the core), else the caller's own, else USD."""
    chosen = call.query.get(name)
    if chosen:
        return chosen
    user = call.state.user(call.principal.username or "")
    return user.curr_abbr if user is not None else "USD"


def convert(value: float | None, currency: str) -> float | None:
    """A USD amount in another currency (None stays None)."""
    if value is None:
        return None
    return round(value * USD_RATES[currency], 0 if currency == "JPY" else 2)


def release_id_of(call: Call, found: Found | None = None) -> int:
    """The path's release id; 404 ("Release not found.") when there is no such release."""
    release_id = call.int_param("release_id", "release")
    if not call.state.catalogue.release_exists(release_id):
        raise not_found("release")
    return release_id


def master_id_of(call: Call, found: Found | None = None) -> int:
    """The path's master id; 404 ("Master Release not found.") when there is none."""
    master_id = call.int_param("master_id", "master")
    if not call.state.catalogue.master_exists(master_id):
        raise not_found("master")
    return master_id


def artist_id_of(call: Call, found: Found | None = None) -> int:
    """The path's artist id; 404 ("Artist not found.") when there is none."""
    artist_id = call.int_param("artist_id", "artist")
    if not call.state.catalogue.artist_exists(artist_id):
        raise not_found("artist")
    return artist_id


def label_id_of(call: Call, found: Found | None = None) -> int:
    """The path's label id; 404 ("Label not found.") when there is none."""
    label_id = call.int_param("label_id", "label")
    if not call.state.catalogue.label_exists(label_id):
        raise not_found("label")
    return label_id


def user_of(call: Call, found: Found | None = None) -> UserSeed:
    """The user the path names; 404 when there is none."""
    return call.user_param()


def release_body(call: Call, found: Found) -> dict[str, Any]:
    """A release, its lowest price in the currency asked for (else the caller's)."""
    body = call.state.catalogue.release(found["release_id"], signed=call.signed)
    body["lowest_price"] = convert(body["lowest_price"], currency_of(call))
    return body


def user_rating_body(call: Call, found: Found) -> dict[str, Any]:
    """A user's rating of a release (0 when the user has not rated it)."""
    release_id, user = found["release_id"], found["username"]
    rating = _user_rating(call, release_id, user.username)
    return {"username": user.username, "release_id": release_id, "rating": rating}


def community_rating_body(call: Call, found: Found) -> dict[str, Any]:
    """The average rating of a release and how many rated it."""
    _, _, average, count = call.state.catalogue.community(found["release_id"])
    return {"release_id": found["release_id"], "rating": {"average": average, "count": count}}


def release_stats_body(call: Call, found: Found) -> dict[str, Any]:
    """How many have and want a release."""
    have, want, _, _ = call.state.catalogue.community(found["release_id"])
    return {"num_have": have, "num_want": want, "is_offensive": False}


def artist_body(call: Call, found: Found) -> dict[str, Any]:
    """An artist; 108713 is the real body (the docs' example lacks the name)."""
    artist_id = found["artist_id"]
    if artist_id != EXAMPLE_ARTIST:
        return call.state.catalogue.artist(artist_id, signed=call.signed)
    body: dict[str, Any] = json.loads(
        files("discogs_sandbox").joinpath("data/artist-108713.json").read_text()
    )
    if call.signed:  # images only with a credential, as on Discogs
        body["images"] = load_example("artists_get_200.json")["images"]
    return body


def _user_rating(call: Call, release_id: int, username: str) -> int:
    stored = call.state.release_ratings.get((release_id, username.lower()))
    if stored is not None:
        return stored
    user = call.state.user(username)
    assert user is not None
    return mix(call.config.seed, "user-rating", release_id, user.username) % 6


@handles("update_release_rating_by_user")
def update_release_rating_by_user(call: Call) -> Reply:
    """PUT /releases/{release_id}/rating/{username}."""
    release_id = release_id_of(call)
    user = call.user_param()
    call.require_owner(user)
    fields = call.fields()
    if "rating" not in fields:
        raise unprocessable("Missing rating: expected an integer between 1 and 5.")
    rating = parse_int(fields["rating"], "rating", 1, 5)
    call.state.release_ratings[(release_id, user.username.lower())] = rating
    return Reply(200, {"username": user.username, "release_id": release_id, "rating": rating})


@handles("delete_release_rating_by_user")
def delete_release_rating_by_user(call: Call) -> Reply:
    """DELETE /releases/{release_id}/rating/{username}."""
    release_id = release_id_of(call)
    user = call.user_param()
    call.require_owner(user)
    call.state.release_ratings[(release_id, user.username.lower())] = 0
    return no_content()


@handles("get_master_versions")
def get_master_versions(call: Call) -> Reply:
    """GET /masters/{master_id}/versions (filters format, label, released, country)."""
    master_id = master_id_of(call)
    if master_id == EXAMPLE_MASTER:
        entries = list(load_example("masters_versions_get_200.json")["versions"])
    else:
        catalogue = call.state.catalogue
        entries = [
            catalogue.master_version(r, signed=call.signed, user=call.signed)
            for r in catalogue.master_version_ids(master_id)
        ]
    applied = {name: call.query[name] for name in _VERSION_FACETS if call.query.get(name)}
    facets = _facets(entries)
    for name, wanted in applied.items():
        entries = [e for e in entries if wanted.casefold() in _facet_value(e, name).casefold()]
    entries = sort_entries(call, entries, by_field=True)
    reply = page_of(call, "versions", entries)
    reply.body["filters"] = {
        "applied": {name: [value] for name, value in applied.items()},
        "available": {name: dict(counts) for name, counts in facets.items()},
    }
    reply.body["filter_facets"] = [
        {
            "id": name,
            "title": title,
            "allows_multiple_values": name != "released",
            "values": [
                {"title": value, "value": value.replace(" ", "+"), "count": count}
                for value, count in facets[name].items()
            ],
        }
        for name, title in _VERSION_FACETS.items()
    ]
    return reply


_VERSION_FACETS = {"format": "Format", "label": "Label", "country": "Country", "released": "Year"}
"""The filters of master versions, which the answer also lists as facets with counts."""


def _facet_value(entry: dict[str, Any], name: str) -> str:
    if name == "format":
        majors = entry.get("major_formats") or [entry.get("format", "")]
        return str(majors[0] or "")
    return str(entry.get(name) or "")


def _facets(entries: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Every value each filter can take among the versions, with how many have it."""
    facets: dict[str, dict[str, int]] = {name: {} for name in _VERSION_FACETS}
    for entry in entries:
        for name, counts in facets.items():
            value = _facet_value(entry, name)
            if value:
                counts[value] = counts.get(value, 0) + 1
    return facets
