"""The series-by-series parser (``_incremental_parser``) against the whole-tree parser.

Large documents (32 MiB and more) are read series by series so the tree never holds more than
one series; the two must give equal documents. Compared here on every recorded sample (GL,
Publication, Balancing, TransmissionNetwork, Unavailability, Acknowledgements, unsupported
roots, the EnergieID set), on generated ones with headers after or between series, and on the
errors both raise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _entsoe_samples import (
    Sample,
    energieid_samples,
    index_samples,
    split_concatenated,
)
from entsoe_client import MarketDocument, ParseError, parse_document, parse_response
from entsoe_client.testing import generate_document

SAMPLES = index_samples() + [s for s in energieid_samples() if s.path.suffix == ".xml"]
PARAMS = {
    "documentType": "A65",
    "processType": "A16",
    "outBiddingZone_Domain": "10Y1001A1001A82H",
    "periodStart": "202403302300",
    "periodEnd": "202404022200",
}


def _outcome(data: bytes, *, incremental: bool) -> object:
    try:
        return parse_document(data, incremental=incremental)
    except ParseError as error:
        return ("ParseError", str(error))


def test_there_are_samples_of_every_kind() -> None:
    roots = {s.root_element for s in SAMPLES}
    assert len(SAMPLES) > 150
    assert {"GL_MarketDocument", "Unavailability_MarketDocument"} <= roots
    assert "Acknowledgement_MarketDocument" in roots


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_both_parsers_give_equal_documents_on_every_recorded_sample(sample: Sample) -> None:
    data = sample.read()
    parts = split_concatenated(data) if sample.path.suffix == ".txt" else [data]
    for part in parts:
        whole = _outcome(part, incremental=False)
        assert _outcome(part, incremental=True) == whole
    if isinstance(whole, MarketDocument):
        assert parse_response(data, incremental=True) == parse_response(data, incremental=False)


def test_headers_after_and_between_series_are_read_in_document_order() -> None:
    document = generate_document(PARAMS).decode()
    head, _, rest = document.partition("<TimeSeries>")
    series = "<TimeSeries>" + rest[: rest.rindex("</TimeSeries>")] + "</TimeSeries>"
    tail = rest[rest.rindex("</TimeSeries>") + len("</TimeSeries>") :]
    shuffled = (
        head
        + series.replace("<mRID>", "<mRID>a", 1)
        + "<!-- a comment --><docStatus><value>A13</value></docStatus>"
        + series.replace("<mRID>", "<mRID>b", 1)
        + tail
    ).encode()
    whole = parse_document(shuffled, incremental=False)
    assert isinstance(whole, MarketDocument)
    assert len(whole.series) == 2
    assert whole.doc_status == "A13"
    assert parse_document(shuffled, incremental=True) == whole


@pytest.mark.parametrize(
    "data",
    [
        b"<GL_MarketDocument><TimeSeries></GL_MarketDocument>",
        b"<Configuration_MarketDocument><TimeSeries/></Configuration_MarketDocument>",
        b"<html><body>502 Bad Gateway</body></html>",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    ],
    ids=["malformed", "unsupported-root", "not-entsoe", "external-entity"],
)
def test_both_parsers_refuse_the_same_way(data: bytes) -> None:
    whole = _outcome(data, incremental=False)
    assert isinstance(whole, tuple)
    incremental = _outcome(data, incremental=True)
    assert isinstance(incremental, tuple)
    assert incremental[0] == whole[0]
    if "malformed" not in whole[1]:
        assert incremental == whole
    assert "root:" not in str(incremental)  # the entity was never resolved


def test_documents_from_32_mib_on_take_the_incremental_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import entsoe_client._incremental_parser as incremental_module

    taken: list[int] = []
    real = incremental_module.parse_incrementally

    def spy(raw: bytes) -> object:
        taken.append(len(raw))
        return real(raw)

    monkeypatch.setattr(incremental_module, "parse_incrementally", spy)
    small = generate_document(PARAMS)
    parse_document(small)
    assert taken == []
    padding = b"<!-- padding -->\n" * (32 * 1024 * 1024 // 17 + 1)
    padded = small.replace(b"<TimeSeries>", padding + b"<TimeSeries>", 1)
    assert parse_document(padded) == parse_document(small)
    assert taken == [len(padded)]
