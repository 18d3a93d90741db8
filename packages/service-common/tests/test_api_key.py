"""The API-key check both APIs use: open without keys, the matching key, or a 401."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from service_common import check_api_key


def test_without_keys_the_api_is_open() -> None:
    assert check_api_key(None, [], keys_variable="API_KEYS") is None
    assert check_api_key("anything", [], keys_variable="API_KEYS") is None


def test_the_matching_key_is_returned_whichever_it_is() -> None:
    keys = ["first-key", "second-key"]
    assert check_api_key("first-key", keys, keys_variable="API_KEYS") == "first-key"
    assert check_api_key("second-key", keys, keys_variable="API_KEYS") == "second-key"


@pytest.mark.parametrize("offered", [None, "", "first-ke", "first-key ", "FIRST-KEY"])
def test_a_missing_or_wrong_key_is_a_401_naming_the_setting(offered: str | None) -> None:
    with pytest.raises(HTTPException) as refused:
        check_api_key(offered, ["first-key"], keys_variable="API__KEYS")
    assert refused.value.status_code == 401
    assert refused.value.headers == {"WWW-Authenticate": "ApiKey"}
    assert "API__KEYS" in refused.value.detail
    assert "X-API-Key" in refused.value.detail
