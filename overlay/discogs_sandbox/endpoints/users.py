"""User identity operations: identity, profile, submissions, contributions."""

from __future__ import annotations

from typing import Any

from discogs_sandbox.config import SANDBOX_CONSUMER_NAME
from discogs_sandbox.endpoints.database import CURRENCIES
from discogs_sandbox.endpoints.registry import Call, Reply, handles
from discogs_sandbox.people import UserSeed
from discogs_sandbox.rules import paginate, unprocessable
from discogs_sandbox.seeding import API_ROOT, IMAGE_ROOT, WEB_ROOT, rng


@handles("get_identity")
def get_identity(call: Call) -> Reply:
    """GET /oauth/identity: who the credential acts as."""
    user = call.current_user()
    body: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "resource_url": user.resource_url(),
        "consumer_name": SANDBOX_CONSUMER_NAME
        if call.principal.kind == "oauth"
        else "Personal access token",
    }
    return Reply(200, body)


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


@handles("get_profile")
def get_profile(call: Call) -> Reply:
    """GET /users/{username}."""
    return Reply(200, profile_body(call, call.user_param()))


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


def _release_record(call: Call, release_id: int) -> dict[str, Any]:
    body = call.state.catalogue.release(release_id, signed=call.signed)
    # Submissions and contributions carry an abridged release record.
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


@handles("get_user_contributions")
def get_user_contributions(call: Call) -> Reply:
    """GET /users/{username}/contributions."""
    user = call.user_param()
    ids = call.state.holdings.contribution_ids(user)
    sort = call.query.get("sort")
    if sort:  # checked against the spec's enum by the core
        core = call.state.catalogue.release_core
        keys = {
            "title": lambda r: core(r).title,
            "artist": lambda r: core(r).artist_name,
            "label": lambda r: core(r).label_name,
            "catno": lambda r: core(r).catno,
            "format": lambda r: core(r).format_name,
            "year": lambda r: str(core(r).year),
        }
        key = keys.get(sort, str)
        ids = sorted(ids, key=key, reverse=call.query.get("sort_order") == "desc")
    return call.paged(
        "contributions", len(ids), lambda a, b: [_release_record(call, r) for r in ids[a:b]]
    )


@handles("get_user_submissions")
def get_user_submissions(call: Call) -> Reply:
    """GET /users/{username}/submissions: artists, labels and releases in one paged list."""
    user = call.user_param()
    artists, labels, releases = call.state.holdings.submission_counts(user)
    total = artists + labels + releases
    catalogue = call.state.catalogue
    page = call.page()
    base = user.index * 10_000 + 1

    def entries(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {"artists": [], "labels": [], "releases": []}
        for n in range(start, min(stop, total)):
            if n < artists:
                artist = catalogue.artist(base + n, signed=call.signed)
                for name in ("realname", "profile"):
                    if artist.get(name) is None:
                        artist.pop(name, None)
                # Submission bodies list group members by name, not as artist references.
                if "members" in artist:
                    artist["members"] = [member["name"] for member in artist["members"]]
                found["artists"].append(artist)
            elif n < artists + labels:
                label = catalogue.label(base + n, signed=call.signed)
                if label.get("contact_info") is None:
                    label.pop("contact_info", None)
                found["labels"].append(label)
            else:
                found["releases"].append(
                    _release_record(call, catalogue.random_release_id("sub", user.index, n))
                )
        return found

    pagination, link = paginate(call.base_url, call.path, call.query_items, page, total)
    headers = {"Link": link} if link else {}
    body = {"pagination": pagination, "submissions": entries(page.start, page.stop)}
    return Reply(200, body, headers)
