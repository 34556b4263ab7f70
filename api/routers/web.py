"""The web app for people at ``/``: submit a book, choose a voice by ear, follow and hear it.

Plain ES modules and CSS shipped in the ``api`` package (``api/static/app``), no build step and
nothing from outside. The app talks to the public ``/v1`` API only, like any other client; this
router just serves its files.

Every file under ``api/static`` (the app here, the throughput dashboard in
``api/routers/dashboard.py``) is served by ``static_file`` with the one policy ``HEADERS``: the
dashboard imports the app's key module (``/app/js/auth.js``), so both pages are one origin's
code under one Content-Security-Policy.
"""

from importlib.resources import files
from pathlib import PurePosixPath

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.errors import missing

router = APIRouter(tags=["web"], include_in_schema=False)

STATIC = files("api") / "static"
APP = "app"  # the web app's folder under STATIC, served at /app/
# What may be fetched as a file; pages (.html) are served only by their own routes
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join(
    [
        # Only this origin: no CDN, no inline script or style, nothing the data could inject
        "default-src 'self'",
        "img-src 'self' data:",
        # blob: for a file fetched with the key when no service worker can add it
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def static_file(relative: str) -> Response:
    """A script, stylesheet or image under ``api/static`` by its path there; 404 for anything
    else (no ``..``, no other file types)."""
    path = PurePosixPath(relative)
    media_type = MEDIA_TYPES.get(path.suffix)
    if media_type is None or path.is_absolute() or ".." in path.parts or not path.parts:
        raise missing("no such file")
    resource = STATIC.joinpath(*path.parts)
    if not resource.is_file():
        raise missing("no such file")
    return Response(resource.read_bytes(), media_type=media_type, headers=HEADERS)


def static_page(relative: str) -> HTMLResponse:
    """An HTML page under ``api/static``, with the policy of every page served from there."""
    page = STATIC.joinpath(*PurePosixPath(relative).parts)
    return HTMLResponse(page.read_text(encoding="utf-8"), headers=HEADERS)


@router.get("/")
def index() -> HTMLResponse:
    return static_page(f"{APP}/index.html")


@router.get("/app-sw.js")
def service_worker() -> Response:
    """The service worker that adds the signed-in key to the requests ``<audio>`` elements and
    downloads make (they cannot send headers). Served from the root so that it may control the
    page at ``/``."""
    return static_file(f"{APP}/sw.js")


@router.get("/app/{relative:path}")
def asset(relative: str) -> Response:
    return static_file(f"{APP}/{relative}")  # a ".." in it is refused there
