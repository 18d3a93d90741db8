"""Every recorded document of the catalogue's types goes in with `energy-data import` and comes
back from `energy-data export` point for point as `entsoe parse` reads it.

The reference is the client's parser run on the same file (`entsoe_client.iter_rows`):
an independent path from the store, the catalogue and the export's domain rules.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from energy_data_service.cli import app
from energy_data_service.domain import DATA_TYPE_BY_DOCUMENT_TYPE
from entsoe_client import iter_rows, parse_response
from typer.testing import CliRunner

from .rows import key_of

SAMPLES = Path(__file__).resolve().parents[4] / "testdata" / "entsoe-samples"
OLD_TYPES = {"A44", "A65", "A70"}
runner = CliRunner()


def _catalogue_samples() -> list[str]:
    names = []
    with (SAMPLES / "INDEX.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            document_type = row["documentType"]
            if document_type in OLD_TYPES or document_type not in DATA_TYPE_BY_DOCUMENT_TYPE:
                continue
            if document_type == "A25" and "businessType=B09" not in row["notes"]:
                continue  # explicit allocations / congestion income: not in the catalogue
            names.append(row["file"])
    # The answers printed in entsoe-py's demo notebook have their own manifest (not INDEX.tsv):
    # every horizon of one border's transfer capacities, exchanges, imbalance prices, reserves.
    demo = SAMPLES / "EnergieID__entsoe-py"
    with (demo / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            document_type = row["type"]
            if document_type in OLD_TYPES or document_type not in DATA_TYPE_BY_DOCUMENT_TYPE:
                continue
            if row["path"].endswith(".xml"):
                names.append(f"{demo.name}/{row['path']}")
    return names


CATALOGUE_SAMPLES = _catalogue_samples()


def _reference(path: Path) -> list[dict[str, str]]:
    """`entsoe parse` rows as CSV text cells."""
    text = io.StringIO()
    rows = list(iter_rows(parse_response(path.read_bytes())))
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in row.items()
            }
        )
    return list(csv.DictReader(io.StringIO(text.getvalue())))


def test_the_recorded_samples_cover_every_family() -> None:
    """39 recorded documents of generation, wind/solar, capacities, flows, exchanges, transfer
    capacities, reservoirs, net positions and balancing state in INDEX.tsv, and 12 answers of
    entsoe-py's demo (transfer capacities of four horizons, exchanges, imbalance prices ...)."""
    assert len(CATALOGUE_SAMPLES) == 51, CATALOGUE_SAMPLES


@pytest.mark.parametrize("name", CATALOGUE_SAMPLES)
def test_imported_document_exports_as_entsoe_parse_reads_it(name: str, tmp_path: Path) -> None:
    path = SAMPLES / name
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'import.db'}", "COLUMNS": "200"}
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output

    reference = _reference(path)
    document_type = reference[0]["document_type"]
    data_type = DATA_TYPE_BY_DOCUMENT_TYPE[document_type]
    first = min(r["timestamp"] for r in reference)
    last = max(r["end"] for r in reference)
    exported: list[dict[str, str]] = []
    selections = {
        (r["in_domain"], r["out_domain"])
        if r["in_domain"] and r["out_domain"] and r["in_domain"] != r["out_domain"]
        else (r["area"] or r["in_domain"] or r["out_domain"], "")
        for r in reference
    }
    for area, out_area in sorted(selections):
        args = ["export", "--data-type", data_type, "--area", area, "--start", first]
        args += ["--end", last]
        if out_area:
            args += ["--out-area", out_area]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stdout.splitlines() if "points exported" not in line]
        exported.extend(csv.DictReader(io.StringIO("\n".join(lines))))

    assert Counter(map(key_of, exported)) == Counter(map(key_of, reference))
    assert {r["psr_type"] for r in exported} == {r["psr_type"] for r in reference}


def _export(env: dict[str, str], *args: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["export", *args], env=env)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "points exported" not in line]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def test_both_imbalance_prices_of_a_quarter_hour_come_back(tmp_path: Path) -> None:
    """The platform's ZIP answer holds the long (A04) and the short (A05) price of each
    quarter-hour as two series that differ only by their category: both are stored."""
    path = SAMPLES / "EnergieID__entsoe-py" / "query_imbalance_prices.zip"
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'import.db'}", "COLUMNS": "200"}
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    exported = _export(
        env, "--data-type", "imbalance_prices", "--area", "BE", "--start", "2020-10-16T22:00Z",
        "--end", "2020-10-17T22:00Z",
    )  # fmt: skip
    reference = _reference(path)

    def key(row: dict[str, str]) -> tuple[str, ...]:
        return (*key_of(row), row["price_category"])

    assert Counter(r["price_category"] for r in exported) == {"A04": 96, "A05": 96}
    assert Counter(map(key, exported)) == Counter(map(key, reference))


def test_every_horizon_of_a_border_is_its_own_series(tmp_path: Path) -> None:
    """Day-, week-, month- and year-ahead transfer capacities of NL←BE: the week-ahead and the
    month-ahead answers hold the same October days at P1D and neither overwrites the other;
    ``--contract-type`` picks one horizon."""
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'import.db'}", "COLUMNS": "200"}
    demo = SAMPLES / "EnergieID__entsoe-py"
    horizons = {"dayahead": "A01", "weekahead": "A02", "monthahead": "A03", "yearahead": "A04"}
    files = [demo / f"query_net_transfer_capacity_{name}.xml" for name in horizons]
    result = runner.invoke(app, ["import", *map(str, files)], env=env)
    assert result.exit_code == 0, result.output
    window = ("--start", "2020-01-01T00:00Z", "--end", "2021-01-01T00:00Z")
    border = ("--data-type", "net_transfer_capacity", "--area", "NL", "--out-area", "BE")
    exported = _export(env, *border, *window)
    expected = {code: len(_reference(f)) for code, f in zip(horizons.values(), files, strict=True)}
    assert Counter(r["contract_type"] for r in exported) == expected
    for name, code in horizons.items():
        reference = _reference(demo / f"query_net_transfer_capacity_{name}.xml")
        one = _export(env, *border, *window, "--contract-type", code)
        assert Counter(map(key_of, one)) == Counter(map(key_of, reference)), name
    week = _export(env, *border, *window, "--contract-type", "week_ahead")
    assert len(week) == expected["A02"]
    status = runner.invoke(app, ["status"], env={**env, "COLUMNS": "250"})
    assert status.exit_code == 0, status.output
    lines = [line for line in status.output.splitlines() if "net_transfer_capac" in line]
    assert len(lines) == 4, status.output
    for name in ("day_ahead", "week_ahead", "month_ahead", "year_ahead"):
        assert sum(name in line for line in lines) == 1, (name, status.output)
    refused = runner.invoke(app, ["export", *border, *window, "--contract-type", "A05"], env=env)
    assert refused.exit_code != 0
    assert "A01 (day_ahead), A02 (week_ahead)" in refused.output
    assert "Traceback" not in refused.output
