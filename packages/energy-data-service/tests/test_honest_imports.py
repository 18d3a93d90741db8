"""`energy-data import` stores only what a document honestly holds; the rest is refused by name.

Refused, each with its reason: a price document retyped A65 (it would be stored as actual
load, its prices labelled MAW), a load document in EUR, points in years 1 and 9999, a revision
of 10^30 and a NaN quantity (no traceback).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from energy_data_service.cli import app
from entsoe_client.testing import generate_document
from typer.testing import CliRunner

runner = CliRunner()
DE_LU = "10Y1001A1001A82H"
DAY = {"periodStart": "202601010000", "periodEnd": "202601020000"}


def _prices() -> str:
    params = {"documentType": "A44", "in_Domain": DE_LU, "out_Domain": DE_LU, **DAY}
    return generate_document(params).decode()


def _load() -> str:
    params = {
        "documentType": "A65",
        "processType": "A16",
        "outBiddingZone_Domain": DE_LU,
        **DAY,
    }
    return generate_document(params).decode()


def _price_retyped_as_load() -> str:
    return _prices().replace(
        "<type>A44</type>", "<type>A65</type><process.processType>A16</process.processType>"
    )


def _load_in_euro() -> str:
    return _load().replace(
        "<curveType>", "<currency_Unit.name>EUR</currency_Unit.name><curveType>", 1
    )


def _far_future() -> str:
    return (
        _load()
        .replace("2026-01-01T00:00Z", "9998-01-01T00:00Z")
        .replace("2026-01-02T00:00Z", "9998-01-02T00:00Z")
    )


def _huge_revision() -> str:
    return re.sub(
        r"<revisionNumber>\d+</revisionNumber>",
        f"<revisionNumber>{10**30}</revisionNumber>",
        _load(),
        count=1,
    )


def _nan_quantity() -> str:
    return re.sub(r"<quantity>[^<]+</quantity>", "<quantity>NaN</quantity>", _load(), count=1)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (_price_retyped_as_load, "holds prices (EUR/MWH) but the document is typed A65"),
        (_load_in_euro, "holds prices (EUR/"),
        (_far_future, "outside 1900–2200"),
        (_huge_revision, "revisionNumber"),
        (_nan_quantity, "not a finite number"),
    ],
)
def test_a_dishonest_document_is_refused_by_name(
    tmp_path: Path, document: object, expected: str
) -> None:
    path = tmp_path / "doc.xml"
    path.write_text(document())  # type: ignore[operator]
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", "COLUMNS": "300"}
    result = runner.invoke(app, ["import", str(path)], env=env)
    output = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "Imported 0 of 1 files" in output
    assert expected in output, output
    assert "fake-document" in output
    assert "Traceback" not in result.output


def test_an_honest_document_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "load.xml"
    path.write_text(_load())
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", "COLUMNS": "300"}
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "Imported 1 of 1 files" in result.output
