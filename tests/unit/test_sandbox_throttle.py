"""The sandbox's moving-window rate limit, on a fake clock."""

from __future__ import annotations

from discogs_sandbox.throttle import RequestThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_within_the_limit_count_up_and_the_next_is_refused() -> None:
    clock = Clock()
    throttle = RequestThrottle(3, 1, 10.0, clock=clock)
    budgets = [throttle.hit("token:a", True) for _ in range(4)]
    assert [b.allowed for b in budgets] == [True, True, True, False]
    assert [b.used for b in budgets[:3]] == [1, 2, 3]
    assert [b.remaining for b in budgets] == [2, 1, 0, 0]
    assert budgets[0].headers() == {
        "X-Discogs-Ratelimit": "3",
        "X-Discogs-Ratelimit-Used": "1",
        "X-Discogs-Ratelimit-Remaining": "2",
    }


def test_refused_requests_do_not_count_and_the_window_moves() -> None:
    clock = Clock()
    throttle = RequestThrottle(2, 1, 10.0, clock=clock)
    throttle.hit("k", True)
    clock.now += 5
    throttle.hit("k", True)
    for _ in range(5):
        assert not throttle.hit("k", True).allowed
    clock.now += 5.01  # the first request has left the window, the second has not
    assert throttle.hit("k", True).used == 2
    assert not throttle.hit("k", True).allowed


def test_grace_lets_a_request_leave_the_window_slightly_early() -> None:
    clock = Clock()
    throttle = RequestThrottle(1, 1, 1.0, grace=0.05, clock=clock)
    throttle.hit("k", True)
    clock.now += 0.96
    assert throttle.hit("k", True).allowed


def test_credentials_and_anonymous_callers_have_their_own_limits() -> None:
    throttle = RequestThrottle(5, 1, 60.0, clock=Clock())
    assert throttle.hit("ip:1", False).allowed
    assert not throttle.hit("ip:1", False).allowed
    assert throttle.hit("ip:2", False).allowed
    assert throttle.hit("token:a", True).limit == 5


def test_preset_spends_budget_of_every_credential_including_new_ones() -> None:
    clock = Clock()
    throttle = RequestThrottle(10, 5, 60.0, clock=clock)
    throttle.hit("old", True)
    throttle.preset(8)
    assert throttle.hit("old", True).used == 10
    assert throttle.hit("new", True).used == 9
    clock.now += 61
    assert throttle.hit("new", True).used == 1


def test_peek_reports_without_counting() -> None:
    throttle = RequestThrottle(3, 1, 60.0, clock=Clock())
    throttle.hit("k", True)
    assert throttle.peek("k", True).used == 1
    assert throttle.peek("k", True).used == 1
    assert throttle.max_used == {"k": 1}
