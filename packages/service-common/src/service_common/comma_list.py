"""Lists in settings written the way people write them in an env file: ``DE_LU,FR``.

Both services read list settings (API keys, CORS origins, areas, alert rules…) from the
environment. pydantic-settings would parse them as JSON only (and not at all in a nested
section); ``CommaSeparated[T]`` reads a comma-separated string (blanks around items and empty
items dropped) or a JSON list (``["a","b"]``), and takes a list given in code as it is.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BeforeValidator
from pydantic_settings import NoDecode

T = TypeVar("T")


def split_commas(value: Any) -> Any:
    """``"a, b,,c"`` → ``["a", "b", "c"]``; ``'["a","b"]'`` → ``["a", "b"]``; anything else
    (a list, a malformed JSON text) passes as it is, for the field's own validation to judge."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CommaSeparated = Annotated[list[T], NoDecode, BeforeValidator(split_commas)]
"""A list setting that reads ``a,b,c``: ``CommaSeparated[str]``, ``CommaSeparated[SecretStr]``."""
