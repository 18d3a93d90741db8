"""``/openapi.json`` and ``/docs`` behind the API key, for a service whose keys are set.

With ``API__KEYS`` set the schema and the interactive docs are served only to callers with a
key (the schema names every route and parameter an attacker could probe), unless
``API__DOCS_PUBLIC=true``. A browser cannot send ``X-API-Key`` to ``/docs`` by itself, so to
browse the docs of a keyed service, make them public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from energy_data_service.api.deps import ApiKeyDep


def protected_docs(app: FastAPI) -> APIRouter:
    """The two routes, each requiring the key."""
    router = APIRouter(include_in_schema=False, dependencies=[ApiKeyDep])

    @router.get("/openapi.json")
    async def openapi(_: Request) -> dict[str, Any]:
        return app.openapi()

    @router.get("/docs")
    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    return router
