"""`/openapi.json` and `/docs` behind the API key, for a service whose keys are set.

With `API_KEYS` set the schema and the interactive docs are served only to callers with a key,
unless `DOCS_PUBLIC=true`. A browser cannot send `X-API-Key` to `/docs` by itself, so to browse
the docs of a keyed service, make them public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from pusher_api.deps import Caller


def protected_docs(app: FastAPI) -> APIRouter:
    """The two routes, each requiring the key."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(caller: Caller) -> dict[str, Any]:
        return app.openapi()

    @router.get("/docs")
    async def docs(caller: Caller) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    return router
