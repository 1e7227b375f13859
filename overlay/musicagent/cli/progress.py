"""Export progress on the terminal: items done / total and an ETA that knows the rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from musicagent.ratelimit import RateLimitStatus


def eta_seconds(pages_left: int, seconds_per_page: float, rate: RateLimitStatus | None) -> float:
    """Seconds until the remaining pages are fetched.

    Network time alone would be `pages_left * seconds_per_page`; but once the rate budget is
    spent, each further page waits for a slot, one per `window / limit` seconds. The slower of
    the two is the honest estimate.
    """
    if pages_left <= 0:
        return 0.0
    network = pages_left * max(seconds_per_page, 0.0)
    if rate is None or rate.limit <= 0:
        return network
    over_budget = max(0, pages_left - rate.remaining)
    if over_budget == 0:
        return network
    paced = rate.next_free_in + (over_budget - 1) * rate.window / rate.limit
    return max(network, paced)


def format_duration(seconds: float) -> str:
    """`0.4 s`, `42 s`, `3 min 5 s`, `1 h 02 min`."""
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class ExportProgress:
    """A rich progress bar fed by `ExportJob`'s `on_progress(done, total, page, pages)`."""

    def __init__(
        self,
        label: str,
        rate: Callable[[], RateLimitStatus | None],
        console: Console,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._started = clock()
        self._first_page: int | None = None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("items"),
            TextColumn("[dim]{task.fields[eta]}"),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(label, total=None, eta="")

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, done: int, total: int | None, page: int, pages: int | None) -> None:
        """Record progress after a page."""
        if self._first_page is None:
            self._first_page = page - 1  # a resumed run starts past its first page
        fetched = page - self._first_page
        per_page = (self._clock() - self._started) / fetched if fetched > 0 else 0.0
        eta = ""
        if pages is not None:
            left = eta_seconds(pages - page, per_page, self._rate())
            eta = "done" if pages == page else f"ETA {format_duration(left)}"
        self._progress.update(self._task, completed=done, total=total, eta=eta)
