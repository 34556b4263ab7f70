"""The FastAPI application: ``uvicorn api.main:app`` (or ``kokoro-queue api``)."""

from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import KeysInDatabase
from api.body_limit import BodySizeLimit
from api.database_unavailable import DatabaseUnavailable
from api.errors import error_response
from api.loopback_guard import LoopbackOnlyWithoutKeys
from api.openapi import complete_error_responses
from api.reader_processes import ReaderProcesses
from api.routers import (
    batches,
    cast,
    casts,
    covers,
    dashboard,
    epub,
    feeds,
    formats,
    health,
    jobs,
    languages,
    proof,
    revisions,
    speech,
    stats,
    text,
    voices,
    web,
)
from api.schemas import BatchCreate, JobCreate
from core.speech.lexicon import server_lexicon
from infra.queue import make_celery
from infra.settings import Settings, get_settings
from storage.blobs import blob_store


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # A bad lexicon file stops the API at start, saying what to fix, not at the first job
    server_lexicon(settings.lexicon_path)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # The threadpool that sync routes and dependencies run in (KQ_API_THREADS)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        app.state.readers.start()
        try:
            yield
        finally:
            app.state.readers.stop()

    app = FastAPI(
        title="kokoro-queue",
        version="0.1.0",
        description="Long-text speech jobs synthesized by Celery workers with Kokoro-82M.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.celery = make_celery(settings)
    app.state.store = blob_store(settings)
    app.state.readers = ReaderProcesses(settings.api_reader_processes)
    app.state.keys_in_database = KeysInDatabase(settings.sqlalchemy_url)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # Added last, so it runs first: a refused client's body is never read
    app.add_middleware(LoopbackOnlyWithoutKeys, settings=settings)
    # Outermost: the guard above reads the database too
    app.add_middleware(DatabaseUnavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        # What the helpers of api/errors.py raise (and Starlette's own 404 and 405)
        if not is_body_allowed_for_status_code(error.status_code):
            return await http_exception_handler(request, error)
        return error_response(error.status_code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        errors = error.errors()
        # A body that is not JSON at all is a malformed request, not a semantic one
        code = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
        detail = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in errors]
        return error_response(code, detail)

    _document_request_bodies(app)
    for router in (
        jobs.router,
        epub.router,
        covers.router,
        feeds.router,
        revisions.router,
        proof.router,
        batches.router,
        voices.router,
        languages.router,
        formats.router,
        speech.router,
        text.router,
        cast.router,
        casts.router,
        stats.router,
        dashboard.router,
        health.router,
        web.router,
    ):
        app.include_router(router)
    return app


def _document_request_bodies(app: FastAPI) -> None:
    """POST /v1/jobs and /v1/batches read their bodies themselves (JSON or multipart), so their
    JSON schemas are added to the OpenAPI components by hand; so are the error answers FastAPI
    cannot see (see ``complete_error_responses``)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI keeps it as app.openapi_schema
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (JobCreate, BatchCreate):
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[model.__name__] = body
            complete_error_responses(schema)
        return app.openapi_schema

    app.openapi = openapi


def __getattr__(name: str):
    # `uvicorn api.main:app` builds the app on first access, from the environment's settings
    if name == "app":
        return create_app()
    raise AttributeError(name)
