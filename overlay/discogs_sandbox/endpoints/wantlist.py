"""Wantlist operations and user lists."""

from __future__ import annotations

from typing import Any

from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.people import UserSeed
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


def _visible(call: Call, user: UserSeed) -> bool:
    if call.is_owner(user):
        return True
    if not user.wantlist_public:
        # Anyone but the owner, signed in or not, gets Discogs' 403.
        raise forbidden()
    return False


@handles("get_wantlist")
def get_wantlist(call: Call) -> Reply:
    """GET /users/{username}/wants."""
    user = call.user_param()
    owner = _visible(call, user)
    view = call.state.want_view(user)
    return call.paged(
        "wants",
        len(view),
        lambda a, b: [want_body(call, user, r, owner) for r in view.window(a, b)],
    )


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


@handles("get_user_lists")
def get_user_lists(call: Call) -> Reply:
    """GET /users/{username}/lists (private lists only for the owner)."""
    user = call.user_param()
    owner = call.is_owner(user)
    records = [r for r in call.state.user_lists(user) if owner or r["public"]]
    return call.paged(
        "lists", len(records), lambda a, b: [_list_summary(call, user, r) for r in records[a:b]]
    )


@handles("get_list")
def get_list(call: Call) -> Reply:
    """GET /lists/{list_id}."""
    record = call.state.lists.get(call.int_param("list_id"))
    if record is None:
        raise not_found()
    user = call.state.user(record["owner"])
    assert user is not None
    if not record["public"]:
        call.require_owner(user)
    body = _list_summary(call, user, record)
    body["items"] = [dict(item) for item in record["items"]]
    return Reply(200, body)
