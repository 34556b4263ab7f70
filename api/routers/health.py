"""Liveness and readiness."""

import logging
import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import CeleryDep, SessionDep
from api.schemas import ReadyOut

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

WORKER_PING_TIMEOUT_S = 1.0


@router.get("/healthz")
async def healthz() -> dict:
    # The pid tells apart the processes behind one port (gunicorn workers). Async: it answers
    # on the event loop even while every thread of the pool is busy with uploads
    return {"status": "ok", "pid": os.getpid()}


@router.get(
    "/readyz",
    responses={
        200: {"model": ReadyOut, "description": "Ready"},
        503: {"model": ReadyOut, "description": "Not ready: `checks` says what failed"},
    },
)
def readyz(session: SessionDep, celery: CeleryDep) -> JSONResponse:
    """Ready when the database and the broker answer and at least one worker is online.

    Open without a key: the answer says what failed, never the drivers' error texts (hosts,
    ports, user names); those go to the log."""
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means not ready
        log.warning("readyz: the database does not answer: %s", error)
        checks["database"] = "error: database unreachable"
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
        checks["broker"] = "ok"
        replies = celery.control.ping(timeout=WORKER_PING_TIMEOUT_S)
        checks["workers"] = f"{len(replies)} online" if replies else "error: no worker online"
    except Exception as error:  # kombu/redis connection errors
        log.warning("readyz: the broker does not answer: %s", error)
        checks.setdefault("broker", "error: broker unreachable")
        checks.setdefault("workers", "unknown: broker unreachable")
    ready = all(not value.startswith(("error", "unknown")) for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
