"""Test helpers both services' suites use (shipped with the package, as httpx ships its mocks)."""

from service_common.testing.schemathesis_run import run_schemathesis
from service_common.testing.tcp_faults import FaultyTcpProxy
from service_common.testing.tcp_relay import TcpRelay, relay

__all__ = ["FaultyTcpProxy", "TcpRelay", "relay", "run_schemathesis"]
