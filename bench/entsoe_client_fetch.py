"""Benchmark: a year of DE_LU data from a fake platform on loopback, entsoe_client vs entsoe-py.

Both clients talk real HTTP to the same `FakePlatform` (no pacing: the platform's rate limit
is not what is measured). Each case runs REPEATS times; the table shows medians and whether
each client returned exactly the expected points (none lost, none doubled).

The stand-in refuses load ranges over one month from their UTC start, as the platform does
since 2026 ("limits: platform"). entsoe-py asks for a year of load in one request, which that
refuses, so its speed is also measured with the limit switched off ("limits: off"), the
platform as it was before.

    uv run python bench/entsoe_client_fetch.py
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from entsoe_client import EntsoeClient, Query
from entsoe_client.testing import FakePlatform

REPEATS = 3
TOKEN = "bench-token"
BERLIN = ZoneInfo("Europe/Berlin")
START, END = datetime(2024, 1, 1, tzinfo=BERLIN), datetime(2025, 1, 1, tzinfo=BERLIN)
CASES = {  # data type: (resolution, expected points in 2024)
    "actual_load": ("PT15M", 366 * 96),
    "day_ahead_forecast": ("PT60M", 366 * 24),
}


def ours(platform: FakePlatform, data_type: str) -> int:
    async def run() -> int:
        async with EntsoeClient(TOKEN, base_url=platform.url, requests_per_minute=None) as client:
            documents = await client.fetch(Query.build(data_type, "DE_LU", START, END))
        return sum(len(ts.points) for d in documents for ts in d.series)

    return asyncio.run(run())


def entsoe_py(platform: FakePlatform, data_type: str) -> int:
    import entsoe.entsoe

    entsoe.entsoe.URL = platform.url
    client = entsoe.EntsoePandasClient(api_key=TOKEN)
    start, end = pd.Timestamp(START), pd.Timestamp(END)
    if data_type == "actual_load":
        return len(client.query_load("DE_LU", start=start, end=end))
    return len(client.query_load_forecast("DE_LU", start=start, end=end))


def measure(
    client: Callable[[FakePlatform, str], int], data_type: str, resolution: str, limits: bool
) -> tuple[float, int | str, int]:
    """Median seconds, points returned (or the error), requests per run."""
    durations: list[float] = []
    points: int | str = 0
    requests = 0
    for _ in range(REPEATS):
        with FakePlatform(token=TOKEN, resolution=resolution, platform_limits=limits) as platform:
            started = time.perf_counter()
            try:
                points = client(platform, data_type)
            except Exception as error:  # the baseline refused by the platform's limit
                points = f"fails: {type(error).__name__}"
            durations.append(time.perf_counter() - started)
            requests = len(platform.requests)
    return statistics.median(durations), points, requests


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    print(
        f"| case | client | limits | median s (n={REPEATS}) | requests | points | expected "
        "| exact |"
    )
    print("|---|---|---|---:|---:|---:|---:|:-:|")
    runs = (
        ("entsoe-py (baseline)", entsoe_py, False),
        ("entsoe-py (baseline)", entsoe_py, True),
        ("entsoe_client", ours, True),
    )
    for data_type, (resolution, expected) in CASES.items():
        for name, client, limits in runs:
            seconds, points, requests = measure(client, data_type, resolution, limits)
            exact = "yes" if points == expected else "NO"
            print(
                f"| {data_type} DE_LU 2024 {resolution} | {name} | "
                f"{'platform' if limits else 'off'} | {seconds:.2f} | {requests} "
                f"| {points} | {expected} | {exact} |"
            )


if __name__ == "__main__":
    main()
