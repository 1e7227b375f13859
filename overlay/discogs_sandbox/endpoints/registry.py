"""What every operation handler receives and returns, and the table of handlers.

A handler is a plain function ``(Call) -> Reply`` registered under its operationId with
:func:`handles`. It runs under the state lock, so it may read and change the state freely.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from discogs_sandbox.config import SandboxConfig
from discogs_sandbox.credentials import Principal
from discogs_sandbox.people import UserSeed
from discogs_sandbox.rules import (
    MESSAGES,
    Page,
    forbidden,
    not_found,
    paginate,
    parse_page,
    unauthorized,
    unprocessable,
)
from discogs_sandbox.spec_core import OperationRules
from discogs_sandbox.state import SandboxState

__all__ = ["HANDLERS", "Call", "Handler", "Reply", "dataset_reply", "handles"]


@dataclass
class Reply:
    """An answer: status, body (JSON value, bytes or None), headers and media type."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


@dataclass
class Call:
    """One request as a handler sees it."""

    operation_id: str
    method: str
    path: str
    path_params: Mapping[str, str]
    query_items: Sequence[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    principal: Principal
    base_url: str
    state: SandboxState
    config: SandboxConfig
    rules: OperationRules | None = None
    """What the spec says about the operation (checks already applied by the core)."""

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the last value wins when one is repeated)."""
        return dict(self.query_items)

    @property
    def signed(self) -> bool:
        """Whether image URLs are filled in (any credential, as on Discogs)."""
        return self.principal.authenticated

    def int_param(self, name: str, not_found_kind: str = "not_found") -> int:
        """A whole-number path parameter; 404 when it is not one."""
        try:
            return int(self.path_params[name])
        except (KeyError, ValueError):
            raise not_found(not_found_kind) from None

    def user_param(self, name: str = "username") -> UserSeed:
        """The user named in the path; 404 when there is no such user."""
        user = self.state.user(self.path_params.get(name, ""))
        if user is None:
            raise not_found("user")
        return user

    def current_user(self) -> UserSeed:
        """The user the credential acts as; 401 when it acts as nobody."""
        name = self.principal.username
        user = self.state.user(name) if name else None
        if user is None:
            raise unauthorized("this operation needs a user: a personal token or OAuth")
        return user

    def require_owner(self, user: UserSeed) -> UserSeed:
        """The caller must be ``user``: 401 when anonymous, 403 when someone else."""
        caller = self.current_user()
        if caller.username != user.username:
            raise forbidden()
        return caller

    def is_owner(self, user: UserSeed) -> bool:
        """Whether the caller is ``user``."""
        name = self.principal.username
        return name is not None and name.lower() == user.username.lower()

    def fields(self) -> dict[str, Any]:
        """Parameters from the query string and the body (JSON object or form)."""
        return {**dict(self.query_items), **self.body_fields()}

    def body_fields(self) -> dict[str, Any]:
        """Parameters from the body alone (JSON object or form)."""
        values: dict[str, Any] = {}
        text = self.body.decode("utf-8", "replace").strip()
        if not text:
            return values
        content_type = self.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in content_type:
            values.update(parse_qsl(text, keep_blank_values=True))
            return values
        try:
            decoded = json.loads(text)
        except ValueError:
            raise unprocessable(MESSAGES["malformed"]) from None
        if not isinstance(decoded, dict):
            raise unprocessable(MESSAGES["malformed"])
        values.update(decoded)
        return values

    def page(self) -> Page:
        """The requested page (422 for a bad page or per_page)."""
        return parse_page(self.query)

    def paged(
        self,
        key: str,
        total: int,
        items: Callable[[int, int], list[Any]],
        *,
        reachable: int | None = None,
    ) -> Reply:
        """One page of a list: ``items(start, stop)`` gives the entries of the page.

        ``reachable`` caps how many entries can be paged to (search's 10,000), while
        ``items`` in the pagination still reports ``total``.
        """
        page = self.page()
        pagination, link = paginate(
            self.base_url, self.path, self.query_items, page, total, reachable=reachable
        )
        headers = {"Link": link} if link else {}
        return Reply(200, {"pagination": pagination, key: items(page.start, page.stop)}, headers)


Handler = Callable[[Call], Reply]

HANDLERS: dict[str, Handler] = {}
"""Every registered handler by operationId (filled by the modules of this package)."""


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of an operation."""

    def register(function: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise RuntimeError(f"two handlers for {operation_id}")
        HANDLERS[operation_id] = function
        return function

    return register


def dataset_reply(call: Call, body: Any) -> Reply:
    """The generic answer of an operation no handler owns: the body the core made for it.

    A paginated body (the operation's success schema has ``pagination``) is paged like any
    list, so its ``page``/``per_page`` and ``Link`` header follow the rules of every list.
    """
    rules = call.rules
    status = rules.success_status if rules is not None else 200
    key = rules.items_key if rules is not None else None
    if key and isinstance(body, dict) and isinstance(body.get(key), list):
        from discogs_sandbox.reading import page_of

        return page_of(call, key, body[key])
    return Reply(status, body)


def no_content() -> Reply:
    """204 No Content."""
    return Reply(204)
