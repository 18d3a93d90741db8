"""Benchmark: parsing a one-year PT15M load document (35,040 points), entsoe_client vs
entsoe-py vs a bare ``lxml.etree.fromstring``, plus peak RSS when parsing a 5 MB document.

The samples folder has no one-year PT15M load document, so one is generated deterministically:
GL_MarketDocument A65/A16 for DE_LU (10Y1001A1001A82H), 2023 in UTC, PT15M, curveType A01,
formatted like the platform's answers (4-space indentation, one element per line).

    uv run python bench/parse.py

Cases, each the median of REPEATS runs. Every case runs in its own fresh interpreter (this
script re-invoked with ``--case``) on the same bytes, so no case pays for the heap another one
left behind (entsoe-py leaves ~800k objects that slow later allocations down by ~2x):

(a) ``entsoe_client.parse_document`` (points with UTC datetimes, A03-aware);
(b) entsoe-py's ``parse_loads`` on the same text (BeautifulSoup + pandas);
(c) ``lxml.etree.fromstring`` of the same bytes: the floor, no points extracted at all;
(d) ``parse_document`` + ``write_csv`` of every row (what ``entsoe parse FILE`` does).

Peak RSS is measured in a fresh child process parsing a document of >= 5 MB: the peak resident
set of its own memory map (``VmHWM``; ``ru_maxrss`` would inherit the parent's peak over exec).
"""

from __future__ import annotations

import gc
import io
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from entsoe_client import MarketDocument, parse_document, write_csv
from lxml import etree

REPEATS = 7
ENTSOE_PY_REPEATS = 5
YEAR_POINTS = 35_040  # 365 days x 96 quarter-hours
RSS_BYTES = 5_000_000

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<GL_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0">
    <mRID>6f5a4b3c2d1e4f00a1b2c3d4e5f60718</mRID>
    <revisionNumber>1</revisionNumber>
    <type>A65</type>
    <process.processType>A16</process.processType>
    <sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450</sender_MarketParticipant.mRID>
    <sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>
    <receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450</receiver_MarketParticipant.mRID>
    <receiver_MarketParticipant.marketRole.type>A33</receiver_MarketParticipant.marketRole.type>
    <createdDateTime>2024-01-05T10:12:44Z</createdDateTime>
    <time_Period.timeInterval>
        <start>2023-01-01T00:00Z</start>
        <end>{end}</end>
    </time_Period.timeInterval>
    <TimeSeries>
        <mRID>1</mRID>
        <businessType>A04</businessType>
        <objectAggregation>A01</objectAggregation>
        <outBiddingZone_Domain.mRID codingScheme="A01">10Y1001A1001A82H</outBiddingZone_Domain.mRID>
        <quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>
        <curveType>A01</curveType>
        <Period>
            <timeInterval>
                <start>2023-01-01T00:00Z</start>
                <end>{end}</end>
            </timeInterval>
            <resolution>PT15M</resolution>
"""  # noqa: E501 (the platform's own long lines)
POINT = """            <Point>
                <position>{}</position>
                <quantity>{}</quantity>
            </Point>
"""
TAIL = """        </Period>
    </TimeSeries>
