"""Typed async client for the ENTSO-E Transparency Platform REST API.

    from datetime import UTC, datetime
    from entsoe_client import EntsoeClient, Query

    async with EntsoeClient(token) as client:
        series = await client.get_actual_load("DE_LU", datetime(2024, 1, 1, tzinfo=UTC),
                                              datetime(2024, 2, 1, tzinfo=UTC))

The public surface is what this module exports (``__all__``); the modules behind it are
private (their names start with ``_``) and may change without notice. The other ways in are
``entsoe_client.testing`` (a fake platform and document generator for tests) and the ``entsoe``
command (``entsoe_client.cli``, needs the ``cli`` extra).

What is exported, by purpose:

- Client: ``EntsoeClient``, ``ChunkResult``.
- Queries: ``Query``, ``DataType``, ``Area``, ``AreaKind``, ``PLATFORM_TABLE`` and its
  ``PlatformRule`` and ``Span``, ``PSR_TYPES``, ``parse_psr_type``, ``CONTRACT_TYPES``,
  ``parse_contract_type``.
- Documents: ``MarketDocument``, ``TimeSeries``, ``Point``, ``Acknowledgement``.
- Parsing: ``parse_document``, ``parse_response``.
- Rows: ``COLUMNS``, ``iter_rows``, ``write_csv``, ``write_json``, ``to_dataframe``.
- Time and ranges: ``step_end``, ``overlaps``, ``point_in_range``.
- Errors (the tree is drawn in ``EntsoeError``'s module): ``EntsoeError``,
  ``InvalidQueryError``, ``UnknownAreaError``, ``ParseError``, ``AnswerTooLargeError``,
  ``TransportError``,
  ``PlatformError``, ``AuthenticationError``, ``RateLimitError``, ``RequestTooLargeError``,
  ``ServerError``, ``AcknowledgementError``.
- Secrets: ``redact``.
"""

from entsoe_client._areas import Area, AreaKind
from entsoe_client._client import ChunkResult, EntsoeClient
from entsoe_client._exceptions import (
    AcknowledgementError,
    AnswerTooLargeError,
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
from entsoe_client._models import Acknowledgement, MarketDocument, Point, TimeSeries
from entsoe_client._parser import parse_document, parse_response
from entsoe_client._psr_types import PSR_TYPES, parse_psr_type
from entsoe_client._queries import (
    CONTRACT_TYPES,
    PLATFORM_TABLE,
    DataType,
    PlatformRule,
    Query,
    parse_contract_type,
)
from entsoe_client._ranges import overlaps, point_in_range
from entsoe_client._redaction import redact
from entsoe_client._splitting import Span
from entsoe_client._tabular import COLUMNS, iter_rows, to_dataframe, write_csv, write_json
from entsoe_client._time import step_end

__all__ = [
    "COLUMNS",
    "CONTRACT_TYPES",
    "PLATFORM_TABLE",
    "PSR_TYPES",
    "Acknowledgement",
    "AcknowledgementError",
    "AnswerTooLargeError",
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
    "PlatformRule",
    "Point",
    "Query",
    "RateLimitError",
    "RequestTooLargeError",
    "ServerError",
    "Span",
    "TimeSeries",
    "TransportError",
    "UnknownAreaError",
    "iter_rows",
    "overlaps",
    "parse_contract_type",
    "parse_document",
    "parse_psr_type",
    "parse_response",
    "point_in_range",
    "redact",
    "step_end",
    "to_dataframe",
    "write_csv",
    "write_json",
]
