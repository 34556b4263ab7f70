"""503 with Retry-After, not 500, while the database cannot be reached.

A restarted or failing-over PostgreSQL (or a SQLite file locked past its busy timeout) is a
passing state: clients should wait and retry, which 503 with Retry-After tells them. Pooled
connections the outage broke are replaced once it is over (``storage/db.py`` checks them).

A middleware, not an exception handler: the loopback guard (``api/loopback_guard.py``) reads
the database before any route runs, outside the reach of FastAPI's exception handlers.
"""

import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
DETAIL = (
    "the database cannot be reached at the moment; retry after Retry-After seconds. If this "
    "lasts, the server's log says why (check that the database server runs and KQ_DATABASE_URL)"
)


def is_database_unavailable(error: BaseException) -> bool:
    """The database is down, restarting or unreachable (not a bad query or a bug)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class DatabaseUnavailable:
    """Pure ASGI middleware: a request that meets an unreachable database is answered 503 with
    Retry-After, unless its response has already started (then it ends as it would have)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started or not is_database_unavailable(error):
                raise
            log.warning(
                "%s %s: database unavailable, answered 503: %s",
                scope.get("method"),
                scope.get("path"),
                str(error).splitlines()[0] if str(error) else type(error).__name__,
            )
            answer = error_response(503, DETAIL, headers={"Retry-After": str(RETRY_AFTER_S)})
            await answer(scope, receive, send)
