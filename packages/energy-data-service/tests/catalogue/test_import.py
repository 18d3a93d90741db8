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
    capacities, reservoirs, net positions and balancing state."""
    assert len(CATALOGUE_SAMPLES) == 39, CATALOGUE_SAMPLES


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
