"""Plain reads answered from a declarative table: look the path up, build the body, page it.

Most read operations only look data up and, when the spec says the answer is a paginated list,
page it. Each of them is one :class:`Read` in the table of :mod:`discogs_sandbox.endpoints.reads`:
what its entries or body are, how one entry is shown, which sorts it takes. What every read
shares is written once here:

- every path parameter that names something (a release id, a username, a folder…) is looked
  up by its finder, in the order of the path, and a missing one is its 404;
- a documentation example stands in for the item the docs show (release 249504, master 1000…),
  with its image URLs blanked for an anonymous caller, as on Discogs;
- ``sort`` and ``sort_order`` (already checked against the spec's enums by the core) order the
  entries;
- a paginated operation (its success schema has ``pagination`` and one list, which the core
  found) is paged by the one page-building shape: ``{"pagination": …, <key>: [page]}`` and a
  ``Link`` header.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from discogs_spec import load_example

if TYPE_CHECKING:
    from discogs_sandbox.endpoints.registry import Call, Reply

__all__ = [
    "Finder",
    "Found",
    "Listing",
    "Read",
    "Window",
    "answer",
    "example_body",
    "page_of",
    "sort_entries",
]

Found = Mapping[str, Any]
"""What the path's parameters named, by parameter name (a release id, a user, a folder id…)."""

Finder = Callable[["Call", Found], Any]
"""Looks one path parameter up (404 when it names nothing), given what came before it."""


class Window(Protocol):
    """Entries that can be counted and cut into pages without building them all."""

    def __len__(self) -> int: ...

    def window(self, start: int, stop: int) -> Any: ...


@dataclass(frozen=True)
class Listing:
    """A :class:`Window` over ``total`` entries, ``window(start, stop)`` giving one page."""

    total: int
    cut: Callable[[int, int], Any]

    def __len__(self) -> int:
        return self.total

    def window(self, start: int, stop: int) -> Any:
        """The entries from ``start`` to ``stop``."""
        return self.cut(start, stop)


@dataclass(frozen=True)
class Read:
    """One read operation: where its body (or, for a list, its entries) comes from."""

    body: Callable[[Call, Found], Any]
    """The body, or for a paginated operation its entries (a sequence or a :class:`Window`)."""

    entry: Callable[[Call, Found, Any], Any] | None = None
    """How one entry of a page is shown; entries are shown as they are without it."""

    check: Callable[[Call, Found], object] | None = None
    """Who may read it beyond the spec's ``security`` (a private wantlist is a 403)."""

    examples: Mapping[int, str] = field(default_factory=dict)
    """Documentation examples that answer for an id (the operation's first path parameter)."""

    sorts: Callable[[Call], Mapping[str, Callable[[Any], Any]]] | None = None
    """``sort`` value → the key of an entry; the first is the default for ``sort_order``."""

    sort_by_field: bool = False
    """Whether each value of the spec's ``sort`` enum names the entry field it sorts by."""

    reachable: int | None = None
    """How many entries can be paged to at most (search's 10,000); all when None."""


_IMAGE_FIELDS = ("uri", "resource_url", "uri150")


def example_body(name: str, *, signed: bool) -> Any:
    """A documentation example; without a credential its image URLs are "" as on Discogs."""
    body = load_example(name)
    if not signed and isinstance(body, dict):
        for image in body.get("images") or ():
            image.update(dict.fromkeys(_IMAGE_FIELDS, ""))
        if "thumb" in body:
            body["thumb"] = ""
    return body


def answer(call: Call, read: Read, finders: Mapping[str, Finder]) -> Reply:
    """The reply of a read operation, as its table entry describes it."""
    from discogs_sandbox.endpoints.registry import Reply

    rules = call.rules
    key = rules.items_key if rules is not None else None
    names = _path_names(call)
    first = _as_int(call.path_params.get(names[0])) if names else None
    example = read.examples.get(first) if first is not None else None
    found: dict[str, Any] = {}
    if example is None:
        for name in names:
            finder = finders.get(name)
            if finder is not None:
                found[name] = finder(call, found)
        if read.check is not None:
            read.check(call, found)
    if example is not None:
        body = example_body(example, signed=call.signed)
        if key is None:
            return Reply(rules.success_status if rules else 200, body)
        entries: Any = list(body[key])
    else:
        entries = read.body(call, found)
        if key is None:
            return Reply(rules.success_status if rules else 200, entries)
    sorts = read.sorts(call) if read.sorts is not None else None
    entries = sort_entries(call, entries, sorts, by_field=read.sort_by_field)
    show = read.entry
    if show is None:
        return page_of(call, key, entries, reachable=read.reachable)
    return page_of(
        call,
        key,
        Listing(len(entries), lambda a, b: [show(call, found, e) for e in _cut(entries, a, b)]),
        reachable=read.reachable,
    )


def page_of(
    call: Call, key: str, entries: Sequence[Any] | Window, *, reachable: int | None = None
) -> Reply:
    """One page of a list: the page-building shape every paginated answer shares."""
    return call.paged(key, len(entries), lambda a, b: _cut(entries, a, b), reachable=reachable)


def _cut(entries: Sequence[Any] | Window, start: int, stop: int) -> Any:
    if isinstance(entries, Sequence):
        return list(entries[start:stop])
    return entries.window(start, stop)


def sort_entries(
    call: Call,
    entries: Any,
    sorts: Mapping[str, Callable[[Any], Any]] | None = None,
    *,
    by_field: bool = False,
) -> Any:
    """Entries in the order ``sort`` and ``sort_order`` ask for (as they are when neither is).

    ``sorts`` maps each ``sort`` value to the key of an entry, the first being the default;
    ``by_field`` reads each value of the spec's ``sort`` enum as the entry field it sorts by.
    """
    if by_field and call.rules is not None:
        sorts = {str(name): _field(str(name)) for name in call.rules.enum("sort")}
    sort = call.query.get("sort") or None
    order = call.query.get("sort_order") or None
    if not sorts or (sort is None and order is None) or not isinstance(entries, Sequence):
        return entries
    key_of = sorts[sort or next(iter(sorts))]
    return sorted(
        entries, key=lambda e: (str(key_of(e)).casefold(), _tie(e)), reverse=order == "desc"
    )


def _field(name: str) -> Callable[[Any], Any]:
    return lambda entry: entry.get(name, "")


def _tie(entry: Any) -> Any:
    """What orders entries with equal keys: their id (dict entries) or themselves."""
    return entry.get("id", 0) if isinstance(entry, Mapping) else entry


def _path_names(call: Call) -> list[str]:
    """The path parameters in the order they appear in the path."""
    rules = call.rules
    template = rules.template if rules is not None else call.path
    names = [p.name for p in rules.parameters if p.location == "path"] if rules else []
    return sorted(names, key=lambda name: template.find("{" + name + "}"))


def _as_int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
