"""Database operations: releases, ratings, masters, artists, labels and search."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from discogs_spec import load_example

from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.rules import (
    not_found,
    parse_int,
    unprocessable,
)
from discogs_sandbox.search import REACHABLE_RESULTS
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


_IMAGE_FIELDS = ("uri", "resource_url", "uri150")


def example_body(name: str, *, signed: bool) -> Any:
    """A documentation example; without a credential its image URLs are "" as on Discogs."""
    body = load_example(name)
    if not signed:
        for image in body.get("images") or ():
            image.update(dict.fromkeys(_IMAGE_FIELDS, ""))
        if "thumb" in body:
            body["thumb"] = ""
    return body


def release_id_of(call: Call) -> int:
    """The path's release id; 404 ("Release not found.") when there is no such release."""
    release_id = call.int_param("release_id", "release")
    if not call.state.catalogue.release_exists(release_id):
        raise not_found("release")
    return release_id


@handles("get_release")
def get_release(call: Call) -> Reply:
    """GET /releases/{release_id}."""
    release_id = release_id_of(call)
    currency = currency_of(call)
    if release_id == EXAMPLE_RELEASE:
        return Reply(200, example_body("releases_get_200.json", signed=call.signed))
    body = call.state.catalogue.release(release_id, signed=call.signed)
    body["lowest_price"] = convert(body["lowest_price"], currency)
    return Reply(200, body)


def _user_rating(call: Call, release_id: int, username: str) -> int:
    stored = call.state.release_ratings.get((release_id, username.lower()))
    if stored is not None:
        return stored
    user = call.state.user(username)
    assert user is not None
    return mix(call.config.seed, "user-rating", release_id, user.username) % 6


@handles("get_release_rating_by_user")
def get_release_rating_by_user(call: Call) -> Reply:
    """GET /releases/{release_id}/rating/{username}."""
    release_id = release_id_of(call)
    user = call.user_param()
    rating = _user_rating(call, release_id, user.username)
    return Reply(200, {"username": user.username, "release_id": release_id, "rating": rating})


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


@handles("get_community_release_rating")
def get_community_release_rating(call: Call) -> Reply:
    """GET /releases/{release_id}/rating."""
    release_id = release_id_of(call)
    if release_id == EXAMPLE_RELEASE:
        return Reply(200, load_example("releases_rating_get_200.json"))
    _, _, average, count = call.state.catalogue.community(release_id)
    return Reply(200, {"release_id": release_id, "rating": {"average": average, "count": count}})


@handles("get_release_stats")
def get_release_stats(call: Call) -> Reply:
    """GET /releases/{release_id}/stats."""
    release_id = release_id_of(call)
    if release_id == EXAMPLE_RELEASE:
        return Reply(200, load_example("releases_stats_get_200.json"))
    have, want, _, _ = call.state.catalogue.community(release_id)
    return Reply(200, {"num_have": have, "num_want": want, "is_offensive": False})


def _master_id(call: Call) -> int:
    master_id = call.int_param("master_id", "master")
    if not call.state.catalogue.master_exists(master_id):
        raise not_found("master")
    return master_id


@handles("get_master")
def get_master(call: Call) -> Reply:
    """GET /masters/{master_id}."""
    master_id = _master_id(call)
    if master_id == EXAMPLE_MASTER:
        return Reply(200, example_body("masters_get_200.json", signed=call.signed))
    return Reply(200, call.state.catalogue.master(master_id, signed=call.signed))


def _sorted(
    entries: list[dict[str, Any]], call: Call, keys: dict[str, str]
) -> list[dict[str, Any]]:
    # The core has checked sort and sort_order against the spec's enums.
    sort = call.query.get("sort") or None
    order = call.query.get("sort_order") or None
    if sort is None and order is None:
        return entries
    field = keys[sort or next(iter(keys))]
    return sorted(
        entries,
        key=lambda e: (str(e.get(field, "")).casefold(), e["id"]),
        reverse=order == "desc",
    )


@handles("get_master_versions")
def get_master_versions(call: Call) -> Reply:
    """GET /masters/{master_id}/versions (filters format, label, released, country)."""
    master_id = _master_id(call)
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
    sorts = call.rules.enum("sort") if call.rules else ()
    entries = _sorted(entries, call, {key: key for key in sorts})
    reply = call.paged("versions", len(entries), lambda a, b: entries[a:b])
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


def _artist_id(call: Call) -> int:
    artist_id = call.int_param("artist_id", "artist")
    if not call.state.catalogue.artist_exists(artist_id):
        raise not_found("artist")
    return artist_id


@handles("get_artist")
def get_artist(call: Call) -> Reply:
    """GET /artists/{artist_id}."""
    artist_id = _artist_id(call)
    if artist_id == EXAMPLE_ARTIST:
        # The real body (the docs' example lacks the name); images only with a credential.
        body = json.loads(files("discogs_sandbox").joinpath("data/artist-108713.json").read_text())
        if call.signed:
            body["images"] = load_example("artists_get_200.json")["images"]
        return Reply(200, body)
    return Reply(200, call.state.catalogue.artist(artist_id, signed=call.signed))


@handles("get_artist_releases")
def get_artist_releases(call: Call) -> Reply:
    """GET /artists/{artist_id}/releases (sort year, title or format)."""
    artist_id = _artist_id(call)
    if artist_id == EXAMPLE_ARTIST:
        entries = list(load_example("artists_releases_get_200.json")["releases"])
    else:
        entries = call.state.catalogue.artist_release_entries(artist_id, signed=call.signed)
    entries = _sorted(entries, call, {"year": "year", "title": "title", "format": "format"})
    return call.paged("releases", len(entries), lambda a, b: entries[a:b])


def _label_id(call: Call) -> int:
    label_id = call.int_param("label_id", "label")
    if not call.state.catalogue.label_exists(label_id):
        raise not_found("label")
    return label_id


@handles("get_label")
def get_label(call: Call) -> Reply:
    """GET /labels/{label_id}."""
    label_id = _label_id(call)
    if label_id == EXAMPLE_LABEL:
        return Reply(200, example_body("labels_get_200.json", signed=call.signed))
    return Reply(200, call.state.catalogue.label(label_id, signed=call.signed))


@handles("get_label_releases")
def get_label_releases(call: Call) -> Reply:
    """GET /labels/{label_id}/releases."""
    label_id = _label_id(call)
    entries = call.state.catalogue.label_release_entries(label_id, signed=call.signed)
    return call.paged("releases", len(entries), lambda a, b: entries[a:b])


@handles("search")
def search(call: Call) -> Reply:
    """GET /database/search: every documented filter applied to the searchable catalogue.

    ``items`` is the true number of matches; only the first 10,000 can be paged to.
    """
    found = call.state.search.search(call.query, call.query.get("type") or None)
    return call.paged(
        "results",
        len(found),
        lambda a, b: [call.state.search.result(e, signed=call.signed) for e in found[a:b]],
        reachable=REACHABLE_RESULTS,
    )
