"""``/`` (the dashboard page) and ``/dashboard/{asset}`` (its scripts, styles and chart library).

The page is static; it reads everything through the public REST API with the visitor's API key.
What the page must know before its first request (whether a key is required, the page-size cap)
is written into the HTML as a ``<meta>`` tag, so a visitor with a key is never greeted by a 401
and a year of points comes in one page. A strict Content-Security-Policy keeps the page to its
own origin: no script, style, font or request can reach anywhere else.
"""

from __future__ import annotations

import html
from pathlib import Path

import orjson
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, HTMLResponse

from energy_data_service.api.deps import SettingsDep
from energy_data_service.settings import Settings

STATIC = Path(__file__).parent / "static"
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
"""Only these kinds of files are served; anything else under ``static`` (notes, licences) is not
an asset the page loads."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_CONFIG_MARKER = "{{config}}"

router = APIRouter(include_in_schema=False)


def page_config(settings: Settings) -> dict[str, object]:
    """What the page needs before its first API call."""
    return {"keys_required": bool(settings.api.keys), "max_limit": settings.api.max_limit}


def render_page(settings: Settings) -> str:
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    config = html.escape(orjson.dumps(page_config(settings)).decode(), quote=True)
    return template.replace(_CONFIG_MARKER, config)


@router.get("/")
async def dashboard_page(settings: SettingsDep) -> HTMLResponse:
    return HTMLResponse(
        render_page(settings),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/dashboard/{asset:path}")
async def dashboard_asset(asset: str) -> FileResponse:
    """Files of ``static`` by relative path; nothing outside it, and only the asset types."""
    path = (STATIC / asset).resolve()
    media_type = ASSET_TYPES.get(path.suffix)
    if media_type is None or not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dashboard asset {asset!r}")
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
