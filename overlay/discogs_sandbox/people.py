"""The users of the sandbox and what they start with: collections, wantlists, inventory, orders.

Collections and wantlists can be huge (100,000 items), so their items are computed from their
position on demand; inventory, orders and lists are small and built once per user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from discogs_sandbox.catalogue import RELEASE_COUNT, Catalogue, past, timestamp
from discogs_sandbox.config import OTHER_USERNAMES, SANDBOX_USERNAME, SandboxConfig
from discogs_sandbox.seeding import API_ROOT, WEB_ROOT, mix, rng
from discogs_sandbox.spec_core import spec_enum

# Multipliers coprime with RELEASE_COUNT (2**8 * 5**7): position -> release id is one-to-one.
_COLLECTION_STEP = 7_368_787
_COLLECTION_STEP_INVERSE = pow(_COLLECTION_STEP, -1, RELEASE_COUNT)
_WANT_STEP = 9_999_991
_WANT_STEP_INVERSE = pow(_WANT_STEP, -1, RELEASE_COUNT)

MEDIA_CONDITIONS = spec_enum("MediaCondition")
SLEEVE_CONDITIONS = spec_enum("SleeveCondition")
SETTABLE_ORDER_STATUSES = spec_enum("OrderStatusInput")
CURRENCY_SYMBOLS = {
    "USD": "$",
    "GBP": "£",
    "EUR": "€",
    "CAD": "CA$",
    "AUD": "A$",
    "JPY": "¥",
    "CHF": "CHF ",
    "MXN": "MX$",
    "BRL": "R$",
    "NZD": "NZ$",
    "SEK": "SEK ",
    "ZAR": "ZAR ",
}


@dataclass(frozen=True)
class CollectionField:
    """A custom notes field of a collection."""

    id: int
    name: str
    type: str
    position: int
    public: bool
    options: tuple[str, ...] = ()
    lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The field as ``GET …/collection/fields`` lists it."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "public": self.public,
        }
        if self.type == "dropdown":
            body["options"] = list(self.options)
        else:
            body["lines"] = self.lines
        return body


FIELDS = (
    CollectionField(1, "Media Condition", "dropdown", 1, True, MEDIA_CONDITIONS),
    CollectionField(
        2, "Sleeve Condition", "dropdown", 2, True, ("Generic", "No Cover", *MEDIA_CONDITIONS)
    ),
    CollectionField(3, "Notes", "textarea", 3, True, lines=3),
    CollectionField(4, "Private notes", "textarea", 4, False, lines=5),
)


@dataclass(frozen=True)
class UserSeed:
    """A user of the dataset and the shape of what they own."""

    index: int
    username: str
    id: int
    name: str | None
    location: str | None
    profile: str
    home_page: str
    curr_abbr: str
    collection_public: bool
    wantlist_public: bool
    folders: tuple[tuple[int, str], ...]
    inventory_size: int

    @property
    def instance_base(self) -> int:
        """Instance ids of this user's generated collection start here."""
        return (self.index + 1) * 100_000_000

    @property
    def listing_base(self) -> int:
        """Listing ids of this user's generated inventory start here."""
        return 300_000_000 + self.index * 10_000_000

    @property
    def list_base(self) -> int:
        """List ids of this user's lists start here."""
        return (self.index + 1) * 1000

    def resource_url(self) -> str:
        """API URL of the user."""
        return f"{API_ROOT}/users/{self.username}"

    def ref(self) -> dict[str, Any]:
        """The user as Marketplace objects reference it."""
        return {
            "id": self.id,
            "username": self.username,
            "avatar_url": f"https://secure.gravatar.com/avatar/{self.id:032x}?s=300",
            "resource_url": self.resource_url(),
        }


def make_users(config: SandboxConfig) -> dict[str, UserSeed]:
    """The users of a sandbox: ``sandbox`` first, then the others."""
    inventory = config.inventory_size
    seeds = [
        UserSeed(
            0,
            SANDBOX_USERNAME,
            1_000_001,
            "Sandbox Sampleman",
            "Reykjavík, Ísland",
            "I test Discogs clients. [b]Ström & Drang[/b] collector.",
            "https://sandbox.example.com",
            "USD",
            True,
            True,
            (
                (1, "Uncategorized"),
                (1_000_001, "Vinyl"),
                (1_000_002, "CDs & Tapes — Ström"),
                (1_000_003, "To sell"),
            ),
            inventory,
        ),
        UserSeed(
            1,
            OTHER_USERNAMES[0],
            1_000_002,
            "Zoë Ødegård",
            "Oslo",
            "Mostly jazz, some 坂本龍一.",
            "",
            "EUR",
            True,
            True,
            ((1, "Uncategorized"), (1_001_001, "Jazz")),
            inventory,
        ),
        UserSeed(
            2,
            OTHER_USERNAMES[1],
            1_000_003,
            None,
            None,
            "",
            "",
            "GBP",
            False,
            False,
            ((1, "Uncategorized"),),
            inventory,
        ),
        UserSeed(
            3,
            OTHER_USERNAMES[2],
            1_000_004,
            "レコード店",
            "Tōkyō",
            "Shipping worldwide from Tōkyō.",
            "https://record-shop.example.com",
            "JPY",
            True,
            True,
            ((1, "Uncategorized"), (1_003_001, "Shop stock")),
            inventory * 3,
        ),
    ]
    return {seed.username.lower(): seed for seed in seeds}


