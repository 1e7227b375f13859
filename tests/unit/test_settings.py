"""Settings from DISCOGS_* environment variables, a .env file and arguments."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pydantic
import pytest

from musicagent.auth import KeySecretAuth, OAuth1Auth, TokenAuth, default_user_agent
from musicagent.logging import LoggerConfig
from musicagent.settings import DiscogsSettings

TOKEN = "personal-token-0123456789abcdefghij"
ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DISCOGS_* variables and no .env file leak in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("DISCOGS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_apply_when_nothing_is_configured(tmp_path: Path) -> None:
    settings = DiscogsSettings()
    assert settings.token is None
    assert settings.base_url == "https://api.discogs.com"
    assert settings.user_agent == default_user_agent()
    assert (settings.rate_limit_requests, settings.rate_limit_requests_anonymous) == (60, 25)
    assert settings.rate_limit_window == 60.0
    assert settings.max_retries == 5
    assert settings.log_level == "WARNING"
    assert settings.default_export_format == "csv"
    assert settings.cache_enabled is True
    assert settings.cache_dir == tmp_path / "cache-home" / "musicagent"
    assert settings.auth() is None


def test_environment_variables_are_read_with_the_discogs_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCOGS_TOKEN", TOKEN)
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_REQUESTS", "30")
    monkeypatch.setenv("DISCOGS_CACHE", "off")
    monkeypatch.setenv("DISCOGS_LOG_FORMAT", "JSON")
    monkeypatch.setenv("DISCOGS_BASE_URL", "http://127.0.0.1:8765")
    settings = DiscogsSettings()
    assert settings.token is not None
    assert settings.token.get_secret_value() == TOKEN
    assert settings.rate_limit_requests == 30
    assert settings.cache_enabled is False
    assert settings.log_format == "json"
    assert settings.base_url == "http://127.0.0.1:8765"


def test_dotenv_file_is_read_and_the_environment_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        f"DISCOGS_TOKEN={TOKEN}\nDISCOGS_MAX_RETRIES=2\nDISCOGS_LOG_LEVEL=info\n"
    )
    monkeypatch.setenv("DISCOGS_MAX_RETRIES", "9")
    settings = DiscogsSettings()
    assert settings.token is not None
    assert settings.token.get_secret_value() == TOKEN
    assert settings.log_level == "INFO"
    assert settings.max_retries == 9


def test_names_match_in_any_case_and_empty_values_count_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("discogs_timeout=7\nDISCOGS_MAX_RETRIES=\n", encoding="utf-8")
    monkeypatch.setenv("discogs_log_level", "debug")
    monkeypatch.setenv("DISCOGS_CIRCUIT_BREAKER_THRESHOLD", "")
    settings = DiscogsSettings()
    assert (settings.timeout, settings.log_level) == (7.0, "DEBUG")
    assert (settings.max_retries, settings.circuit_breaker_threshold) == (5, 5)
    assert settings.source_of("max_retries") == "default"


def test_env_file_argument_names_other_files_or_none(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCOGS_TIMEOUT=7\n", encoding="utf-8")
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    first.write_text("DISCOGS_TIMEOUT=8\nDISCOGS_MAX_RETRIES=1\n", encoding="utf-8")
    second.write_text("DISCOGS_TIMEOUT=9\n", encoding="utf-8")
    assert DiscogsSettings(_env_file=None).timeout == 30.0
    assert DiscogsSettings(_env_file=first).timeout == 8.0
    later_wins = DiscogsSettings(_env_file=[first, second])
    assert (later_wins.timeout, later_wins.max_retries) == (9.0, 1)
    assert later_wins.source_of("timeout") == ".env"
    assert DiscogsSettings(_env_file=tmp_path / "missing.env").timeout == 30.0

    class Elsewhere(DiscogsSettings):
        env_file = first

    assert Elsewhere().timeout == 8.0
    assert Elsewhere(_env_file=".env").timeout == 7.0  # named explicitly: that very file


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOGS_TIMEOUT", "5")
    assert DiscogsSettings(timeout=12.5).timeout == 12.5


def test_env_example_lists_every_setting_and_gives_the_defaults() -> None:
    names = set(re.findall(r"^(DISCOGS_[A-Z_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert names == {f"DISCOGS_{field.upper()}" for field in DiscogsSettings.model_fields}
    assert DiscogsSettings(_env_file=ENV_EXAMPLE) == DiscogsSettings(_env_file=None)


def test_credentials_never_show_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOGS_TOKEN", TOKEN)
    monkeypatch.setenv("DISCOGS_CONSUMER_SECRET", "consumer-secret-0123456789")
    settings = DiscogsSettings()
    shown = repr(settings) + str(settings)
    assert TOKEN not in shown
    assert "consumer-secret-0123456789" not in shown


def test_pasted_token_whitespace_is_trimmed_but_a_line_break_inside_is_refused() -> None:
    trimmed = DiscogsSettings(token=f"  {TOKEN}\n").token
    assert trimmed is not None
    assert trimmed.get_secret_value() == TOKEN
    with pytest.raises(pydantic.ValidationError) as caught:
        DiscogsSettings(token="evil-token-value\r\nX-Injected: 1")
    assert "token" in str(caught.value)
    assert "evil-token-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("default_export_format", "xml", "'csv', 'json', 'jsonl' or 'sqlite'"),
        ("log_format", "yaml", "'text' or 'json'"),
        ("log_rotation", "weekly", "'size' or 'time'"),
        ("log_level", "loud", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("cache", "maybe", "'on' or 'off'"),
        ("cache_backend", "memcached", "'sqlite' or 'redis'"),
    ],
)
def test_invalid_choice_names_the_setting_and_the_allowed_values(
    setting: str, value: str, allowed: str
) -> None:
    arguments: dict[str, Any] = {setting: value}
    with pytest.raises(pydantic.ValidationError) as caught:
        DiscogsSettings(**arguments)
    assert setting in str(caught.value)
    assert allowed in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("rate_limit_requests", 0), ("rate_limit_window", 0), ("max_retries", -1), ("timeout", 0)],
)
def test_out_of_range_numbers_are_refused_naming_the_setting(setting: str, value: int) -> None:
    arguments: dict[str, Any] = {setting: value}
    with pytest.raises(pydantic.ValidationError, match=setting):
        DiscogsSettings(**arguments)


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"base_url\n.*plain http"):
        DiscogsSettings(base_url="http://api.discogs.com")


@pytest.mark.parametrize("word", ["on", "ON", "true", "1", "yes"])
def test_cache_switch_accepts_common_words_for_on(word: str) -> None:
    assert DiscogsSettings(cache=word).cache_enabled is True


def test_empty_user_agent_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOGS_USER_AGENT", "")
    assert DiscogsSettings().user_agent == default_user_agent()
    assert DiscogsSettings(user_agent=None).user_agent == default_user_agent()
    assert DiscogsSettings(user_agent="MyTool/1.0").user_agent == "MyTool/1.0"


def test_redis_cache_backend_requires_a_redis_url() -> None:
    with pytest.raises(pydantic.ValidationError, match="redis_url"):
        DiscogsSettings(cache_backend="redis")
    settings = DiscogsSettings(cache_backend="redis", redis_url="redis://localhost:6379/0")
    assert settings.cache_backend == "redis"


def test_auth_picks_the_configured_credential() -> None:
    assert isinstance(DiscogsSettings(token=TOKEN).auth(), TokenAuth)
    app: dict[str, Any] = {
        "consumer_key": "consumer-key-1234",
        "consumer_secret": "consumer-secret-1234",
    }
    assert isinstance(DiscogsSettings(**app).auth(), KeySecretAuth)
    oauth: dict[str, Any] = {
        **app,
        "oauth_token": "access-token-1234",
        "oauth_token_secret": "access-sec-1234",
    }
    assert isinstance(DiscogsSettings(token=TOKEN, **oauth).auth(), OAuth1Auth)


def test_logger_config_carries_the_log_settings(tmp_path: Path) -> None:
    settings = DiscogsSettings(
        log_level="debug",
        log_dir=tmp_path / "logs",
        log_file="run.log",
        log_max_bytes=1000,
        log_backup_count=2,
        log_rotation="time",
        log_format="json",
    )
    assert settings.logger_config() == LoggerConfig(
        level="DEBUG",
        dir=tmp_path / "logs",
        file_name="run.log",
        max_bytes=1000,
        backups=2,
        rotation="time",
        format="json",
    )


# --- where values come from, the base-URL rule, one-line errors ---------------------------------


def test_each_value_says_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCOGS_TIMEOUT=12\nDISCOGS_MAX_RETRIES=2\n", encoding="utf-8")
    monkeypatch.setenv("DISCOGS_MAX_RETRIES", "3")

    settings = DiscogsSettings(_env_file=env_file, log_level="INFO")

    assert settings.source_of("log_level") == "argument"
    assert settings.source_of("max_retries") == "environment"
    assert settings.max_retries == 3
    assert settings.source_of("timeout") == ".env"
    assert settings.source_of("cache") == "default"


def test_a_dotenv_base_url_is_refused_while_an_environment_token_would_go_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musicagent.settings import SettingsError

    env_file = tmp_path / ".env"
    env_file.write_text("DISCOGS_BASE_URL=https://evil.example\n", encoding="utf-8")
    monkeypatch.setenv("DISCOGS_TOKEN", TOKEN)

    with pytest.raises(SettingsError) as caught:
        DiscogsSettings(_env_file=env_file)

    assert caught.value.parameter == "DISCOGS_BASE_URL"
    assert TOKEN not in str(caught.value)
    assert DiscogsSettings(_env_file=env_file, trust_env_file=True).base_url == (
        "https://evil.example"
    )
    monkeypatch.setenv("DISCOGS_TRUST_ENV_FILE", "1")
    assert DiscogsSettings(_env_file=env_file).trust_env_file is True


def test_a_dotenv_with_its_own_token_and_base_url_is_left_alone(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"DISCOGS_BASE_URL=http://127.0.0.1:8765\nDISCOGS_TOKEN={TOKEN}\n", encoding="utf-8"
    )

    settings = DiscogsSettings(_env_file=env_file)

    assert settings.base_url == "http://127.0.0.1:8765"
    with pytest.raises(ValueError, match="DISCOGS_BASE_URL"):
        settings.check_base_url_trust(credential_elsewhere=True)


def test_trust_is_never_taken_from_the_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DISCOGS_BASE_URL=https://evil.example\nDISCOGS_TRUST_ENV_FILE=true\n", encoding="utf-8"
    )

    settings = DiscogsSettings(_env_file=env_file)

    assert settings.trust_env_file is False
    with pytest.raises(ValueError, match=r"comes from a \.env file"):
        settings.check_base_url_trust(credential_elsewhere=True)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DISCOGS_RATE_LIMIT_REQUESTS", "abc", "a whole number"),
        ("DISCOGS_CACHE", "maybe", "on, off"),
        ("DISCOGS_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("DISCOGS_STRICT_VALIDATION", "perhaps", "true or false"),
    ],
)
def test_load_settings_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    from musicagent.settings import SettingsError, load_settings

    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{variable}={value} is not valid")
    assert expected in text
    assert caught.value.parameter == variable


def test_a_bad_credential_value_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    from musicagent.settings import SettingsError, load_settings

    monkeypatch.setenv("DISCOGS_TOKEN", "secret-token\x01value")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert "secret-token" not in str(caught.value)
    assert "DISCOGS_TOKEN" in str(caught.value)


def test_a_dotenv_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    from musicagent.settings import SettingsError

    env_file = tmp_path / ".env"
    env_file.write_bytes(b"DISCOGS_USER_AGENT=caf\xe9\n")

    with pytest.raises(SettingsError, match=r"\.env.*not UTF-8"):
        DiscogsSettings(_env_file=env_file)
