"""Property-based requests from the pusher's `/openapi.json` (schemathesis): no input is a 5xx.

Bounded (a few examples per operation, fixed seed) so it stays a short part of the suite; the
Server-Sent Events streams are left out (they stay open until the client leaves).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from .conftest import RunningApi


async def test_no_generated_request_gets_a_server_error(api: RunningApi, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{api.base_url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "5",
        "--exclude-path-regex",
        "/events$",  # Server-Sent Events streams stay open by design
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
