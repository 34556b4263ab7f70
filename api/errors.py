"""The one place an error answer is made: routes raise the helpers below, and middlewares and
exception handlers answer with ``error_response``; ``api/openapi.py`` documents them. Every one
is ``{"detail": ...}`` saying what is wrong and how to fix it."""

from typing import Any

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse

# A broker outage is usually a restart: seconds
QUEUE_RETRY_AFTER_S = 5


def error_response(
    status_code: int, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The answer to an error, for code that answers itself (ASGI middlewares, exception
    handlers) rather than raising one of the helpers below."""
    return JSONResponse({"detail": detail}, status_code, headers=headers)


def bad_request(detail: str) -> HTTPException:
    """400 for a request this API cannot read: a cursor or event id it never gave."""
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail)


def unauthorized(detail: str) -> HTTPException:
    """401 with the scheme to authenticate with: no API key, or not one this server knows."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def not_found(what: str) -> HTTPException:
    """404 for a job, batch or model this caller cannot see (another key's looks the same)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def missing(detail: str) -> HTTPException:
    """404 for anything else that is not there (a chapter, a static file, stored audio), with
    ``detail`` saying what."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail)


def conflict(detail: str) -> HTTPException:
    """409 for a request the job's state (or an earlier request) does not allow."""
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def payload_too_large(detail: str) -> HTTPException:
    """413 for a text or book over a size limit."""
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail)


def unsupported_media_type(detail: str) -> HTTPException:
    """415 for a body or file of a type this API does not read."""
    return HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail)


def unprocessable(detail: str) -> HTTPException:
    """422 for a request that is well formed but cannot be done as asked."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def too_many_requests(detail: str, retry_after_s: int) -> HTTPException:
    """429 with Retry-After: this key has as much under way as it may."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, detail, headers={"Retry-After": str(retry_after_s)}
    )


def service_unavailable(detail: str, retry_after_s: int | None = None) -> HTTPException:
    """503 for something the server needs and cannot reach or use at the moment; with
    Retry-After when waiting is likely to help."""
    headers = None if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers=headers)


def queue_unreachable(error: Exception, outcome: str) -> HTTPException:
    """503 with Retry-After when the job queue (Redis) cannot be reached; ``outcome`` says
    what became of the request, e.g. "nothing was stored: submit again later"."""
    return service_unavailable(
        f"the job queue is unreachable ({error}); {outcome}", QUEUE_RETRY_AFTER_S
    )
