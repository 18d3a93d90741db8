"""The deployment files stay consistent with ``Settings`` (no Docker engine runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from energy_data_service.settings import Settings
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[4]


def _setting_names(model: type[BaseModel], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _setting_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def _listed(text: str) -> dict[str, str]:
    pairs = re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.MULTILINE)
    return dict(pairs)


def test_env_example_lists_every_setting_with_a_valid_default() -> None:
    listed = _listed((ROOT / ".env.example").read_text())
    assert set(listed) == _setting_names(Settings)
    values = {name.lower(): value for name, value in listed.items() if value}
    nested: dict[str, Any] = {}
    for name, value in values.items():
        section, _, key = name.partition("__")
        if key:
            nested.setdefault(section, {})[key] = value
        else:
            nested[section] = value
    Settings(**nested)  # every documented default parses


def test_compose_and_dockerfile_use_the_settings_names() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    dockerfile = (ROOT / "packages/energy-data-service/Dockerfile").read_text()
    names = _setting_names(Settings)
    for text in (compose, dockerfile):
        used = set(re.findall(r"\b((?:DATABASE|HTTP|ENTSOE|SCHEDULER|API)__[A-Z_]+)", text))
        assert used
        assert used <= names, used - names
    assert "timescale/timescaledb" in compose
    assert "HEALTHCHECK" in dockerfile
    assert "USER " in dockerfile
