"""Collection operations: folder and instance writes, and what folders, items, fields and the
value show (their reads are rows of :mod:`discogs_sandbox.endpoints.reads`)."""

from __future__ import annotations

from typing import Any

from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.people import CURRENCY_SYMBOLS, FIELDS, UserSeed
from discogs_sandbox.reading import Found
from discogs_sandbox.rules import (
    ApiError,
    forbidden,
    not_found,
    parse_int,
    unprocessable,
)
from discogs_sandbox.seeding import API_ROOT
from discogs_sandbox.state import StateError

_FIELDS = {f.id: f for f in FIELDS}


def readable(call: Call, found: Found) -> bool:
    """The collection check of a read: :func:`_readable` of the path's user and folder."""
    return _readable(call, found["username"], found.get("folder_id", 0))


def _readable(call: Call, user: UserSeed, folder_id: int = 0) -> bool:
    """Owner: everything. Others: folder 0 of a public collection only (else 403)."""
    if call.is_owner(user):
        return True
    if folder_id != 0:
        call.require_owner(user)
    if not user.collection_public:
        call.require_owner(user)
    return False


def _folder(call: Call, user: UserSeed, folder_id: int) -> dict[str, Any]:
    name = call.state.folder_name(user, folder_id)
    if name is None:
        raise not_found()
    return {
        "id": folder_id,
        "name": name,
        "count": call.state.collection_count(user, folder_id),
        "resource_url": f"{API_ROOT}/users/{user.username}/collection/folders/{folder_id}",
    }


def item_body(call: Call, user: UserSeed, ref: int, owner: bool) -> dict[str, Any]:
    """A collection item as Discogs lists it (non-owners see public notes only)."""
    instance = call.state.instance(user, ref)
    release_id = instance["release_id"]
    body: dict[str, Any] = {
        "id": release_id,
        "instance_id": instance["instance_id"],
        "date_added": instance["date_added"],
        "rating": instance["rating"],
        "folder_id": instance["folder_id"],
        "basic_information": call.state.catalogue.basic_information(release_id, signed=call.signed),
    }
    notes = [
        {"field_id": field_id, "value": value}
        for field_id, value in sorted(instance["notes"].items())
        if owner or _FIELDS[field_id].public
    ]
    if notes:
        body["notes"] = notes
    return body


def folders_body(call: Call, found: Found) -> dict[str, Any]:
    """The folders of a collection (others see only folder 0)."""
    user = found["username"]
    ids = call.state.folder_ids(user) if call.is_owner(user) else [0]
    return {"folders": [_folder(call, user, folder_id) for folder_id in ids]}


@handles("create_collection_folder")
def create_collection_folder(call: Call) -> Reply:
    """POST /users/{username}/collection/folders."""
    user = call.user_param()
    call.require_owner(user)
    name = str(call.fields().get("name") or "").strip()
    if not name:
        raise unprocessable("Missing name: give the new folder a name.")
    folder_id = call.state.create_folder(user, name)
    return Reply(201, _folder(call, user, folder_id))


def folder_id_of(call: Call, found: Found) -> int:
    """The path's folder of the path's user; 404 when the user has no such folder."""
    return _folder_id(call, found["username"])


def folder_body(call: Call, found: Found) -> dict[str, Any]:
    """One folder, with its count."""
    return _folder(call, found["username"], found["folder_id"])


def _folder_id(call: Call, user: UserSeed) -> int:
    folder_id = call.int_param("folder_id")
    if call.state.folder_name(user, folder_id) is None:
        raise not_found()
    return folder_id


def _state_error(exc: StateError) -> ApiError:
    return ApiError(exc.status, exc.message)


@handles("edit_collection_folder")
def edit_collection_folder(call: Call) -> Reply:
    """POST /users/{username}/collection/folders/{folder_id}: rename."""
    user = call.user_param()
    call.require_owner(user)
    folder_id = _folder_id(call, user)
    name = str(call.fields().get("name") or "").strip()
    if not name:
        raise unprocessable("Missing name: give the folder a new name.")
    try:
        call.state.rename_folder(user, folder_id, name)
    except StateError as exc:
        raise _state_error(exc) from None
    return Reply(200, _folder(call, user, folder_id))


@handles("delete_collection_folder")
def delete_collection_folder(call: Call) -> Reply:
    """DELETE /users/{username}/collection/folders/{folder_id} (folder must be empty)."""
    user = call.user_param()
    call.require_owner(user)
    folder_id = _folder_id(call, user)
    try:
        call.state.delete_folder(user, folder_id)
    except StateError as exc:
        raise _state_error(exc) from None
    return no_content()


@handles("get_collection_items_by_release")
def get_collection_items_by_release(call: Call) -> Reply:
    """GET /users/{username}/collection/releases/{release_id}."""
    user = call.user_param()
    release_id = call.int_param("release_id", "release")
    if release_id == 0:
        raise unprocessable("Invalid release_id: must be non-zero.")
    owner = _readable(call, user)
    refs = call.state.instances_of_release(user, release_id)
    return call.paged(
        "releases", len(refs), lambda a, b: [item_body(call, user, r, owner) for r in refs[a:b]]
    )


