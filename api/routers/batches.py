"""/v1/batches: many jobs (or book files) submitted together, followed with one status."""

from fastapi import APIRouter, Depends, HTTPException, Response, status

from api.auth import authenticate
from api.deps import ApiKeyDep, CeleryDep, SessionDep, SettingsDep
from api.job_request import OPENAPI_BATCH_BODY, BatchRequestDep
from api.jobs_service import checked_voice, enforce_quota, submit_job
from api.openapi import errors
from api.routers.jobs import job_out
from api.schemas import BatchOut, Progress
from storage import jobs as job_store
from storage.db import session_factory
from storage.models import Job

router = APIRouter(prefix="/v1/batches", tags=["batches"], dependencies=[Depends(authenticate)])


def batch_out(batch_id: str, created_at, jobs: list[Job]) -> BatchOut:
    done = sum(j.chars_done for j in jobs)
    total = sum(j.chars_total for j in jobs)
    return BatchOut(
        id=batch_id,
        status=job_store.batch_status([j.status for j in jobs]),
        created_at=created_at,
        progress=Progress(
            chunks_done=sum(j.chunks_done for j in jobs),
            chunks_total=sum(j.chunks_total for j in jobs),
            chars_done=done,
            chars_total=total,
            percent=round(100.0 * done / total, 2) if total else 100.0,
        ),
        jobs=[job_out(j) for j in jobs],
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchOut,
    responses=errors(400, 413, 415, 422, 429, 503),
    openapi_extra=OPENAPI_BATCH_BODY,
)
def create(
    bodies: BatchRequestDep,
    response: Response,
    settings: SettingsDep,
    celery: CeleryDep,
    principal: ApiKeyDep,
) -> BatchOut:
    # Every job is checked before any is stored: a bad one rejects the batch, nothing is left
    voices = [checked_voice(settings, principal, body) for body in bodies]
    sessions = session_factory(settings.sqlalchemy_url)
    with sessions.begin() as session:
        enforce_quota(session, principal, new_jobs=len(bodies))
        batch = job_store.create_batch(session, principal.owner)
    jobs = [
        submit_job(
            sessions, celery, settings, principal, body, voice, batch_id=batch.id, counted=False
        )
        for body, voice in zip(bodies, voices, strict=True)
    ]
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return batch_out(batch.id, batch.created_at, jobs)


@router.get("/{batch_id}", response_model=BatchOut, responses=errors(404))
def read(batch_id: str, session: SessionDep, principal: ApiKeyDep) -> BatchOut:
    jobs = job_store.batch_jobs(session, batch_id, principal.owner)
    if jobs is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"batch {batch_id} not found")
    batch = job_store.get_batch(session, batch_id, principal.owner)
    return batch_out(batch_id, batch.created_at, jobs)
