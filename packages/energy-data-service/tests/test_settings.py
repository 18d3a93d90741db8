"""Settings from the environment and `.env`: names, lists, token aliases, readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from energy_data_service.errors import SettingsError
from energy_data_service.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings from the developer's shell or a stray `.env` in the working directory."""
    import os

    for name in list(os.environ):
        if name.upper().startswith(("DATABASE", "ENTSOE", "COLLECTION", "HTTP", "SCHEDULER")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///./data/energy.db"
    assert settings.entsoe.base_url == "https://web-api.tp.entsoe.eu/api"
    assert settings.entsoe.requests_per_minute == 400
    assert settings.entsoe.api_token is None
    assert settings.http.port == 8000
    assert settings.scheduler.enabled is True
    assert settings.collection.areas == ["DE_LU", "FR", "NL"]
    assert len(settings.collection.data_types) == 7


def test_nested_names_comma_lists_and_eic_areas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE__URL", "postgresql+asyncpg://u@db/energy")
    monkeypatch.setenv("COLLECTION__AREAS", "de-lu, 10YFR-RTE------C")
    monkeypatch.setenv("COLLECTION__DATA_TYPES", "actual_load,Day-Ahead-Prices")
    monkeypatch.setenv("ENTSOE__REQUESTS_PER_MINUTE", "")
    settings = load_settings()
    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.collection.areas == ["DE_LU", "FR"]
    assert settings.collection.data_types == ["actual_load", "day_ahead_prices"]
    assert settings.entsoe.requests_per_minute is None


def test_token_from_plain_name_from_dotenv_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("ENTSOE_API_TOKEN=plain-secret\n")
    settings = load_settings()
    assert settings.entsoe.api_token is not None
    assert settings.entsoe.api_token.get_secret_value() == "plain-secret"
    assert "plain-secret" not in repr(settings)
    monkeypatch.setenv("ENTSOE__API_TOKEN", "nested-secret")
    nested = load_settings().entsoe.api_token
    assert nested is not None
    assert nested.get_secret_value() == "nested-secret"


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_token_is_no_token(monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    """``ENTSOE__API_TOKEN=`` (as a `.env` template leaves it) means unset, everywhere."""
    monkeypatch.setenv("ENTSOE__API_TOKEN", empty)
    settings = load_settings()
    assert settings.entsoe.api_token is None
    assert settings.entsoe.token is None
    monkeypatch.setenv("ENTSOE_API_TOKEN", "plain-secret")  # the plain name fills in for it
    assert load_settings().entsoe.token == "plain-secret"
    monkeypatch.setenv("ENTSOE_API_TOKEN", empty)
    assert load_settings().entsoe.token is None


def test_token_reads_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTSOE__API_TOKEN", "nested-secret")
    monkeypatch.setenv("ENTSOE_API_TOKEN", "plain-secret")
    assert load_settings().entsoe.token == "nested-secret"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE__URL", "mysql://x/y", "DATABASE__URL: must start with sqlite+aiosqlite://"),
        ("COLLECTION__AREAS", "DE_LU,Germny", "COLLECTION__AREAS: unknown area 'Germny'"),
        ("COLLECTION__DATA_TYPES", "load", "COLLECTION__DATA_TYPES: unknown data type 'load'"),
        ("HTTP__PORT", "eighty", "HTTP__PORT"),
    ],
)
def test_errors_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_the_leaders_stale_bound_defaults_from_the_poll_and_must_exceed_its_step_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from energy_data_service.services.leader_election import LeaderElection

    monkeypatch.setenv("SCHEDULER__LEADER_STALE_SECONDS", "")
    assert load_settings().scheduler.leader_stale_seconds is None
    stale = LeaderElection(None, None, None, poll_seconds=5).stale_seconds  # type: ignore[arg-type]
    assert stale == 20  # twice (5 s poll + 5 s check timeout)
    monkeypatch.setenv("SCHEDULER__LEADER_STALE_SECONDS", "12")
    assert load_settings().scheduler.leader_stale_seconds == 12
    monkeypatch.setenv("SCHEDULER__LEADER_STALE_SECONDS", "10")  # = poll + check timeout
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "SCHEDULER" in str(raised.value)
    assert "must exceed the poll plus the check timeout" in str(raised.value)
    with pytest.raises(ValueError, match="must exceed"):
        LeaderElection(None, None, None, poll_seconds=5, stale_seconds=10)  # type: ignore[arg-type]