def folder_items(call: Call, found: Found) -> Any:
    """The items of a folder in the order asked for (the core checked sort and sort_order)."""
    sort = call.query.get("sort") or None
    order = call.query.get("sort_order") or None
    return call.state.collection_view(found["username"], found["folder_id"], sort, order)


def folder_item(call: Call, found: Found, ref: int) -> dict[str, Any]:
    """One item of a folder as the caller may see it."""
    user = found["username"]
    return item_body(call, user, ref, call.is_owner(user))


@handles("add_to_collection_folder")
def add_to_collection_folder(call: Call) -> Reply:
    """POST /users/{username}/collection/folders/{folder_id}/releases/{release_id}."""
    user = call.user_param()
    call.require_owner(user)
    folder_id = _folder_id(call, user)
    if folder_id == 0:
        raise forbidden("You cannot add releases to the All folder; use folder 1.")
    release_id = call.int_param("release_id", "release")
    if not call.state.catalogue.release_exists(release_id):
        raise not_found("release")
    instance_id = call.state.add_instance(user, folder_id, release_id)
    url = (
        f"{API_ROOT}/users/{user.username}/collection/folders/{folder_id}"
        f"/releases/{release_id}/instances/{instance_id}"
    )
    return Reply(201, {"instance_id": instance_id, "resource_url": url})


def _instance_ref(call: Call, user: UserSeed) -> int:
    folder_id = _folder_id(call, user)
    release_id = call.int_param("release_id", "release")
    instance_id = call.int_param("instance_id")
    ref = call.state.find_instance(user, instance_id)
    if ref is None:
        raise not_found()
    instance = call.state.instance(user, ref)
    if instance["release_id"] != release_id or folder_id not in (0, instance["folder_id"]):
        raise not_found()
    return ref


@handles("edit_collection_instance")
def edit_collection_instance(call: Call) -> Reply:
    """POST …/instances/{instance_id}: change the rating and/or move to another folder."""
    user = call.user_param()
    call.require_owner(user)
    ref = _instance_ref(call, user)
    fields = call.fields()
    rating = parse_int(fields["rating"], "rating", 0, 5) if "rating" in fields else None
    folder_id = None
    if "folder_id" in fields:
        folder_id = parse_int(fields["folder_id"], "folder_id")
        if folder_id == 0:
            raise unprocessable(
                "Invalid folder_id: a release cannot be moved to folder 0 (All); "
                "choose a folder of your own (1 is Uncategorized)."
            )
        if call.state.folder_name(user, folder_id) is None:
            raise unprocessable(f"Invalid folder_id: the user has no folder {folder_id}.")
    if rating is None and folder_id is None:
        raise unprocessable("Nothing to change: give rating and/or folder_id.")
    call.state.edit_instance(user, ref, rating=rating, folder_id=folder_id)
    return no_content()


@handles("delete_collection_instance")
def delete_collection_instance(call: Call) -> Reply:
    """DELETE …/instances/{instance_id}."""
    user = call.user_param()
    call.require_owner(user)
    ref = _instance_ref(call, user)
    call.state.remove_instance(user, ref)
    return no_content()


def fields_body(call: Call, found: Found) -> dict[str, Any]:
    """The notes fields of a collection (others see public fields only)."""
    owner = call.is_owner(found["username"])
    return {"fields": [f.to_dict() for f in FIELDS if owner or f.public]}


@handles("edit_collection_instance_field")
def edit_collection_instance_field(call: Call) -> Reply:
    """POST …/instances/{instance_id}/fields/{field_id}: set a notes value."""
    user = call.user_param()
    call.require_owner(user)
    ref = _instance_ref(call, user)
    field = _FIELDS.get(call.int_param("field_id"))
    if field is None:
        raise not_found()
    # Discogs reads the value from the body only; ?value=… in the query is not looked at.
    fields = call.body_fields()
    if "value" not in fields:
        error = unprocessable("Missing value: send it in the request body.")
        error.detail = [{"loc": ["body", "value"], "msg": "field required"}]
        raise error
    value = str(fields["value"])
    if field.type == "dropdown" and value not in field.options:
        raise unprocessable(f"Invalid value: expected one of {', '.join(field.options)}.")
    call.state.set_instance_note(user, ref, field.id, value)
    return no_content()


def value_body(call: Call, found: Found) -> dict[str, str]:
    """What a collection is worth (the owner's only, by the spec's security)."""
    user = found["username"]
    count = call.state.collection_count(user)
    symbol = CURRENCY_SYMBOLS.get(user.curr_abbr, "$")

    def money(per_item: float) -> str:
        return f"{symbol}{count * per_item:,.2f}"

    return {"minimum": money(4.1), "median": money(11.35), "maximum": money(27.8)}
