"""/v1/batches: many jobs (or book files) submitted together, followed with one status."""

from fastapi import APIRouter, HTTPException, Response, status

from api.deps import CeleryDep, SessionDep, SettingsDep
from api.job_request import OPENAPI_BATCH_BODY, BatchRequestDep
from api.jobs_service import checked_voice, submit_job
from api.routers.jobs import job_out
from api.schemas import BatchOut, Progress
from storage import jobs as job_store
from storage.db import session_factory
from storage.models import Job

router = APIRouter(prefix="/v1/batches", tags=["batches"])


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
    openapi_extra=OPENAPI_BATCH_BODY,
)
def create(
    bodies: BatchRequestDep, response: Response, settings: SettingsDep, celery: CeleryDep
) -> BatchOut:
    # Every job is checked before any is stored: a bad one rejects the batch, nothing is left
    voices = [checked_voice(settings, body) for body in bodies]
    sessions = session_factory(settings.sqlalchemy_url)
    with sessions.begin() as session:
        batch = job_store.create_batch(session)
    jobs = [
        submit_job(sessions, celery, settings, body, voice, batch_id=batch.id)
        for body, voice in zip(bodies, voices, strict=True)
    ]
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return batch_out(batch.id, batch.created_at, jobs)


@router.get("/{batch_id}", response_model=BatchOut)
def read(batch_id: str, session: SessionDep) -> BatchOut:
    jobs = job_store.batch_jobs(session, batch_id)
    if jobs is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"batch {batch_id} not found")
    batch = job_store.get_batch(session, batch_id)
    return batch_out(batch_id, batch.created_at, jobs)
