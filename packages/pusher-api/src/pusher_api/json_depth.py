"""A bound on how deeply a command's JSON may nest, checked when the command is validated.

orjson reads up to 1,024 levels but writes at most 254, so a payload nested a few hundred levels
deep (600 bytes) would pass validation and then fail when its Kafka record is written — after
it was coalesced with other clients' commands, failing them too. Refusing it at validation
keeps the failure with the command that caused it. No device protocol nests anywhere near
``MAX_JSON_DEPTH``.

The check runs on every validated command (a batch of 1,000 runs it 1,000 times), so there are
two versions that give the same answer. `json_depth_exceeds` is the reference: one explicit
stack of every container with its level. `nested_deeper_than` is what validation uses: it
descends only into values that are objects or lists, one call per container, and never
allocates for scalars, so a flat payload costs a loop over its values (about 0.2 µs where
the reference takes 1.2 µs). Its recursion stops at ``limit`` levels, so it needs no
recursion limit either. The tests hold the two to the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_JSON_DEPTH = 64
"""Most nesting levels of a command's `payload` or `metadata` (the object itself is level 1)."""


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def nested_deeper_than(value: dict[str, Any] | list[Any], limit: int = MAX_JSON_DEPTH) -> bool:
    """The same answer as `json_depth_exceeds` for an object or a list, faster: recursion on
    containers only, at most ``limit`` calls deep."""
    if limit < 1:
        return True
    for child in value.values() if isinstance(value, dict) else value:
        if isinstance(child, dict | list) and nested_deeper_than(child, limit - 1):
            return True
    return False


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    if nested_deeper_than(value):
        raise ValueError(f"nested too deep: at most {MAX_JSON_DEPTH} levels of objects and lists")
    return value


def shown(problem: Mapping[str, Any]) -> Any:
    """A validation problem's ``input`` as an answer may echo it: too deep is left out."""
    value = problem.get("input")
    if isinstance(value, dict | list) and nested_deeper_than(value):
        return f"(left out: nested more than {MAX_JSON_DEPTH} levels)"
    return value


BoundedJsonObject = Annotated[dict[str, Any], AfterValidator(_bounded)]
"""A JSON object whose nesting is refused past ``MAX_JSON_DEPTH`` levels."""
