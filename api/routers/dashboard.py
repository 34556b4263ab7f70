"""The throughput dashboard: one static page that draws ``/v1/stats`` in the browser.

No build step and nothing from outside: the page, its script and its stylesheet ship in the
``api`` package and are served like the web app's files, with the same policy
(``api/routers/web.py``); its script signs in with the web app's key module.
"""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.errors import missing
from api.routers.web import static_file, static_page

router = APIRouter(tags=["dashboard"], include_in_schema=False)

ASSETS = {"dashboard.js", "dashboard.css"}


@router.get("/dashboard")
def dashboard() -> HTMLResponse:
    return static_page("dashboard.html")


@router.get("/dashboard/{name}")
def dashboard_asset(name: str) -> Response:
    if name not in ASSETS:
        raise missing("no such dashboard file")
    return static_file(name)
