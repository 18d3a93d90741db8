"""Typed async client for the ENTSO-E Transparency Platform REST API.

    from datetime import UTC, datetime
    from entsoe_client import EntsoeClient, Query

    async with EntsoeClient(token) as client:
        series = await client.get_actual_load("DE_LU", datetime(2024, 1, 1, tzinfo=UTC),
                                              datetime(2024, 2, 1, tzinfo=UTC))

The public surface is what this module exports; the modules behind it are private details.
"""

from entsoe_client._time import step_end
from entsoe_client.areas import Area, AreaKind
from entsoe_client.client import ChunkResult, EntsoeClient
from entsoe_client.exceptions import (
    AcknowledgementError,
    AuthenticationError,
    EntsoeError,
    InvalidQueryError,
    ParseError,
    PlatformError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    TransportError,
    UnknownAreaError,
)
from entsoe_client.models import Acknowledgement, MarketDocument, Point, TimeSeries
from entsoe_client.parser import parse_document, parse_response
from entsoe_client.queries import DataType, Query
from entsoe_client.ranges import overlaps, point_in_range
from entsoe_client.redaction import redact
from entsoe_client.tabular import COLUMNS, iter_rows, to_dataframe, write_csv, write_json

__all__ = [
    "COLUMNS",
    "Acknowledgement",
    "AcknowledgementError",
    "Area",
    "AreaKind",
    "AuthenticationError",
    "ChunkResult",
    "DataType",
    "EntsoeClient",
    "EntsoeError",
    "InvalidQueryError",
    "MarketDocument",
    "ParseError",
    "PlatformError",
    "Point",
    "Query",
    "RateLimitError",
    "RequestTooLargeError",
    "ServerError",
    "TimeSeries",
    "TransportError",
    "UnknownAreaError",
    "iter_rows",
    "overlaps",
    "parse_document",
    "parse_response",
    "point_in_range",
    "redact",
    "step_end",
    "to_dataframe",
    "write_csv",
    "write_json",
]
