"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from collections.abc import Iterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth import Principal, authenticate
from core.settings import Settings
from storage.blobs import LocalBlobStore
from storage.db import session_factory


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A read-only session: routes that write use storage's transactions."""
    url = request.app.state.settings.sqlalchemy_url
    with session_factory(url, readonly=True)() as session:
        yield session


def get_celery(request: Request) -> Celery:
    return request.app.state.celery


def get_store(request: Request) -> LocalBlobStore:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
StoreDep = Annotated[LocalBlobStore, Depends(get_store)]
ApiKeyDep = Annotated[Principal, Depends(authenticate)]
