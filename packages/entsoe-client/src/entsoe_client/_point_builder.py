"""Building a Period's ``Point`` objects, many at a time: the parser's measured fast path.

A large answer is mostly Points (a year of quarter-hours is 35,040), so how they are allocated
decides the parse time. Two tricks, each measured with ``bench/parse.py``:

* ``build_points`` fills ``Point``'s slots column by column through their member descriptors
  instead of calling ``Point(...)`` once per point. A frozen dataclass's ``__init__`` sets each
  field through ``object.__setattr__``, a Python-level call per field and the biggest cost of a
  large answer; the descriptors' ``__set__`` mapped over a column runs at C speed. The result is
  the object ``Point(...)`` builds: same slots, equal, same hash.
* ``cyclic_gc_paused`` switches the cyclic garbage collector off while a document is parsed:
  one object per point and no reference cycles, yet the collector keeps scanning the young
  objects (and now and then the whole heap) and finds nothing, about a third of the time.

``build_points_plainly`` is the reference: the same points built the ordinary way. The fast
version is chosen at import when ``Point``'s slots are member descriptors in field order (as
CPython makes them for ``slots=True``), else the reference is used; the tests check both give
equal points on the recorded samples and on generated edge cases.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from itertools import repeat
from types import MemberDescriptorType
from typing import Any, Final

from entsoe_client._models import Point

BuildPoints = Callable[
    [
        Sequence[datetime],
        Sequence[datetime],
        Sequence[float],
        Iterable[int],
        Sequence[float | None] | None,
    ],
    list[Point],
]
"""``(starts, ends, values, positions, prices) -> points``; ``prices`` None: no point has one."""


def build_points_plainly(
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    values: Sequence[float],
    positions: Iterable[int],
    prices: Sequence[float | None] | None,
) -> list[Point]:
    """``Point(start, end, value, position, price)`` for each row of the columns."""
    column = repeat(None) if prices is None else prices
    return [
        Point(start, end, value, position, price)
        for start, end, value, position, price in zip(
            starts, ends, values, positions, column, strict=False
        )
    ]


_FIELDS: Final = ("start", "end", "value", "position", "price")


def _slot_descriptors() -> tuple[Any, ...] | None:
    """``Point``'s member descriptors in field order, or None when it has no such slots."""
    if tuple(field.name for field in fields(Point)) != _FIELDS:
        return None
    descriptors = tuple(Point.__dict__.get(name) for name in _FIELDS)
    if not all(isinstance(descriptor, MemberDescriptorType) for descriptor in descriptors):
        return None
    return descriptors


_SLOTS: Final = _slot_descriptors()


def build_points_by_slots(
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    values: Sequence[float],
    positions: Iterable[int],
    prices: Sequence[float | None] | None,
) -> list[Point]:
    """``build_points_plainly`` without a Python frame per Point: each slot is filled column by
    column by its descriptor. Needs ``_SLOTS`` (``Point`` with ``slots=True``)."""
    assert _SLOTS is not None, "Point has no slots to fill"
    count = min(len(starts), len(ends), len(values))  # as map(Point, ...) stops at the shortest
    points: list[Point] = list(map(object.__new__, repeat(Point, count)))
    columns = (starts, ends, values, positions, repeat(None) if prices is None else prices)
    for field, column in zip(_SLOTS, columns, strict=True):
        deque(map(field.__set__, points, column), maxlen=0)
    return points


build_points: Final[BuildPoints] = (
    build_points_by_slots if _SLOTS is not None else build_points_plainly
)
"""What the parser calls: the slot-filling version whenever ``Point`` allows it."""


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document's points are built.

    Reference counting still frees everything at once; the collector is switched back on
    afterwards (if it was on) and catches up on its next pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
