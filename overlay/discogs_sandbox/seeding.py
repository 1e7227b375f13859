"""Stable pseudo-random numbers for the sandbox dataset and fault draws.

Every value of the dataset is a function of the seed and a few names (``"release", 42``), never
of the order in which things were asked for, so any item can be made on its own, on demand.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

API_ROOT = "https://api.discogs.com"
"""Root of API URLs inside generated bodies (rewritten to the sandbox's own URL when served)."""

WEB_ROOT = "https://www.discogs.com"
"""Root of web page URLs (``uri`` fields) inside generated bodies."""

IMAGE_ROOT = "https://i.discogs.com/sandbox"
"""Root of the (fake) image URLs of generated items."""


def mix(*parts: object) -> int:
    """A 64-bit number determined by the parts (stable across runs and Python versions)."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A number in [0, 1) determined by the parts."""
    return mix(*parts) / 2.0**64


def rng(*parts: object) -> random.Random:
    """A random generator seeded from the parts."""
    return random.Random(mix(*parts))


def pick(options: Sequence[T], *parts: object) -> T:
    """One of the options, chosen by the parts."""
    return options[mix(*parts) % len(options)]
