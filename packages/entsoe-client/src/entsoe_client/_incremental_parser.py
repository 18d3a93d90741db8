"""One large XML document read series by series, each series' elements freed once read.

The whole-tree parser (``_parser``) builds lxml's tree of the entire document before reading
it: fast, but the tree costs about ten times the document (a 200 MB answer peaked at 2.7 GB).
Here lxml's pull parser is fed the document a megabyte at a time and reports each
``TimeSeries`` (or ``Bid_TimeSeries``) child of the root when its end tag arrives; the header
elements before it and then the series go to the same ``_DocumentBuilder`` the whole-tree
parser uses, in document order, and are deleted from the tree at once. The tree never holds
more than one series, so the peak is the document's bytes, the points read so far and one
series' elements.

``parse_document`` takes this path for documents of 32 MiB or more (``_parser.
_INCREMENTAL_PARSE_BYTES``, or when asked with ``incremental=True``); below that the whole-tree
parse is faster and its tree small.
The two give equal documents: the series reading is the same code, and a test compares both on
every recorded sample. An Acknowledgement or a root the client does not read holds no series
to stream, so its tree is built whole and handed to the same root dispatch as before.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from entsoe_client._exceptions import ParseError
from entsoe_client._models import Acknowledgement, MarketDocument
from entsoe_client._parser import (
    SUPPORTED_ROOTS,
    _document_from_root,
    _DocumentBuilder,
    _local,
    _preview,
)

FEED_BYTES: Final = 1024 * 1024
"""How much of the document the pull parser is fed at a time."""

_SERIES_EVENTS: Final = ("{*}TimeSeries", "{*}Bid_TimeSeries", "TimeSeries", "Bid_TimeSeries")


def parse_incrementally(raw: bytes) -> MarketDocument | Acknowledgement:
    """One XML document (``raw`` starts at its first ``<``), read series by series."""
    parser = etree.XMLPullParser(
        events=("end",),
        tag=_SERIES_EVENTS,
        remove_blank_text=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        collect_ids=False,
    )
    builder: _DocumentBuilder | None = None
    streaming = True
    try:
        for offset in range(0, len(raw), FEED_BYTES):
            parser.feed(raw[offset : offset + FEED_BYTES])
            for _, element in parser.read_events():
                if not isinstance(element, etree._Element):
                    continue  # only "end" events of elements are asked for
                root = element.getparent()
                if not streaming or root is None or root.getparent() is not None:
                    continue  # a nested element of that name, or a root not streamed
                if builder is None:
                    name = _local(root.tag) or ""
                    if name not in SUPPORTED_ROOTS:
                        streaming = False  # no market document: built whole, dispatched below
                        continue
                    builder = _DocumentBuilder(name)
                while root[0] is not element:  # header elements before this series
                    builder.add(root[0])
                    del root[0]
                builder.add(element)
                # clear() frees the children in C; deleting them one by one (or the filled
                # element) would re-home every node into a new document, ~30x the parse
                element.clear()
                del root[0]
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML ({exc}); the answer starts with {_preview(raw)}") from exc
    if builder is None:
        return _document_from_root(root)
    for child in root:  # header elements after the last series
        builder.add(child)
    return builder.build()
