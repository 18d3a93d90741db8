"""Turning ENTSO-E documents into stored points, one processor per document family.

``process_documents`` picks the processor by ``documentType``: A65/A70 (load and its
forecasts, forecast margin) in ``load``, A44 (day-ahead prices) in ``prices``, generation in
``generation``, transmission and market documents in ``transmission``, balancing documents in
``balancing``. Every series of
every document is kept, with its resolution, business type and price sequence, so nothing the
platform sent is dropped or merged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from entsoe_client import MarketDocument
from service_common import cyclic_gc_paused

from energy_data_service.domain import (
    DATA_TYPE_BY_DOCUMENT,
    DATA_TYPE_BY_DOCUMENT_TYPE,
    EnergyPoint,
)
from energy_data_service.errors import NoCatalogueSeriesError, UnsupportedDocumentError
from energy_data_service.processors.balancing import BALANCING_DOCUMENTS, process_balancing_document
from energy_data_service.processors.generation import (
    GENERATION_DOCUMENTS,
    process_generation_document,
)
from energy_data_service.processors.load import process_load_document
from energy_data_service.processors.prices import process_price_document
from energy_data_service.processors.transmission import (
    TRANSMISSION_DOCUMENTS,
    process_transmission_document,
)

PROCESSORS = {
    "A65": process_load_document,
    "A70": process_load_document,
    "A44": process_price_document,
    **dict.fromkeys(GENERATION_DOCUMENTS, process_generation_document),
    **dict.fromkeys(TRANSMISSION_DOCUMENTS, process_transmission_document),
    **dict.fromkeys(BALANCING_DOCUMENTS, process_balancing_document),
}


def data_type_of(document: MarketDocument) -> str:
    """Our data type for a document, from its documentType and processType."""
    data_type = DATA_TYPE_BY_DOCUMENT.get(
        (document.document_type, document.process_type)
    ) or DATA_TYPE_BY_DOCUMENT_TYPE.get(document.document_type)
    if data_type is None:
        raise UnsupportedDocumentError(
            f"document {document.mrid!r} has documentType {document.document_type} / "
            f"processType {document.process_type}: not a data type of the catalogue "
            f"({', '.join(sorted(set(DATA_TYPE_BY_DOCUMENT.values())))})"
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
        try:
            points.extend(
                processor(
                    document,
                    fetched_at,
                    data_type=data_type or data_type_of(document),
                    area_code=area_code,
                )
            )
        except NoCatalogueSeriesError as error:
            raise UnsupportedDocumentError(str(error)) from None