</GL_MarketDocument>
"""


def load_document(points: int) -> bytes:
    """A DE_LU actual-load document from 2023-01-01T00:00Z with ``points`` quarter-hours."""
    from datetime import UTC, datetime, timedelta

    rnd = random.Random(2023)
    end = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * points)
    parts = [HEAD.format(end=end.strftime("%Y-%m-%dT%H:%MZ"))]
    for position in range(1, points + 1):
        # a daily load curve between ~40 and ~70 GW, with platform-like decimals
        daily = 55_000 + 12_000 * (((position % 96) - 48) / 48) ** 2 * -1
        value = round(daily + rnd.uniform(-2500, 2500), rnd.choice((0, 1, 2)))
        parts.append(POINT.format(position, value))
    parts.append(TAIL)
    return "".join(parts).encode()


def median_seconds(run: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def parse_and_csv(data: bytes) -> int:
    out = io.StringIO()
    return write_csv([parse_document(data)], out)


def run_case(case: str, path: Path) -> float:
    """Median seconds of one case, measured in this (fresh) process."""
    data = path.read_bytes()
    if case == "ours":
        return median_seconds(lambda: parse_document(data))
    if case == "csv":
        return median_seconds(lambda: parse_and_csv(data))
    if case == "floor":
        return median_seconds(lambda: etree.fromstring(data))
    if case == "entsoe-py":
        from entsoe.parsers import parse_loads

        text = data.decode()
        return median_seconds(lambda: parse_loads(text, process_type="A16"), ENTSOE_PY_REPEATS)
    raise SystemExit(f"unknown case {case}")


def in_child(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


RSS_CHILD = textwrap.dedent(
    """
    import resource, sys
    from entsoe_client import parse_document

    def peak_kib():
        try:
            with open("/proc/self/status") as status:
                return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    data = open(sys.argv[1], "rb").read()
    before = peak_kib()
    document = parse_document(data)
    points = sum(len(s.points) for s in document.series)
    print(len(data), points, before, peak_kib())
    """
)


def peak_rss(folder: Path) -> tuple[int, int, float, float]:
    """(bytes, points, peak RSS before parsing, peak RSS) of a child parsing >= 5 MB."""
    points = YEAR_POINTS
    data = load_document(points)
    while len(data) < RSS_BYTES:
        points += 1_000
        data = load_document(points)
    path = folder / "load-5mb.xml"
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(path)], capture_output=True, text=True, check=True
    )
    size, count, before, after = map(int, result.stdout.split())
    return size, count, before / 1024, after / 1024


def check(data: bytes) -> None:
    """Both parsers agree on every value before anything is timed."""
    from entsoe.parsers import parse_loads

    document = parse_document(data)
    assert isinstance(document, MarketDocument)
    points = document.series[0].points
    assert len(points) == YEAR_POINTS
    theirs = parse_loads(data.decode(), process_type="A16")
    assert len(theirs) == YEAR_POINTS
    assert [p.value for p in points] == [float(v) for v in theirs.iloc[:, 0]]
    assert parse_and_csv(data) == YEAR_POINTS


def main() -> None:
    data = load_document(YEAR_POINTS)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "load-2023.xml"
        path.write_bytes(data)
        in_child("--check", str(path))
        seconds = {
            case: float(in_child("--case", case, str(path)))
            for case in ("floor", "ours", "csv", "entsoe-py")
        }
        size, rss_points, rss_before, rss_peak = peak_rss(folder)
    ours, floor, entsoe_py = seconds["ours"], seconds["floor"], seconds["entsoe-py"]

    def line(name: str, case: str) -> str:
        value = seconds[case]
        return (
            f"| {name} | {value * 1000:,.1f} | {YEAR_POINTS / value:,.0f} "
            f"| {entsoe_py / value:,.1f}x | {value / floor:,.2f}x |"
        )

    print(
        f"Parsing a one-year PT15M load document ({YEAR_POINTS:,} points, "
        f"{len(data) / 1e6:.1f} MB): median of {REPEATS} runs (entsoe-py: {ENTSOE_PY_REPEATS}), "
        f"each case in a fresh process, Python {sys.version.split()[0]}, "
        f"lxml {'.'.join(map(str, etree.LXML_VERSION[:3]))}.\n"
    )
    print("| Case | Median ms | Points/s | Speed-up vs entsoe-py | Time vs lxml floor |")
    print("|---|---:|---:|---:|---:|")
    print(line("(a) entsoe_client `parse_document`", "ours"))
    print(line("(b) entsoe-py 0.8 `parse_loads`", "entsoe-py"))
    print(line("(c) bare `lxml.etree.fromstring` (floor)", "floor"))
    print(line("(d) entsoe_client parse + CSV rows (`entsoe parse`)", "csv"))
    print(
        f"\nPeak RSS parsing a {size / 1e6:.1f} MB document ({rss_points:,} points) in a fresh "
        f"process: {rss_peak:.0f} MiB ({rss_before:.0f} MiB before parsing: interpreter, "
        f"lxml and the bytes read). Goal: < 100 MiB."
    )
    goals = [
        ("(a) at least 30x faster than entsoe-py", entsoe_py / ours >= 30),
        ("(a) at most 3x the lxml floor", ours / floor <= 3),
        ("peak RSS under 100 MiB", rss_peak < 100),
    ]
    print("\n" + "\n".join(f"- {name}: {'met' if ok else 'NOT met'}" for name, ok in goals))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(Path(sys.argv[2]).read_bytes())
    elif len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(run_case(sys.argv[2], Path(sys.argv[3])))
    else:
        main()
