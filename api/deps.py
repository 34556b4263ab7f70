"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from collections.abc import AsyncIterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth import Principal, authenticate
from api.reader_processes import ReaderProcesses
from infra.settings import Settings
from storage.blob_store import BlobStore
from storage.db import session_factory
from storage.job_end import JobEndEffects, job_end_effects


# The dependencies that only read app state are async: a sync one costs a threadpool hop
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's read-only session: routes that write use storage's transactions. It
    closes when the route function returns, before the response goes out, so a streamed
    response (events, audio) does not hold a database connection for as long as it lasts.
    Async because making and closing a session do not wait on the database (a read-only one
    has nothing to roll back on PostgreSQL), and a sync dependency costs two threadpool hops."""
    url = request.app.state.settings.sqlalchemy_url
    with session_factory(url, readonly=True)() as session:
        yield session


async def get_celery(request: Request) -> Celery:
    return request.app.state.celery


async def get_store(request: Request) -> BlobStore:
    return request.app.state.store


async def get_readers(request: Request) -> ReaderProcesses:
    return request.app.state.readers


async def get_end_effects(request: Request) -> JobEndEffects:
    """What ending a job does beyond the database: its audio removed, its webhook sent."""
    return job_end_effects(request.app.state.celery, request.app.state.store)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
CeleryDep = Annotated[Celery, Depends(get_celery)]
StoreDep = Annotated[BlobStore, Depends(get_store)]
ReadersDep = Annotated[ReaderProcesses, Depends(get_readers)]
EndEffectsDep = Annotated[JobEndEffects, Depends(get_end_effects)]
ApiKeyDep = Annotated[Principal, Depends(authenticate)]
