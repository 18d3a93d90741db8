"""The depth bound's fast check (`nested_deeper_than`) against its plain reference
(`json_depth_exceeds`): the same answer on generated documents, at the bound and far past it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pusher_api.json_depth import MAX_JSON_DEPTH, json_depth_exceeds, nested_deeper_than
from pusher_api.messages import CommandRequest
from pydantic import ValidationError

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)
containers = st.lists(documents, max_size=3) | st.dictionaries(
    st.text(max_size=3), documents, max_size=3
)


def nest(levels: int, inner: Any = 1) -> Any:
    """`levels` containers one inside the other (objects and lists taking turns)."""
    value = inner
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


@settings(max_examples=500, deadline=None)
@given(containers, st.integers(min_value=0, max_value=8))
def test_the_fast_check_gives_the_reference_answer(value: Any, limit: int) -> None:
    assert nested_deeper_than(value, limit) is json_depth_exceeds(value, limit)


@pytest.mark.parametrize("levels", [1, 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
@pytest.mark.parametrize("inner", [1, [], {}, "x"])
def test_at_the_bound_both_checks_agree(levels: int, inner: Any) -> None:
    value = nest(levels, inner)
    expected = levels + (1 if isinstance(inner, dict | list) else 0) > MAX_JSON_DEPTH
    assert json_depth_exceeds(value) is expected
    assert nested_deeper_than(value) is expected


def test_a_deep_branch_beside_flat_ones_is_found() -> None:
    value = {"a": 1, "b": [1, 2, {"c": None}], "d": nest(MAX_JSON_DEPTH), "e": "x"}
    assert json_depth_exceeds(value)
    assert nested_deeper_than(value)


def test_a_document_100_000_levels_deep_needs_no_recursion_limit() -> None:
    assert nested_deeper_than(nest(100_000))


def test_validation_refuses_one_level_past_the_bound_only() -> None:
    ok = {"device_id": "d-1", "command_type": "x", "payload": {"p": nest(MAX_JSON_DEPTH - 1)}}
    assert CommandRequest.model_validate(ok).payload == ok["payload"]
    with pytest.raises(ValidationError, match="nested too deep"):
        CommandRequest.model_validate({**ok, "metadata": {"m": nest(MAX_JSON_DEPTH)}})
