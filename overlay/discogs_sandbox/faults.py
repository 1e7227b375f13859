"""Fault injection: which request fails, and how, drawn reproducibly from a seed.

A draw depends on the seed, the kind of fault, the method and URL, and how many times that URL
was requested before, never on which thread asked first: the same test run against the same
sandbox sees the same failures.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from discogs_sandbox.config import FaultConfig
from discogs_sandbox.seeding import mix, unit

__all__ = ["FaultInjector", "FaultPlan"]


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong with one request (nothing, by default)."""

    status_5xx: int | None = None
    throttled: bool = False
    stall: bool = False
    reset: bool = False
    truncate: bool = False

    @property
    def any(self) -> bool:
        """Whether anything goes wrong."""
        return bool(self.status_5xx or self.throttled or self.stall or self.reset or self.truncate)


class FaultInjector:
    """Decides the faults of each request from a :class:`FaultConfig`; thread-safe."""

    def __init__(self, faults: FaultConfig, default_seed: int) -> None:
        self._lock = threading.Lock()
        self._default_seed = default_seed
        self.faults = faults
        self._seen: dict[str, int] = {}
        self._streak: dict[str, int] = {}
        self._bursts: dict[str, int] = {}

    @property
    def seed(self) -> int:
        """The seed the draws use."""
        return self.faults.seed if self.faults.seed is not None else self._default_seed

    def configure(self, faults: FaultConfig) -> None:
        """Switch to other faults; draws start over."""
        with self._lock:
            self.faults = faults
            self._seen.clear()
            self._streak.clear()
            self._bursts.clear()

    def reset(self) -> None:
        """Start the draws over (same faults)."""
        self.configure(self.faults)

    def _draw(self, kind: str, url: str, occurrence: int) -> float:
        return unit(self.seed, kind, url, occurrence)

    def plan(self, method: str, url: str, rate_key: str) -> FaultPlan:
        """The faults of the next request for ``method url`` made with ``rate_key``."""
        faults = self.faults
        if not faults.active:
            return FaultPlan()
        target = f"{method.upper()} {url}"
        with self._lock:
            occurrence = self._seen.get(target, 0)
            self._seen[target] = occurrence + 1
            throttled = False
            burst = self._bursts.get(rate_key, 0)
            if burst:
                self._bursts[rate_key] = burst - 1
                throttled = True
            elif faults.p429 and self._draw("429", target, occurrence) < faults.p429:
                self._bursts[rate_key] = faults.burst_429 - 1
                throttled = True
            status = None
            if faults.p5xx and self._draw("5xx", target, occurrence) < faults.p5xx:
                choice = mix(self.seed, "5xx-status", target, occurrence)
                status = faults.statuses_5xx[choice % len(faults.statuses_5xx)]
            plan = FaultPlan(
                status_5xx=status,
                throttled=throttled,
                stall=bool(faults.p_stall)
                and self._draw("stall", target, occurrence) < faults.p_stall,
                reset=bool(faults.p_reset)
                and self._draw("reset", target, occurrence) < faults.p_reset,
                truncate=bool(faults.p_truncate)
                and self._draw("truncate", target, occurrence) < faults.p_truncate,
            )
            # 429 bursts are the rate limiter's business; the streak bound is for failures.
            failing = plan.status_5xx or plan.stall or plan.reset or plan.truncate
            if failing and faults.max_consecutive is not None:
                streak = self._streak.get(target, 0)
                if streak >= faults.max_consecutive:
                    self._streak[target] = 0
                    return FaultPlan(throttled=throttled)
                self._streak[target] = streak + 1
            elif not failing:
                self._streak[target] = 0
            return plan
