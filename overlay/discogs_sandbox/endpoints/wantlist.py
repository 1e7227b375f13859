"""Wantlist writes, and what wantlists and user lists show (their reads are rows of
:mod:`discogs_sandbox.endpoints.reads`)."""

from __future__ import annotations

from typing import Any

from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.people import UserSeed
from discogs_sandbox.reading import Found
from discogs_sandbox.rules import forbidden, not_found, parse_int
from discogs_sandbox.seeding import API_ROOT, WEB_ROOT


def want_body(call: Call, user: UserSeed, ref: int, owner: bool) -> dict[str, Any]:
    """A want as the wantlist shows it (notes only for the owner)."""
    want = call.state.want(user, ref)
    release_id = want["release_id"]
    body: dict[str, Any] = {
        "id": release_id,
        "rating": want["rating"],
        "date_added": want["date_added"],
        "resource_url": f"{API_ROOT}/users/{user.username}/wants/{release_id}",
        "basic_information": call.state.catalogue.basic_information(release_id, signed=call.signed),
    }
    if owner:
        body["notes"] = want["notes"]
    return body


def visible(call: Call, found: Found) -> bool:
    """Whether the caller is the owner; anyone else, signed in or not, gets Discogs' 403 for a
    private wantlist."""
    user = found["username"]
    if call.is_owner(user):
        return True
    if not user.wantlist_public:
        raise forbidden()
    return False


def wants(call: Call, found: Found) -> Any:
    """The wants of the path's user, newest first."""
    return call.state.want_view(found["username"])


def want_entry(call: Call, found: Found, ref: int) -> dict[str, Any]:
    """One want as the caller may see it."""
    user = found["username"]
    return want_body(call, user, ref, call.is_owner(user))


def _want_fields(call: Call) -> tuple[str | None, int | None]:
    fields = call.fields()
    notes = str(fields["notes"]) if fields.get("notes") is not None else None
    rating = parse_int(fields["rating"], "rating", 0, 5) if "rating" in fields else None
    return notes, rating


def _release(call: Call) -> int:
    release_id = call.int_param("release_id", "release")
    if not call.state.catalogue.release_exists(release_id):
        raise not_found("release")
    return release_id


@handles("add_to_wantlist")
def add_to_wantlist(call: Call) -> Reply:
    """PUT /users/{username}/wants/{release_id}."""
    user = call.user_param()
    call.require_owner(user)
    release_id = _release(call)
    notes, rating = _want_fields(call)
    ref = call.state.put_want(user, release_id, notes, rating)
    return Reply(201, want_body(call, user, ref, True))


@handles("edit_wantlist_release")
def edit_wantlist_release(call: Call) -> Reply:
    """POST /users/{username}/wants/{release_id}."""
    user = call.user_param()
    call.require_owner(user)
    release_id = _release(call)
    ref = call.state.find_want(user, release_id)
    if ref is None:
        raise not_found()
    notes, rating = _want_fields(call)
    call.state.edit_want(user, ref, notes, rating)
    return Reply(200, want_body(call, user, ref, True))


@handles("delete_from_wantlist")
def delete_from_wantlist(call: Call) -> Reply:
    """DELETE /users/{username}/wants/{release_id}."""
    user = call.user_param()
    call.require_owner(user)
    release_id = _release(call)
    ref = call.state.find_want(user, release_id)
    if ref is None:
        raise not_found()
    call.state.remove_want(user, ref)
    return no_content()


def _owner_ref(user: UserSeed) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "avatar_url": f"https://secure.gravatar.com/avatar/{user.id:032x}?s=300",
        "resource_url": user.resource_url(),
    }


def _list_summary(call: Call, user: UserSeed, record: dict[str, Any]) -> dict[str, Any]:
    first = record["items"][0]["image_url"] if record["items"] else None
    return {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "public": record["public"],
        "date_added": record["date_added"],
        "date_changed": record["date_changed"],
        "uri": f"{WEB_ROOT}/lists/{record['id']}",
        "resource_url": f"{API_ROOT}/lists/{record['id']}",
        "image_url": first,
        "user": _owner_ref(user),
    }


def user_lists(call: Call, found: Found) -> list[dict[str, Any]]:
    """A user's lists (private ones only for the owner)."""
    user = found["username"]
    owner = call.is_owner(user)
    return [r for r in call.state.user_lists(user) if owner or r["public"]]


def list_entry(call: Call, found: Found, record: dict[str, Any]) -> dict[str, Any]:
    """One list of a user's lists."""
    return _list_summary(call, found["username"], record)


def list_of(call: Call, found: Found) -> dict[str, Any]:
    """The list the path names; 404 when there is none, 403 when it is another's private list."""
    record = call.state.lists.get(call.int_param("list_id"))
    if record is None:
        raise not_found()
    user = call.state.user(record["owner"])
    assert user is not None
    if not record["public"]:
        call.require_owner(user)
    return record


def list_body(call: Call, found: Found) -> dict[str, Any]:
    """A list with its items."""
    record = found["list_id"]
    user = call.state.user(record["owner"])
    assert user is not None
    body = _list_summary(call, user, record)
    body["items"] = [dict(item) for item in record["items"]]
    return body
