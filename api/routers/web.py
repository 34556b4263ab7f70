"""The web app for people at ``/``: submit a book, choose a voice by ear, follow and hear it.

Plain ES modules and CSS shipped in the ``api`` package (``api/static/app``), no build step and
nothing from outside. The app talks to the public ``/v1`` API only, like any other client; this
router just serves its files.
"""

from importlib.resources import files
from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["web"], include_in_schema=False)

APP = files("api") / "static" / "app"
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


def _asset(relative: str) -> tuple[bytes, str]:
    """A file of the app by its path under ``app/``; 404 for anything else (no ``..``, no
    other file types)."""
    path = PurePosixPath(relative)
    media_type = MEDIA_TYPES.get(path.suffix)
    if media_type is None or path.is_absolute() or ".." in path.parts or not path.parts:
        raise HTTPException(404, "no such file")
    resource = APP.joinpath(*path.parts)
    if not resource.is_file():
        raise HTTPException(404, "no such file")
    return resource.read_bytes(), media_type


@router.get("/")
def index() -> HTMLResponse:
    return HTMLResponse((APP / "index.html").read_text(encoding="utf-8"), headers=HEADERS)


@router.get("/app-sw.js")
def service_worker() -> Response:
    """The service worker that adds the signed-in key to the requests ``<audio>`` elements and
    downloads make (they cannot send headers). Served from the root so that it may control the
    page at ``/``."""
    body, media_type = _asset("sw.js")
    return Response(body, media_type=media_type, headers=HEADERS)


@router.get("/app/{relative:path}")
def asset(relative: str) -> Response:
    body, media_type = _asset(relative)
    return Response(body, media_type=media_type, headers=HEADERS)
