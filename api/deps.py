"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from typing import Annotated

from celery import Celery
from fastapi import Depends, Request

from api.auth import Principal, authenticate
from api.sessions import SessionDep  # noqa: F401 (the routers import it from here)
from core.settings import Settings
from storage.blobs import BlobStore


# The dependencies that only read app state are async: a sync one costs a threadpool hop
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_celery(request: Request) -> Celery:
    return request.app.state.celery


async def get_store(request: Request) -> BlobStore:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
StoreDep = Annotated[BlobStore, Depends(get_store)]
ApiKeyDep = Annotated[Principal, Depends(authenticate)]
