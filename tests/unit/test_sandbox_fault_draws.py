"""Fault draws are reproducible, independent of request order, and bounded when asked."""

from __future__ import annotations

from discogs_sandbox import FaultConfig
from discogs_sandbox.faults import FaultInjector


def _plans(injector: FaultInjector, urls: list[str]) -> dict[str, list[bool]]:
    seen: dict[str, list[bool]] = {}
    for url in urls:
        seen.setdefault(url, []).append(injector.plan("GET", url, "k").status_5xx is not None)
    return seen


def test_same_seed_same_faults_whatever_the_request_order() -> None:
    urls = [f"/releases/{n}" for n in range(50)] * 3
    forward = _plans(FaultInjector(FaultConfig(p5xx=0.3), default_seed=1), urls)
    backward = _plans(FaultInjector(FaultConfig(p5xx=0.3), default_seed=1), urls[::-1])
    other_seed = _plans(FaultInjector(FaultConfig(p5xx=0.3), default_seed=2), urls)
    assert forward == backward
    assert forward != other_seed


def test_fraction_of_faults_follows_the_probability() -> None:
    injector = FaultInjector(FaultConfig(p5xx=0.2, p_reset=0.1), default_seed=0)
    plans = [injector.plan("GET", f"/r/{n}", "k") for n in range(2000)]
    errors = sum(plan.status_5xx is not None for plan in plans)
    resets = sum(plan.reset for plan in plans)
    assert 300 < errors < 500
    assert 120 < resets < 280
    assert {plan.status_5xx for plan in plans} == {None, 500, 502, 503}


def test_max_consecutive_bounds_failures_of_one_url() -> None:
    injector = FaultInjector(FaultConfig(p5xx=1.0, max_consecutive=2), default_seed=0)
    outcomes = [injector.plan("GET", "/same", "k").status_5xx is not None for _ in range(6)]
    assert outcomes == [True, True, False, True, True, False]


def test_429_burst_covers_the_next_requests_of_the_credential() -> None:
    injector = FaultInjector(FaultConfig(p429=1.0, burst_429=3), default_seed=0)
    assert all(injector.plan("GET", f"/r/{n}", "k").throttled for n in range(3))
    injector.configure(FaultConfig())
    assert not injector.plan("GET", "/r/9", "k").any


def test_no_faults_configured_means_no_faults() -> None:
    injector = FaultInjector(FaultConfig(), default_seed=0)
    assert not any(injector.plan("GET", f"/r/{n}", "k").any for n in range(100))
