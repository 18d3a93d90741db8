"""A client that hangs up mid-answer is normal for the platform stand-in (a capped read, a
timeout): it must print nothing, because tests run CLIs in the same process and assert on their
output, and a socketserver traceback on stderr would land in it."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from entsoe_client.testing import FakePlatform


def test_a_client_resetting_mid_answer_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with FakePlatform(token=None) as platform:
        host, port = platform.url.split("//")[1].split("/")[0].split(":")
        for _ in range(5):
            with socket.create_connection((host, int(port))) as connection:
                connection.sendall(
                    b"GET /api?documentType=A65&processType=A16&outBiddingZone_Domain="
                    b"10Y1001A1001A82H&periodStart=202405010000&periodEnd=202405020000 "
                    b"HTTP/1.1\r\nHost: x\r\n\r\n"
                )
                assert connection.recv(64).startswith(b"HTTP/1.1 200")
                # Close with the rest unread and no lingering: the kernel answers with a reset.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 2
        while len(platform.requests) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the handler threads meet the reset on their next read
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err, captured.err
    assert len(platform.requests) == 5
