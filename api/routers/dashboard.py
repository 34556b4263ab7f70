"""The throughput dashboard: one static page that draws ``/v1/stats`` in the browser.

No build step and nothing from outside: the page, its script and its stylesheet ship in the
``api`` package and are served from here.
"""

from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["dashboard"], include_in_schema=False)

STATIC = files("api") / "static"
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
HEADERS = {
    # Only this origin: no CDN, no inline script, nothing the data could inject
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "Cache-Control": "no-cache",
}


def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@router.get("/dashboard")
def dashboard() -> HTMLResponse:
    return HTMLResponse(_read("dashboard.html"), headers=HEADERS)


@router.get("/dashboard/{name}")
def dashboard_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "no such dashboard file")
    return Response(_read(name), media_type=ASSETS[name], headers=HEADERS)
