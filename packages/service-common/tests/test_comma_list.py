"""List settings read ``a,b,c`` and JSON lists, at the top level and in nested sections."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from service_common import CommaSeparated, split_commas


class Section(BaseModel):
    keys: CommaSeparated[SecretStr] = Field(default_factory=list)
    areas: CommaSeparated[str] = Field(default_factory=lambda: ["DE_LU"])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__")
    api: Section = Field(default_factory=Section)
    origins: CommaSeparated[str] = Field(default_factory=list)
    ports: CommaSeparated[int] = Field(default_factory=list)


def test_split_commas() -> None:
    assert split_commas(" a, b,,c ,") == ["a", "b", "c"]
    assert split_commas("") == []
    assert split_commas('["a", "b,c"]') == ["a", "b,c"]
    assert split_commas(["x"]) == ["x"]
    assert split_commas("[not json") == "[not json"


@pytest.mark.parametrize("written", ["FR, NL", '["FR","NL"]'])
def test_both_spellings_from_the_environment(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setenv("API__AREAS", written)
    monkeypatch.setenv("API__KEYS", written)
    monkeypatch.setenv("ORIGINS", written)
    settings = Settings()
    assert settings.api.areas == ["FR", "NL"]
    assert [key.get_secret_value() for key in settings.api.keys] == ["FR", "NL"]
    assert settings.origins == ["FR", "NL"]


def test_defaults_and_item_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().api.areas == ["DE_LU"]
    monkeypatch.setenv("PORTS", "80, 443")
    assert Settings().ports == [80, 443]
    monkeypatch.setenv("PORTS", "80,http")
    with pytest.raises(ValidationError, match=r"ports\.1"):
        Settings()
