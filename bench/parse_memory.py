"""Benchmark: peak memory of parsing a ~200 MB XML document, series by series vs whole tree.

A platform answer that large is broken or hostile, but the client must survive it: before, the
whole-tree parse of a 200 MB document peaked at 2.7 GB. Documents from 32 MiB on are now read
series by series (``entsoe_client._incremental_parser``), each series' elements freed once
read.

    uv run python bench/parse_memory.py [--megabytes 200] [--repeats 3]

The document is generated deterministically: a GL_MarketDocument A65/A16 for DE_LU holding
N one-year PT15M series (35,040 points each), formatted like the platform's answers. Each case
runs REPEATS times, each time in a fresh interpreter (this script re-invoked with ``--case``)
that reads the file, parses it and reports its own peak resident set (``VmHWM`` from
``/proc/self/status``; ``ru_maxrss`` would inherit the parent's peak over exec) and the parse
time; the medians are printed side by side:

(a) ``lxml.etree.fromstring`` of the bytes: the whole tree alone, no points;
(b) ``parse_document(data, incremental=False)``: the whole-tree parse (the baseline: what every
    document took before);
(c) ``parse_document(data)``: the default, series by series at this size.

A fourth pair checks that the normal path did not slow down: a one-year document (3.6 MB,
below the threshold, so whole-tree) parsed by ``parse_document`` against a bare
``etree.fromstring``, the ratio #10 keeps at most 3x (``bench/parse.py`` measures it fully).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<GL_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0">
    <mRID>6f5a4b3c2d1e4f00a1b2c3d4e5f60718</mRID>
    <revisionNumber>1</revisionNumber>
    <type>A65</type>
    <process.processType>A16</process.processType>
    <createdDateTime>2024-01-05T10:12:44Z</createdDateTime>
    <time_Period.timeInterval>
        <start>2023-01-01T00:00Z</start>
        <end>2024-01-01T00:00Z</end>
    </time_Period.timeInterval>
"""
SERIES_HEAD = """    <TimeSeries>
        <mRID>{mrid}</mRID>
        <businessType>A04</businessType>
        <objectAggregation>A01</objectAggregation>
        <outBiddingZone_Domain.mRID codingScheme="A01">10Y1001A1001A82H</outBiddingZone_Domain.mRID>
        <quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>
        <curveType>A01</curveType>
        <Period>
            <timeInterval>
                <start>2023-01-01T00:00Z</start>
                <end>2024-01-01T00:00Z</end>
            </timeInterval>
            <resolution>PT15M</resolution>
"""
POINT = """            <Point>
                <position>{}</position>
                <quantity>{}</quantity>
            </Point>
"""
SERIES_TAIL = """        </Period>
    </TimeSeries>
"""
YEAR_POINTS = 35_040
SPEED_REPEATS = 15


def _series(mrid: int) -> str:
    points = "".join(
        POINT.format(i, 40_000 + (i * 7919 + mrid) % 20_000) for i in range(1, YEAR_POINTS + 1)
    )
    return SERIES_HEAD.format(mrid=mrid) + points + SERIES_TAIL


def write_document(path: Path, megabytes: float) -> tuple[int, int]:
    """A document of about ``megabytes`` MB; returns its size and series count."""
    one = len(_series(1).encode())
    count = max(1, round(megabytes * 1e6 / one))
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for mrid in range(1, count + 1):
            out.write(_series(mrid))
        out.write("</GL_MarketDocument>\n")
    return path.stat().st_size, count


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_case(case: str, path: Path) -> None:
    """In the child: parse once, print ``peak_bytes seconds points``."""
    from entsoe_client import MarketDocument, parse_document
    from lxml import etree

    data = path.read_bytes()
    gc.collect()
    began = time.perf_counter()
    points = 0
    if case == "fromstring":
        root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
        points = sum(1 for _ in root.iter("{*}Point"))
    else:
        document = parse_document(data, incremental=False if case == "whole" else None)
        assert isinstance(document, MarketDocument)
        points = sum(len(s.points) for s in document.series)
    seconds = time.perf_counter() - began
    print(_peak_rss(), seconds, points)


def _child(case: str, path: Path) -> tuple[int, float, int]:
    output = subprocess.run(
        [sys.executable, __file__, "--case", case, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(output[0]), float(output[1]), int(output[2])


def speed_check(path: Path) -> tuple[float, float]:
    """Median ms of ``parse_document`` and of a bare ``etree.fromstring``, one-year document."""
    from entsoe_client import parse_document
    from lxml import etree

    data = path.read_bytes()
    parser = etree.XMLParser(remove_blank_text=True)
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(SPEED_REPEATS):
        began = time.perf_counter()
        etree.fromstring(data, parser)
        floor.append(time.perf_counter() - began)
        began = time.perf_counter()
        parse_document(data)
        ours.append(time.perf_counter() - began)
    return statistics.median(ours) * 1000, statistics.median(floor) * 1000


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--megabytes", type=float, default=200)
    options.add_argument("--repeats", type=int, default=3)
    options.add_argument("--case")
    options.add_argument("path", nargs="?")
    args = options.parse_args()
    if args.case:
        run_case(args.case, Path(args.path))
        return
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.xml"
        size, series = write_document(big, args.megabytes)
        print(f"document: {size / 1e6:.0f} MB, {series} series x {YEAR_POINTS:,} PT15M points")
        labels = {
            "fromstring": "(a) etree.fromstring (tree only)",
            "whole": "(b) parse_document, whole tree (baseline)",
            "incremental": "(c) parse_document, series by series",
        }
        results: dict[str, tuple[float, float, int]] = {}
        for case in labels:
            runs = [_child(case, big) for _ in range(args.repeats)]
            results[case] = (
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
                runs[0][2],
            )
        print(f"{'case':<44} {'peak RSS':>10} {'x doc':>6} {'seconds':>8} {'points':>11}")
        for case, label in labels.items():
            peak, seconds, points = results[case]
            print(
                f"{label:<44} {peak / 2**20:>7,.0f} MiB {peak / size:>6.1f} {seconds:>8.2f} "
                f"{points:>11,}"
            )
        saved = 1 - results["incremental"][0] / results["whole"][0]
        print(f"series by series: {saved:.0%} less peak memory than the whole-tree parse")
        year = Path(folder) / "year.xml"
        year.write_text(HEAD + _series(1) + "</GL_MarketDocument>\n", encoding="utf-8")
        ours, floor = speed_check(year)
        print(
            f"normal path (one year, {year.stat().st_size / 1e6:.1f} MB): parse_document "
            f"{ours:.1f} ms, etree.fromstring {floor:.1f} ms, {ours / floor:.2f}x the floor"
        )


if __name__ == "__main__":
    main()
