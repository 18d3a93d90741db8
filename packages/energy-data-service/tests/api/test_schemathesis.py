"""Property-based requests from ``/openapi.json`` (schemathesis): no input yields a 5xx.

Collection is off in ``live_api`` (no token), so the POST routes answer without the platform.
"""

from __future__ import annotations

from pathlib import Path

from service_common.testing import run_schemathesis

from .conftest import LiveApi, seed, series
from .test_energy_data import DST_END


async def test_no_generated_request_gets_a_server_error(live_api: LiveApi, tmp_path: Path) -> None:
    await seed(live_api.container, series(DST_END, 200))
    returncode, text = await run_schemathesis(
        f"{live_api.url}/openapi.json", tmp_path, max_examples=10
    )
    assert returncode == 0, text[-6000:]
    assert " passed" in text
    assert "generated" in text
