"""Fetching one area × data type × range from the platform, chunk by chunk.

Thin on purpose: it builds the client's ``Query`` and passes the client's chunk results on.
Splitting into ranges the platform accepts, retries, pacing and adaptive halving on size
refusals all live in ``entsoe_client``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

from entsoe_client import Area, ChunkResult, EntsoeClient, Query


class EntsoeCollector:
    """Turns (area, data type, range) into the client's chunk results, in time order."""

    def __init__(self, client: EntsoeClient) -> None:
        self._client = client

    async def chunks(
        self,
        area: Area,
        data_type: str,
        start: datetime,
        end: datetime,
        *,
        out_area: Area | None = None,
    ) -> AsyncGenerator[ChunkResult, None]:
        """Each chunk as soon as it is complete, so callers can store it before the next.

        ``out_area`` is where the energy comes from, for directional data types."""
        query = Query.build(data_type, area, start, end, out_area=out_area)
        async for chunk in self._client.iter_chunks(query):
            yield chunk
