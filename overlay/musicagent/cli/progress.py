"""Export progress on the terminal: items done / total, an ETA that knows the rate limit, and
the wait for the rate limit shown as such while it lasts."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from musicagent.cli.safe_text import markup
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


class _StatusColumn(ProgressColumn):
    """The ETA, counting down between pages, or the rate-limit wait while there is one.

    Read at every refresh (several times a second), not only when a page completes: the
    client's public `rate_limit` says how long until the next request may go.
    """

    def __init__(self, owner: ExportProgress) -> None:
        super().__init__()
        self.owner = owner

    def render(self, task: Task) -> Text:
        return Text(self.owner.status_text(), style="dim")


class ExportProgress:
    """A rich progress bar fed by `ExportJob`'s `on_progress(done, total, page, pages)`.

    The bar appears with the first page: an error found by the first request (an unknown
    user, a bad status) is printed alone, not under an empty `0/?` bar.
    """

    #: Waits shorter than this are the ordinary spacing of requests, not worth a word.
    WAIT_SHOWN_FROM = 1.0

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
        self._eta_at: float | None = None
        self._done = False
        self._running = False
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("items"),
            _StatusColumn(self),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(markup(label), total=None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._running:
            self._progress.stop()
            self._running = False

    def status_text(self) -> str:
        """What the last column shows now: the rate-limit wait, else the ETA, else nothing."""
        if self._done:
            return "done"
        rate = self._rate()
        if rate is not None and rate.remaining <= 0 and rate.next_free_in >= self.WAIT_SHOWN_FROM:
            return f"waiting for rate limit {format_duration(rate.next_free_in)}"
        if self._eta_at is None:
            return ""
        return f"ETA {format_duration(max(self._eta_at - self._clock(), 0.0))}"

    def update(self, done: int, total: int | None, page: int, pages: int | None) -> None:
        """Record progress after a page."""
        if not self._running:
            self._progress.start()
            self._running = True
        if self._first_page is None:
            self._first_page = page - 1  # a resumed run starts past its first page
        fetched = page - self._first_page
        now = self._clock()
        per_page = (now - self._started) / fetched if fetched > 0 else 0.0
        if pages is not None:
            self._done = pages == page
            self._eta_at = now + eta_seconds(pages - page, per_page, self._rate())
        self._progress.update(self._task, completed=done, total=total)
