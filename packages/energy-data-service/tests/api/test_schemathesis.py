"""Property-based requests from ``/openapi.json`` (schemathesis): no input yields a 5xx.

Collection is off in ``live_api`` (no token), so the POST routes answer without the platform.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from .conftest import LiveApi, seed, series
from .test_energy_data import DST_END


async def test_no_generated_request_gets_a_server_error(live_api: LiveApi, tmp_path: Path) -> None:
    await seed(live_api.container, series(DST_END, 200))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_api.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "4",
        "--request-timeout",
        "20",
        "--no-shrink",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert " passed" in text
    assert "generated" in text
