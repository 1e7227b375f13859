"""Sandbox settings: defaults, validation naming the option, flat fault options."""

from __future__ import annotations

import pytest

from discogs_sandbox import FaultConfig, SandboxConfig


def test_defaults_match_discogs_limits() -> None:
    config = SandboxConfig()
    assert (config.rate_limit, config.anonymous_rate_limit, config.rate_window) == (60, 25, 60.0)
    assert config.collection_size == 250
    assert config.effective_wantlist_size == 50
    assert not config.faults.active


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"p5xx": 1.5}, "p5xx"),
        ({"p_reset": -0.1}, "p_reset"),
        ({"latency": -1}, "latency"),
        ({"statuses_5xx": (404,)}, "statuses_5xx"),
        ({"burst_429": 0}, "burst_429"),
        ({"preset_used": -1}, "preset_used"),
        ({"max_consecutive": 0}, "max_consecutive"),
    ],
)
def test_bad_fault_options_are_refused_naming_the_option(
    options: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        FaultConfig(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"port": 70000}, "port"),
        ({"collection_size": -1}, "collection_size"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_window": 0}, "rate_window"),
        ({"rate_window": 1, "rate_grace": 1}, "rate_grace"),
    ],
)
def test_bad_sandbox_options_are_refused_naming_the_option(
    options: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        SandboxConfig(**options)  # type: ignore[arg-type]


def test_build_takes_fault_options_flat_and_keeps_seed_for_the_dataset() -> None:
    config = SandboxConfig.build(collection_size=10, p5xx=0.25, seed=4, fault_seed=9)
    assert config.collection_size == 10 and config.seed == 4
    assert config.faults == FaultConfig(p5xx=0.25, seed=9)


def test_build_names_unknown_options() -> None:
    with pytest.raises(TypeError, match="colection_size"):
        SandboxConfig.build(colection_size=10)


def test_fault_config_from_json_refuses_unknown_keys_and_round_trips() -> None:
    faults = FaultConfig(p5xx=0.1, statuses_5xx=(502,), retry_after=3)
    assert FaultConfig.from_mapping(faults.to_dict()) == faults
    with pytest.raises(ValueError, match="explode"):
        FaultConfig.from_mapping({"explode": True})


def test_sandbox_takes_a_config_and_overrides_without_starting() -> None:
    from discogs_sandbox import Sandbox

    sandbox = Sandbox(SandboxConfig(seed=3, collection_size=9), p5xx=0.1, rate_limit=5)
    assert (sandbox.config.seed, sandbox.config.collection_size) == (3, 9)
    assert sandbox.config.rate_limit == 5 and sandbox.config.faults.p5xx == 0.1
    assert sandbox.base_url == "http://127.0.0.1:0"
    assert "stopped" in repr(sandbox)
