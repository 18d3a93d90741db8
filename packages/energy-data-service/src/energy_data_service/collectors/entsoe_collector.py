"""Fetching one area × data type × range from the platform, chunk by chunk.

Thin on purpose: it builds the client's ``Query`` and passes the client's chunk results on.
Splitting into ranges the platform accepts, retries, pacing and adaptive halving on size
refusals all live in ``entsoe_client``. The one thing added is the setting's name in the
client's ``AnswerTooLargeError``: the client names its keyword (``max_zip_bytes``), an operator
needs the variable to change (``ENTSOE__MAX_ZIP_BYTES``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

from entsoe_client import AnswerTooLargeError, Area, ChunkResult, EntsoeClient, Query

SETTING_OF_LIMIT = {
    "max_response_bytes": "ENTSOE__MAX_RESPONSE_BYTES",
    "max_zip_bytes": "ENTSOE__MAX_ZIP_BYTES",
    "max_zip_members": "ENTSOE__MAX_ZIP_MEMBERS",
}
"""The client's cap keywords and the settings that set them (``container.Container.client``)."""


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
        contract_type: str | None = None,
    ) -> AsyncGenerator[ChunkResult, None]:
        """Each chunk as soon as it is complete, so callers can store it before the next.

        ``out_area`` is where the energy comes from, for directional data types;
        ``contract_type`` the horizon of exchanges and capacities (default: the type's)."""
        query = Query.build(
            data_type, area, start, end, out_area=out_area, contract_type=contract_type
        )
        try:
            async for chunk in self._client.iter_chunks(query):
                yield chunk
        except AnswerTooLargeError as error:
            setting = SETTING_OF_LIMIT.get(error.limit_name, error.limit_name)
            raise AnswerTooLargeError(
                f"{error} {setting}={error.limit} refused it; raise {setting} to accept it.",
                limit_name=error.limit_name,
                limit=error.limit,
                size=error.size,
            ) from None
