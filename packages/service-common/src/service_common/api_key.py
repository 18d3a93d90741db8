"""The ``X-API-Key`` check of both APIs, in constant time.

Every configured key is compared, with no early exit, so the time of an answer says nothing
about how much of a key was right or which key matched. Without keys the API is open (both
services then listen on loopback only, see ``binding``).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from fastapi import HTTPException, status


def check_api_key(offered: str | None, keys: Sequence[str], *, keys_variable: str) -> str | None:
    """The key ``offered`` matched, or None when no keys are set; a 401 otherwise.

    ``keys_variable`` names the setting that holds the keys, for the caller's message.
    """
    if not keys:
        return None
    supplied = (offered or "").encode()
    matched: str | None = None
    for key in keys:
        if hmac.compare_digest(supplied, key.encode()):
            matched = key
    if matched is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=f"missing or invalid X-API-Key header: send one of the keys in {keys_variable}",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return matched