@dataclass(frozen=True, slots=True)
class BaseInstance:
    """A generated collection instance (before any change made through the API)."""

    instance_id: int
    release_id: int
    folder_id: int
    rating: int
    date_added: str
    notes: tuple[tuple[int, str], ...]


class Holdings:
    """What the dataset's users own when the sandbox starts."""

    def __init__(self, seed: int, catalogue: Catalogue, config: SandboxConfig) -> None:
        self.seed = seed
        self.catalogue = catalogue
        self.config = config

    # --- collection ---------------------------------------------------------------------------

    def folder_of(self, user: UserSeed, index: int) -> int:
        """The folder a generated instance starts in (cheap: no hashing)."""
        folders = user.folders
        if len(folders) == 1:
            return folders[0][0]
        bucket = (index * 2654435761 + user.index * 97) % 100
        if bucket < 55:
            return folders[0][0]
        others = folders[1:]
        return others[(bucket - 55) * len(others) // 45][0]

    def collection_release(self, user: UserSeed, index: int) -> int:
        """Release id of generated instance ``index``."""
        offset = mix(self.seed, "collection", user.username)
        return 1 + (index * _COLLECTION_STEP + offset) % RELEASE_COUNT

    def instance(self, user: UserSeed, index: int) -> BaseInstance:
        """Generated instance number ``index`` (0 is the most recently added)."""
        notes: list[tuple[int, str]] = []
        if index % 3 == 0:
            notes.append((1, MEDIA_CONDITIONS[index % 4]))
        if index % 11 == 0:
            notes.append((3, "Signed copy — «première» pressing"))
        if index % 17 == 0:
            notes.append((4, "Bought in Göteborg"))
        return BaseInstance(
            instance_id=user.instance_base + index,
            release_id=self.collection_release(user, index),
            folder_id=self.folder_of(user, index),
            rating=(index * 7 + user.index) % 6,
            date_added=timestamp(past(index * 3671.0 + user.index * 13)),
            notes=tuple(notes),
        )

    def collection_index(self, user: UserSeed, release_id: int) -> int | None:
        """Position of a release in the generated collection, or None if it is not there."""
        offset = mix(self.seed, "collection", user.username)
        index = ((release_id - 1 - offset) * _COLLECTION_STEP_INVERSE) % RELEASE_COUNT
        return index if index < self.config.collection_size else None

    # --- wantlist -----------------------------------------------------------------------------

    def want_release(self, user: UserSeed, index: int) -> int:
        """Release id of generated want ``index``."""
        offset = mix(self.seed, "wants", user.username) % RELEASE_COUNT
        return 1 + (index * _WANT_STEP + offset) % RELEASE_COUNT

    def want_index(self, user: UserSeed, release_id: int) -> int | None:
        """Position of a release in the generated wantlist, or None if it is not there."""
        offset = mix(self.seed, "wants", user.username) % RELEASE_COUNT
        index = ((release_id - 1 - offset) * _WANT_STEP_INVERSE) % RELEASE_COUNT
        return index if index < self.config.effective_wantlist_size else None

    def want_extras(self, user: UserSeed, index: int) -> tuple[int, str, str]:
        """(rating, notes, date added) of generated want ``index``."""
        notes = ("", "Looking for the first pressing", "Ønskeliste — any condition")[index % 3]
        return (index * 5) % 6, notes, timestamp(past(index * 5003.0 + user.index * 17))

    # --- inventory, orders, lists -------------------------------------------------------------

    def listings(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's generated listings as mutable records."""
        records = []
        for index in range(user.inventory_size):
            r = rng(self.seed, "listing", user.username, index)
            status = ("For Sale",) * 7 + ("Draft", "Expired", "Sold")
            records.append(
                {
                    "id": user.listing_base + index,
                    "owner": user.username.lower(),
                    "release_id": self.catalogue.random_release_id("listing", user.index, index),
                    "status": status[index % len(status)],
                    "condition": r.choice(MEDIA_CONDITIONS[:6]),
                    "sleeve_condition": r.choice((*SLEEVE_CONDITIONS, None)),
                    "comments": r.choice(("", "Plays great. Ström sticker on sleeve.", None)),
                    "price": round(r.uniform(1.0, 120.0), 2),
                    "currency": user.curr_abbr,
                    "shipping": round(r.uniform(0.0, 12.0), 2),
                    "allow_offers": r.random() < 0.4,
                    "external_id": r.choice((None, f"SKU-{index:05d}")),
                    "location": r.choice((None, f"Shelf {index % 20}")),
                    "weight": r.choice((230.0, 115.0, None)),
                    "format_quantity": r.choice((1, 2, None)),
                    "posted": timestamp(past(index * 86_400.0 / 3)),
                    "audio": r.random() < 0.1,
                }
            )
        return records

    def orders(self, seller: UserSeed, buyers: list[UserSeed]) -> list[dict[str, Any]]:
        """The user's generated orders (as seller), each with its message log."""
        orders = []
        statuses = (
            "New Order",
            "Invoice Sent",
            "Payment Received",
            "Shipped",
            "Cancelled (Non-Paying Buyer)",
            "Payment Pending",
        )
        for number in range(1, self.config.order_count + 1):
            r = rng(self.seed, "order", seller.username, number)
            buyer = buyers[number % len(buyers)]
            order_id = f"{seller.id}-{number}"
            created = past(number * 40_000.0)
            items = [
                {
                    "id": seller.listing_base + 5_000_000 + number * 10 + k,
                    "release_id": self.catalogue.random_release_id(
                        "order", seller.index, number, k
                    ),
                    "price": round(r.uniform(2.0, 60.0), 2),
                    "media_condition": r.choice(MEDIA_CONDITIONS[:5]),
                    "sleeve_condition": r.choice((*SLEEVE_CONDITIONS[:5], None)),
                }
                for k in range(r.randint(1, 3))
            ]
            status = statuses[number % len(statuses)]
            messages: list[dict[str, Any]] = [
                {
                    "type": "status",
                    "status_id": 1,
                    "message": f"{buyer.username} placed order #{order_id}.",
                    "subject": f"Discogs Order #{order_id}",
                    "timestamp": timestamp(created),
                    "actor": buyer.ref(),
                },
                {
                    "type": "message",
                    "message": "Hallå! Can you combine shipping? — 谢谢",
                    "subject": f"New Message - Order #{order_id}",
                    "timestamp": timestamp(created + (past(0) - past(600))),
                    "from": buyer.ref(),
                },
            ]
            if status in ("Shipped", "Payment Received"):
                messages.append(
                    {
                        "type": "shipping",
                        "message": "Shipping changed.",
                        "subject": "",
                        "timestamp": timestamp(created + (past(0) - past(3600))),
                        "original": 0,
                        "new": 4.5,
                    }
                )
            messages.reverse()  # most recent first, as Discogs lists them
            orders.append(
                {
                    "id": order_id,
                    "seller": seller.username.lower(),
                    "buyer": buyer.username.lower(),
                    "status": status,
                    "items": items,
                    "currency": seller.curr_abbr,
                    "shipping": round(r.uniform(0.0, 9.0), 2),
                    "shipping_method": r.choice(("Standard", "Registered Mail", None)),
                    "created": timestamp(created),
                    "last_activity": timestamp(created + (past(0) - past(7200))),
                    "archived": number % 9 == 0,
                    "shipping_address": f"{buyer.name or buyer.username}\nStorgatan 1\nMalmö",
                    "additional_instructions": r.choice(("", "Please pack well", None)),
                    "messages": [{**m, "order_id": order_id} for m in messages],
                }
            )
        return orders

    def lists(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's generated lists, each with its items."""
        lists = []
        for number in range(self.config.list_count):
            r = rng(self.seed, "list", user.username, number)
            list_id = user.list_base + number + 1
            name = ("Desert island discs", "Ström & Drang", "Sold too soon", "日本の名盤")[
                number % 4
            ]
            items = []
            for k in range(r.randint(3, 25)):
                release_id = self.catalogue.random_release_id("list", user.index, number, k)
                core = self.catalogue.release_core(release_id)
                items.append(
                    {
                        "id": release_id,
                        "type": "release",
                        "display_title": core.artist_title,
                        "comment": r.choice(("", "Essential.", None, "Première écoute: 1999")),
                        "uri": f"{WEB_ROOT}/release/{release_id}",
                        "resource_url": f"{API_ROOT}/releases/{release_id}",
                        "image_url": self.catalogue.thumb(core, signed=True) or None,
                        "stats": {"community": {"in_collection": k * 3, "in_wantlist": k}},
                    }
                )
            lists.append(
                {
                    "id": list_id,
                    "owner": user.username.lower(),
                    "name": f"{name} #{number + 1}",
                    "description": r.choice(("", "Records I keep coming back to.", None)),
                    "public": number != 1,
                    "date_added": timestamp(past(number * 900_000.0)),
                    "date_changed": timestamp(past(number * 400_000.0)),
                    "items": items,
                }
            )
        return lists

    def contribution_ids(self, user: UserSeed) -> list[int]:
        """Releases the user contributed to (edits)."""
        count = 30 + mix(self.seed, "contributions", user.username) % 90
        return [self.catalogue.random_release_id("contrib", user.index, n) for n in range(count)]

    def submission_counts(self, user: UserSeed) -> tuple[int, int, int]:
        """(artists, labels, releases) the user submitted."""
        h = mix(self.seed, "submissions", user.username)
        return 3 + h % 20, 2 + (h >> 8) % 10, 10 + (h >> 16) % 60
