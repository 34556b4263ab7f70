"""The error answers the routes raise, each made in one place; ``api/openapi.py`` documents
them. Every one is ``{"detail": ...}`` saying what is wrong and how to fix it."""

from fastapi import HTTPException, status

# A broker outage is usually a restart: seconds
QUEUE_RETRY_AFTER_S = 5


def not_found(what: str) -> HTTPException:
    """404 for a job, batch or model this caller cannot see (another key's looks the same)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def unprocessable(detail: str) -> HTTPException:
    """422 for a request that is well formed but cannot be done as asked."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def queue_unreachable(error: Exception, outcome: str) -> HTTPException:
    """503 with Retry-After when the job queue (Redis) cannot be reached; ``outcome`` says
    what became of the request, e.g. "nothing was stored: submit again later"."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"the job queue is unreachable ({error}); {outcome}",
        headers={"Retry-After": str(QUEUE_RETRY_AFTER_S)},
    )
