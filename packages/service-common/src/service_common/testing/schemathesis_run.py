"""Both services' property-based API test: schemathesis' CLI against a running `/openapi.json`.

One bounded run (a fixed seed, a few examples per operation, no shrinking) that checks only that
no generated request gets a 5xx, so it stays a short part of each suite. It runs as a process
(``python -m schemathesis.cli``), so this package needs schemathesis only where it is called.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def run_schemathesis(
    openapi_url: str, cwd: Path, *, max_examples: int, options: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Run schemathesis against ``openapi_url``; its exit code and its output (both streams).

    ``options`` go to ``schemathesis run`` as they are (e.g. paths to leave out); ``cwd`` is
    where its files land (a test's ``tmp_path``).
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        openapi_url,
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(max_examples),
        *options,
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "4",
        "--request-timeout",
        "20",
        "--no-shrink",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")
