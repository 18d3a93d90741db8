"""The encoders every installation has: ``json`` (the default) and ``cbor`` (RFC 8949).

CBOR carries the same document in fewer bytes and is what constrained devices usually parse
(it is CoAP's native companion, Content-Format 60); the structure is identical, so a device's
firmware maps it field for field.
"""

from __future__ import annotations

from typing import Any

import cbor2
import orjson


class JsonEncoder:
    """The document as compact UTF-8 JSON (Content-Format 50, application/json)."""

    content_format = 50

    def encode(self, document: Any) -> bytes:
        return orjson.dumps(document)


class CborEncoder:
    """The document as CBOR (Content-Format 60, application/cbor)."""

    content_format = 60

    def encode(self, document: Any) -> bytes:
        return cbor2.dumps(document)
