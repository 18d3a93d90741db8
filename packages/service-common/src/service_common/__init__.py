"""Pieces the energy data service and the pusher API share, one copy each.

Internal to the workspace: both services depend on it, the ENTSO-E client does not (it stands
alone). Each module does one thing; import from this root. Two modules stand apart, loaded only
where they are used: ``service_common.migrations`` (the Alembic machinery of both services'
``migrate``) and ``service_common.testing`` (the test helpers both suites share).
"""

from service_common.api_key import check_api_key
from service_common.binding import exposure_refusal, is_loopback
from service_common.comma_list import CommaSeparated, split_commas
from service_common.cross_site import CrossSiteGuard
from service_common.database_outage import is_database_outage
from service_common.gc_pause import cyclic_gc_paused
from service_common.json_response import AwareTimestamp, OrjsonResponse, Timestamp, json_bytes
from service_common.logging import configure_logging
from service_common.metrics import AppMetrics
from service_common.serving import run_event_loop, serve_app
from service_common.sqlite_file import sqlite_file
from service_common.utc_datetime import UtcDateTime, sqlite_timestamp

__all__ = [
    "AppMetrics",
    "AwareTimestamp",
    "CommaSeparated",
    "CrossSiteGuard",
    "OrjsonResponse",
    "Timestamp",
    "UtcDateTime",
    "check_api_key",
    "configure_logging",
    "cyclic_gc_paused",
    "exposure_refusal",
    "is_database_outage",
    "is_loopback",
    "json_bytes",
    "run_event_loop",
    "serve_app",
    "split_commas",
    "sqlite_file",
    "sqlite_timestamp",
]
