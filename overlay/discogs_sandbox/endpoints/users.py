"""User identity operations: the profile edit, and what identity, profile, submissions and
contributions show (their reads are rows of :mod:`discogs_sandbox.endpoints.reads`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from discogs_sandbox.config import SANDBOX_CONSUMER_NAME
from discogs_sandbox.endpoints.database import CURRENCIES
from discogs_sandbox.endpoints.registry import Call, Reply, handles
from discogs_sandbox.people import UserSeed
from discogs_sandbox.reading import Found, Listing
from discogs_sandbox.rules import unprocessable
from discogs_sandbox.seeding import API_ROOT, IMAGE_ROOT, WEB_ROOT, rng


def identity_body(call: Call, found: Found) -> dict[str, Any]:
    """Who the credential acts as."""
    user = call.current_user()
    return {
        "id": user.id,
        "username": user.username,
        "resource_url": user.resource_url(),
        "consumer_name": SANDBOX_CONSUMER_NAME
        if call.principal.kind == "oauth"
        else "Personal access token",
    }


def profile_body(call: Call, user: UserSeed) -> dict[str, Any]:
    """The profile as ``GET /users/{username}`` shows it to the caller."""
    state = call.state
    edits = state.profiles[user.username.lower()]
    owner = call.is_owner(user)
    r = rng(call.config.seed, "profile", user.username)
    lists = state.user_lists(user)
    body: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "resource_url": user.resource_url(),
        "uri": f"{WEB_ROOT}/user/{user.username}",
        "name": edits.get("name", user.name),
        "profile": edits.get("profile", user.profile),
        "home_page": edits.get("home_page", user.home_page),
        "location": edits.get("location", user.location),
        "registered": state.past(user.index * 86_400.0 * 400 + 9e7),
        "avatar_url": f"{IMAGE_ROOT}/avatar-{user.id}.jpg",
        "banner_url": "",
        "curr_abbr": edits.get("curr_abbr", user.curr_abbr),
        "rank": float(r.randint(0, 400)),
        "rating_avg": round(r.uniform(0, 5), 2),
        "releases_contributed": len(state.holdings.contribution_ids(user)),
        "releases_rated": r.randint(0, 900),
        "num_pending": r.randint(0, 9),
        "num_for_sale": sum(1 for item in state.inventory(user) if item["status"] == "For Sale"),
        "num_lists": sum(1 for item in lists if owner or item["public"]),
        "buyer_rating": 100.0,
        "buyer_rating_stars": 5.0,
        "buyer_num_ratings": r.randint(0, 80),
        "seller_rating": round(r.uniform(95, 100), 1),
        "seller_rating_stars": 5.0,
        "seller_num_ratings": r.randint(0, 900),
        "activated": True,
        "marketplace_suspended": False,
        "is_staff": False,
        "inventory_url": f"{API_ROOT}/users/{user.username}/inventory",
        "collection_folders_url": f"{API_ROOT}/users/{user.username}/collection/folders",
        "collection_fields_url": f"{API_ROOT}/users/{user.username}/collection/fields",
        "wantlist_url": f"{API_ROOT}/users/{user.username}/wants",
    }
    if owner or user.collection_public:
        body["num_collection"] = state.collection_count(user)
    if owner or user.wantlist_public:
        body["num_wantlist"] = len(state.want_view(user))
    if owner:
        body["email"] = f"{user.username}@sandbox.example.com"
        body["num_unread"] = 0
    return body


@handles("edit_profile")
def edit_profile(call: Call) -> Reply:
    """POST /users/{username}: change name, home page, location, profile or currency."""
    user = call.user_param()
    call.require_owner(user)
    fields = call.fields()
    edits = call.state.profiles[user.username.lower()]
    for name in ("name", "home_page", "location", "profile"):
        if name in fields:
            edits[name] = str(fields[name])
    if "curr_abbr" in fields:
        if fields["curr_abbr"] not in CURRENCIES:
            raise unprocessable(f"Invalid curr_abbr: expected one of {', '.join(CURRENCIES)}.")
        edits["curr_abbr"] = fields["curr_abbr"]
    return Reply(200, profile_body(call, user))


def release_record(call: Call, found: Found, release_id: int) -> dict[str, Any]:
    """A release as submissions and contributions list it: an abridged release record."""
    body = call.state.catalogue.release(release_id, signed=call.signed)
    for name in (
        "lowest_price",
        "num_for_sale",
        "blocked_from_sale",
        "is_offensive",
        "artists_sort",
    ):
        body.pop(name, None)
    if body.get("notes") is None:
        body.pop("notes", None)
    if body.get("master_id") == 0:
        body["master_id"] = None
    return body


def contribution_sorts(call: Call) -> dict[str, Callable[[int], Any]]:
    """The sort keys of contributions, read from the release each id names."""
    core = call.state.catalogue.release_core
    return {
        "title": lambda r: core(r).title,
        "artist": lambda r: core(r).artist_name,
        "label": lambda r: core(r).label_name,
        "catno": lambda r: core(r).catno,
        "format": lambda r: core(r).format_name,
        "year": lambda r: str(core(r).year),
    }


def submissions(call: Call, found: Found) -> Listing:
    """A user's submissions: artists, labels and releases in one paged count."""
    user: UserSeed = found["username"]
    artists, labels, releases = call.state.holdings.submission_counts(user)
    total = artists + labels + releases
    catalogue = call.state.catalogue
    base = user.index * 10_000 + 1

    def entries(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
        page: dict[str, list[dict[str, Any]]] = {"artists": [], "labels": [], "releases": []}
        for n in range(start, min(stop, total)):
            if n < artists:
                artist = catalogue.artist(base + n, signed=call.signed)
                for name in ("realname", "profile"):
                    if artist.get(name) is None:
                        artist.pop(name, None)
                # Submission bodies list group members by name, not as artist references.
                if "members" in artist:
                    artist["members"] = [member["name"] for member in artist["members"]]
                page["artists"].append(artist)
            elif n < artists + labels:
                label = catalogue.label(base + n, signed=call.signed)
                if label.get("contact_info") is None:
                    label.pop("contact_info", None)
                page["labels"].append(label)
            else:
                release_id = catalogue.random_release_id("sub", user.index, n)
                page["releases"].append(release_record(call, found, release_id))
        return page

    return Listing(total, entries)
