"""Turning ENTSO-E documents into stored points, one processor per document family.

``process_documents`` picks the processor by ``documentType``: A65/A70 (load and its
forecasts, forecast margin) in ``load``, A44 (day-ahead prices) in ``prices``. Every series of
every document is kept, with its resolution, business type and price sequence, so nothing the
platform sent is dropped or merged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from entsoe_client.models import MarketDocument

from energy_data_service.domain import DATA_TYPE_BY_DOCUMENT, EnergyPoint, cyclic_gc_paused
from energy_data_service.processors.load import process_load_document
from energy_data_service.processors.prices import process_price_document

PROCESSORS = {
    "A65": process_load_document,
    "A70": process_load_document,
    "A44": process_price_document,
}


class UnsupportedDocumentError(ValueError):
    """A document this service does not store (generation, flows, …)."""


def data_type_of(document: MarketDocument) -> str:
    """Our data type for a document, from its documentType and processType."""
    data_type = DATA_TYPE_BY_DOCUMENT.get((document.document_type, document.process_type))
    if data_type is None:
        raise UnsupportedDocumentError(
            f"document {document.mrid!r} has documentType {document.document_type} / "
            f"processType {document.process_type}: not load, a load forecast, forecast margin "
            "or day-ahead prices"
        )
    return data_type


def process_documents(
    documents: Iterable[MarketDocument],
    fetched_at: datetime,
    *,
    data_type: str | None = None,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """All points of ``documents``; ``data_type``/``area_code`` override what is inferred."""
    points: list[EnergyPoint] = []
    with cyclic_gc_paused():
        _process(documents, fetched_at, data_type, area_code, points)
    return points


def _process(
    documents: Iterable[MarketDocument],
    fetched_at: datetime,
    data_type: str | None,
    area_code: str | None,
    points: list[EnergyPoint],
) -> None:
    for document in documents:
        processor = PROCESSORS.get(document.document_type)
        if processor is None:
            data_type_of(document)  # raises with the reason
            continue
        points.extend(
            processor(
                document,
                fetched_at,
                data_type=data_type or data_type_of(document),
                area_code=area_code,
            )
        )
