"""The request's read-only database session: one per request, shared by authentication and the
route (FastAPI hands every dependency on it the same session)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from storage.db import session_factory


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read-only session: routes that write use storage's transactions. It closes when the
    route function returns, before the response goes out, so a streamed response (events,
    audio) does not hold a database connection for as long as it lasts. Async because making
    and closing a session do not wait on the database (a read-only one has nothing to roll
    back on PostgreSQL), and a sync dependency costs two threadpool hops per request."""
    url = request.app.state.settings.sqlalchemy_url
    with session_factory(url, readonly=True)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
