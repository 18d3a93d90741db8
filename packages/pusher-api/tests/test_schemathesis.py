"""Property-based requests from the pusher's `/openapi.json` (schemathesis): no input is a 5xx.

Bounded (a few examples per operation, fixed seed) so it stays a short part of the suite; the
Server-Sent Events streams are left out (they stay open until the client leaves).
"""

from __future__ import annotations

from pathlib import Path

from service_common.testing import run_schemathesis

from .conftest import RunningApi


async def test_no_generated_request_gets_a_server_error(api: RunningApi, tmp_path: Path) -> None:
    returncode, text = await run_schemathesis(
        f"{api.base_url}/openapi.json",
        tmp_path,
        max_examples=5,
        options=("--exclude-path-regex", "/events$"),  # SSE streams stay open by design
    )
    assert returncode == 0, text[-6000:]
    assert " passed" in text
