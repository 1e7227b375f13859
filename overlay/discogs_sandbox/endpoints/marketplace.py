"""Marketplace operations: inventory, listings, orders, messages, fees, suggestions, stats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from discogs_sandbox.catalogue import fee_for
from discogs_sandbox.endpoints.database import CURRENCIES, USD_RATES, convert, currency_of
from discogs_sandbox.endpoints.registry import Call, Reply, handles, no_content
from discogs_sandbox.people import (
    CURRENCY_SYMBOLS,
    MEDIA_CONDITIONS,
    SETTABLE_ORDER_STATUSES,
    SLEEVE_CONDITIONS,
    UserSeed,
)
from discogs_sandbox.reading import Found
from discogs_sandbox.rules import (
    ApiError,
    not_found,
    parse_bool,
    parse_int,
    parse_number,
    unprocessable,
)
from discogs_sandbox.seeding import API_ROOT, WEB_ROOT
from discogs_sandbox.spec_core import spec_enum

EXAMPLE_LISTING = 172723812
LISTING_NOT_FOUND = "The request resource was not found."
_CURRENCY_IDS = {code: n + 1 for n, code in enumerate(CURRENCIES)}


def _money(value: float, currency: str) -> dict[str, Any]:
    return {"currency": currency, "value": value}


def _original(value: float, currency: str) -> dict[str, Any]:
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    return {
        "curr_abbr": currency,
        "curr_id": _CURRENCY_IDS.get(currency, 1),
        "formatted": f"{symbol}{value:,.2f}",
        "value": value,
    }


def _in(value: float, source: str, target: str) -> float:
    usd = value / USD_RATES.get(source, 1.0)
    return convert(usd, target) or 0.0


def listing_body(call: Call, record: dict[str, Any], currency: str | None = None) -> dict[str, Any]:
    """A listing as Discogs shows it; the owner also sees private fields."""
    state = call.state
    seller = state.user(record["owner"])
    assert seller is not None
    owner = call.is_owner(seller)
    own_currency = record["currency"]
    shown = currency or own_currency
    core = state.catalogue.release_core(record["release_id"])
    release_id = record["release_id"]
    body: dict[str, Any] = {
        "id": record["id"],
        "resource_url": f"{API_ROOT}/marketplace/listings/{record['id']}",
        "uri": f"{WEB_ROOT}/sell/item/{record['id']}",
        "status": record["status"],
        "condition": record["condition"],
        "sleeve_condition": record["sleeve_condition"],
        "comments": record["comments"],
        "ships_from": seller.location,
        "posted": record["posted"],
        "allow_offers": record["allow_offers"],
        "offer_submitted": False,
        "audio": record["audio"],
        "price": _money(_in(record["price"], own_currency, shown), shown),
        "original_price": _original(record["price"], own_currency),
        "shipping_price": _money(_in(record["shipping"], own_currency, shown), shown),
        "original_shipping_price": _original(record["shipping"], own_currency),
        "seller": {
            **seller.ref(),
            "url": seller.resource_url(),
            "html_url": f"{WEB_ROOT}/user/{seller.username}",
            "uid": seller.id,
            "shipping": "Buyer pays shipping; combined shipping welcome.",
            "payment": "PayPal",
            "min_order_total": None,
            "stats": {"rating": "100.0", "stars": 5.0, "total": 120},
        },
        "release": {
            "id": release_id,
            "description": core.artist_title + f" ({core.format_text})",
            "resource_url": f"{API_ROOT}/releases/{release_id}",
            "catalog_number": core.catno or None,
            "year": core.year,
            "artist": core.artist_name,
            "title": core.title,
            "format": core.format_text,
            "label": core.label_name,
            "thumbnail": state.catalogue.thumb(core, signed=call.signed),
            "stats": {"community": {"in_wantlist": 3, "in_collection": 11}},
        },
    }
    if call.principal.authenticated:
        body["in_cart"] = False
    if owner:
        body.update(
            weight=record["weight"],
            format_quantity=record["format_quantity"],
            external_id=record["external_id"],
            location=record["location"],
            quantity=1,
        )
    return body


def _inventory_sorts(call: Call) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """The sort keys of an inventory (the spec's ``sort`` enum), each as a key function."""
    core = call.state.catalogue.release_core
    return {
        "listed": lambda r: r["posted"],
        "price": lambda r: r["price"],
        "item": lambda r: core(r["release_id"]).artist_title.casefold(),
        "artist": lambda r: core(r["release_id"]).artist_name.casefold(),
        "label": lambda r: core(r["release_id"]).label_name.casefold(),
        "catno": lambda r: core(r["release_id"]).catno.casefold(),
        "audio": lambda r: r["audio"],
        "status": lambda r: r["status"],
        "location": lambda r: (r["location"] or "").casefold(),
    }


OTHERS_PAGE_LIMIT = 100
"""Discogs pages another seller's inventory no further than this."""


@handles("get_inventory")
def get_inventory(call: Call) -> Reply:
    """GET /users/{username}/inventory (others see only listings For Sale, 100 pages)."""
    user = call.user_param()
    query = call.query
    status, sort, order = query.get("status"), query.get("sort"), query.get("sort_order")
    owner = call.is_owner(user)
    if not owner and call.page().number > OTHERS_PAGE_LIMIT:
        raise ApiError(403, "Pagination above 100 disabled for inventories besides your own")
    records = call.state.inventory(user)
    if not owner:
        records = [r for r in records if r["status"] == "For Sale"]
    elif status and status != "All":
        records = [r for r in records if r["status"] == status]
    if sort:
        sort_key = _inventory_sorts(call)[sort]
        records = sorted(records, key=lambda r: (sort_key(r), r["id"]), reverse=order == "desc")
    return call.paged(
        "listings", len(records), lambda a, b: [listing_body(call, r) for r in records[a:b]]
    )


def _listing(call: Call) -> dict[str, Any]:
    listing_id = call.int_param("listing_id", LISTING_NOT_FOUND)
    record = call.state.listings.get(listing_id)
    if record is None or record["status"] == "Deleted":
        raise not_found(LISTING_NOT_FOUND)
    seller = call.state.user(record["owner"])
    assert seller is not None
    if record["status"] != "For Sale" and not call.is_owner(seller):
        raise not_found(LISTING_NOT_FOUND)
    return record


def listing_of(call: Call, found: Found) -> dict[str, Any]:
    """The listing the path names, as :func:`_listing` finds it."""
    return _listing(call)


def listing_shown(call: Call, found: Found) -> dict[str, Any]:
    """A listing, in the currency asked for."""
    return listing_body(call, found["listing_id"], call.query.get("curr_abbr") or None)


def _listing_fields(call: Call, *, partial: bool) -> dict[str, Any]:
    fields = call.fields()
    values: dict[str, Any] = {}
    for name in ("release_id", "condition", "price"):
        if name not in fields and not partial:
            raise unprocessable(f"Missing {name}: release_id, condition and price are required.")
    if "release_id" in fields:
        values["release_id"] = parse_int(fields["release_id"], "release_id", 1)
        if not call.state.catalogue.release_exists(values["release_id"]):
            raise unprocessable("Invalid release_id: no such release.")
    if "condition" in fields:
        if fields["condition"] not in MEDIA_CONDITIONS:
            raise unprocessable(
                f"Invalid condition: expected one of {', '.join(MEDIA_CONDITIONS)}."
            )
        values["condition"] = fields["condition"]
    if fields.get("sleeve_condition") is not None:
        if fields["sleeve_condition"] not in SLEEVE_CONDITIONS:
            raise unprocessable(
                f"Invalid sleeve_condition: expected one of {', '.join(SLEEVE_CONDITIONS)}."
            )
        values["sleeve_condition"] = fields["sleeve_condition"]
    if "price" in fields:
        values["price"] = round(parse_number(fields["price"], "price", minimum=0), 2)
    if "status" in fields:
        statuses = {s.casefold(): s for s in spec_enum("ListingStatusInput")}
        if str(fields["status"]).casefold() not in statuses:
            raise unprocessable(f"Invalid status: expected one of {', '.join(statuses.values())}.")
        values["status"] = statuses[str(fields["status"]).casefold()]
    if "allow_offers" in fields:
        values["allow_offers"] = parse_bool(fields["allow_offers"], "allow_offers")
    for name in ("comments", "external_id", "location"):
        if name in fields:
            values[name] = str(fields[name])
    for name in ("weight", "format_quantity"):
        if name in fields:
            raw = fields[name]
            values[name] = "auto" if raw == "auto" else parse_number(raw, name, minimum=0)
    return values


@handles("create_listing")
def create_listing(call: Call) -> Reply:
    """POST /marketplace/listings: a new listing in the caller's inventory."""
    user = call.current_user()
    listing_id = call.state.create_listing(user, _listing_fields(call, partial=False))
    url = f"{API_ROOT}/marketplace/listings/{listing_id}"
    return Reply(201, {"listing_id": listing_id, "resource_url": url})


def _own_listing(call: Call) -> dict[str, Any]:
    call.current_user()
    record = _listing(call)
    seller = call.state.user(record["owner"])
    assert seller is not None
    call.require_owner(seller)
    return record


@handles("edit_listing")
def edit_listing(call: Call) -> Reply:
    """POST /marketplace/listings/{listing_id} (only For Sale, Draft or Expired listings)."""
    record = _own_listing(call)
    if record["status"] not in ("For Sale", "Draft", "Expired"):
        raise unprocessable(f"A listing that is {record['status']} cannot be edited.")
    # Discogs changes only the fields sent: {"comments": "x"} is a whole edit.
    record.update(_listing_fields(call, partial=True))
    return no_content()


@handles("delete_listing")
def delete_listing(call: Call) -> Reply:
    """DELETE /marketplace/listings/{listing_id}."""
    record = _own_listing(call)
    del call.state.listings[record["id"]]
    return no_content()


_PAID = ("Payment Received", "In Progress", "Shipped")
_CANCELLED = tuple(s for s in SETTABLE_ORDER_STATUSES if s.startswith("Cancelled"))


def next_statuses(status: str) -> list[str]:
    """Statuses a seller may set on an order that is ``status`` (its ``next_status``).

    As in Discogs' examples, the list holds the current status too, and an unpaid order may
    go to any settable status. Where the docs are silent the sandbox keeps orders moving
    forward: a paid order does not go back to before payment, a shipped one only to a
    refund, and a cancelled or merged order is final.
    """
    if status.startswith("Cancelled") or status == "Merged":
        return []
    if status == "Shipped":
        return ["Shipped", "Refund Sent"]
    if status == "Refund Sent":
        return ["Refund Sent", *_CANCELLED]
    if status in _PAID:
        return [s for s in SETTABLE_ORDER_STATUSES if s in _PAID[_PAID.index(status) :]] + [
            "Refund Sent",
            *_CANCELLED,
        ]
    return list(SETTABLE_ORDER_STATUSES)


def order_body(call: Call, order: dict[str, Any]) -> dict[str, Any]:
    """An order as the seller sees it."""
    seller = call.state.user(order["seller"])
    buyer = call.state.user(order["buyer"])
    assert seller is not None and buyer is not None
    currency = order["currency"]
    subtotal = sum(item["price"] for item in order["items"])
    items = []
    for item in order["items"]:
        core = call.state.catalogue.release_core(item["release_id"])
        items.append(
            {
                "id": item["id"],
                "release": {
                    "id": item["release_id"],
                    "description": f"{core.artist_title} ({core.format_text})",
                    "resource_url": f"{API_ROOT}/releases/{item['release_id']}",
                },
                "price": _money(item["price"], currency),
                "media_condition": item["media_condition"],
                "sleeve_condition": item["sleeve_condition"],
            }
        )
    order_id = order["id"]
    return {
        "id": order_id,
        "resource_url": f"{API_ROOT}/marketplace/orders/{order_id}",
        "messages_url": f"{API_ROOT}/marketplace/orders/{order_id}/messages",
        "uri": f"{WEB_ROOT}/sell/order/{order_id}",
        "status": order["status"],
        "next_status": next_statuses(order["status"]),
        "fee": fee_for(subtotal, currency),
        "created": order["created"],
        "last_activity": order["last_activity"],
        "items": items,
        "shipping": {
            "currency": currency,
            "method": order["shipping_method"],
            "value": order["shipping"],
        },
        "shipping_address": order["shipping_address"],
        "additional_instructions": order["additional_instructions"],
        "archived": order["archived"],
        "seller": seller.ref(),
        "buyer": buyer.ref(),
        "total": _money(round(subtotal + order["shipping"], 2), currency),
    }


def _order(call: Call) -> dict[str, Any]:
    caller = call.current_user()
    order = call.state.orders.get(call.path_params.get("order_id", ""))
    if order is None:
        raise not_found()
    if order["seller"] != caller.username.lower():
        raise ApiError(403, "You don't have permission to access this resource.")
    return order


def order_of(call: Call, found: Found) -> dict[str, Any]:
    """The order the path names: 404 when there is none, 403 for anyone but its seller."""
    return _order(call)


def _change_status(call: Call, order: dict[str, Any], status: str, seller: UserSeed) -> str:
    if status not in next_statuses(order["status"]):
        allowed = ", ".join(next_statuses(order["status"])) or "none"
        raise unprocessable(f"Invalid status: expected one of {allowed}.")
    note = f"Seller changed status from {order['status']} to {status}"
    order["status"] = status
    _log(call, order, {"type": "status", "status_id": 1, "message": note, "actor": seller.ref()})
    return note


def _log(call: Call, order: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "subject": f"Discogs Order #{order['id']}",
        "timestamp": call.state.now(),
        "order_id": order["id"],
        **message,
    }
    order["messages"].insert(0, entry)
    order["last_activity"] = entry["timestamp"]
    return entry


@handles("edit_order")
def edit_order(call: Call) -> Reply:
    """POST /marketplace/orders/{order_id}: change the status, or set shipping (invoices)."""
    order = _order(call)
    seller = call.current_user()
    fields = call.fields()
    if "status" in fields and "shipping" in fields:
        raise unprocessable("Send status or shipping, not both.")
    if "status" in fields:
        _change_status(call, order, str(fields["status"]), seller)
    elif "shipping" in fields:
        if order["status"].startswith("Cancelled") or order["status"] in (
            "Payment Received",
            "Shipped",
        ):
            raise unprocessable(
                f"Shipping cannot be changed on an order that is {order['status']}."
            )
        old = order["shipping"]
        order["shipping"] = round(parse_number(fields["shipping"], "shipping", minimum=0), 2)
        _log(
            call,
            order,
            {
                "type": "shipping",
                "message": "Shipping changed.",
                "original": old,
                "new": order["shipping"],
            },
        )
        order["status"] = "Invoice Sent"
    else:
        raise unprocessable("Nothing to change: give status or shipping.")
    return Reply(200, order_body(call, order))


@handles("list_orders")
def list_orders(call: Call) -> Reply:
    """GET /marketplace/orders: the caller's orders as seller."""
    user = call.current_user()
    # The core has checked status, sort and sort_order against the spec's enums.
    status, sort = call.query.get("status"), call.query.get("sort")
    order = call.query.get("sort_order")
    orders = call.state.user_orders(user)
    if status and status != "All":
        if status == "Cancelled":
            orders = [o for o in orders if o["status"].startswith("Cancelled")]
        else:
            orders = [o for o in orders if o["status"] == status]
    archived = call.query.get("archived")
    if archived:
        wanted = parse_bool(archived, "archived")
        orders = [o for o in orders if o["archived"] == wanted]
    for name in ("created_after", "created_before"):
        raw = call.query.get(name)
        if raw:
            try:
                limit = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise unprocessable(f"Invalid {name}: expected an ISO 8601 date.") from None
            bound = _as_aware(limit)
            after = name == "created_after"
            orders = [
                o
                for o in orders
                if (_as_aware(datetime.fromisoformat(o["created"])) >= bound) == after
            ]
    if sort:

        def key(o: dict[str, Any]) -> Any:
            if sort == "id":
                return int(o["id"].split("-")[1])
            return o[sort]

        orders = sorted(orders, key=key, reverse=order == "desc")
    return call.paged(
        "orders", len(orders), lambda a, b: [order_body(call, o) for o in orders[a:b]]
    )


def _as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def message_body(message: dict[str, Any]) -> dict[str, Any]:
    """An order message as Discogs lists it."""
    body = {k: v for k, v in message.items() if k != "order_id"}
    order_id = message["order_id"]
    body["order"] = {"id": order_id, "resource_url": f"{API_ROOT}/marketplace/orders/{order_id}"}
    return body


@handles("add_order_message")
def add_order_message(call: Call) -> Reply:
    """POST /marketplace/orders/{order_id}/messages: a message and/or a status change."""
    order = _order(call)
    seller = call.current_user()
    fields = call.fields()
    text = str(fields.get("message") or "")
    status = fields.get("status")
    if not text and not status:
        raise unprocessable("Give a message, a status, or both.")
    if status:
        note = _change_status(call, order, str(status), seller)
        text = f"{note}\n\n{text}" if text else note
    entry = _log(call, order, {"type": "message", "message": text, "from": seller.ref()})
    return Reply(201, message_body(entry))


def _fee_price(call: Call) -> float:
    try:
        price = float(call.path_params["price"])
    except (KeyError, ValueError):
        raise not_found() from None
    # Discogs wants a price above 0; the sandbox answers a fee of 0 for 0 rather than an
    # error the spec does not document for this operation.
    if price < 0 or price != price:
        raise not_found()
    return price


def fee_body(call: Call, found: Found) -> dict[str, Any]:
    """The fee for the path's price, in the path's currency (USD without one)."""
    currency = call.path_params.get("currency", "USD")
    if currency not in CURRENCIES:
        raise not_found()
    return fee_for(_fee_price(call), currency)


def price_suggestions_body(call: Call, found: Found) -> dict[str, Any]:
    """Suggested prices of a release, in the caller's currency."""
    user = call.current_user()
    return call.state.catalogue.price_suggestions(found["release_id"], user.curr_abbr)


def marketplace_stats_body(call: Call, found: Found) -> dict[str, Any]:
    """What is for sale of a release, the lowest price in the currency asked for."""
    currency = (
        currency_of(call)
        if call.principal.authenticated
        else (call.query.get("curr_abbr") or "USD")
    )
    count, lowest, blocked = call.state.catalogue.for_sale(found["release_id"])
    price = None if lowest is None else _money(convert(lowest, currency) or 0.0, currency)
    return {
        "lowest_price": price,
        "num_for_sale": None if blocked else count,
        "blocked_from_sale": blocked,
    }
