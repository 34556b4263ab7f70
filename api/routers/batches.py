"""/v1/batches: many jobs (or book files) submitted together, followed with one status."""

from fastapi import APIRouter, Depends, Response, status

from api.auth import authenticate
from api.book_details import discard_cover
from api.casts import with_saved_cast
from api.deps import ApiKeyDep, CeleryDep, ReadersDep, SessionDep, SettingsDep, StoreDep
from api.errors import HTTPException, not_found
from api.job_request import OPENAPI_BATCH_BODY, BatchRequestDep
from api.job_views import batch_out
from api.openapi import errors
from api.schemas import BatchOut
from api.submission import check_submission, enforce_quota, submit_job
from storage.batches import batch_jobs, create_batch, discard_batch, get_batch
from storage.db import session_factory

router = APIRouter(prefix="/v1/batches", tags=["batches"], dependencies=[Depends(authenticate)])


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
    store: StoreDep,
    readers: ReadersDep,
) -> BatchOut:
    # Every job is checked before any is stored: a bad one rejects the batch, nothing is left
    bodies = [with_saved_cast(settings, principal, body) for body in bodies]
    plans = [
        readers.read_from_thread(check_submission, settings, principal, body) for body in bodies
    ]
    sessions = session_factory(settings.sqlalchemy_url)
    with sessions.begin() as session:
        enforce_quota(session, principal, new_jobs=len(bodies))
        batch = create_batch(session, principal.owner)
    jobs = []
    try:
        for body, plan in zip(bodies, plans, strict=True):
            jobs.append(
                submit_job(
                    sessions,
                    celery,
                    settings,
                    principal,
                    body,
                    plan,
                    batch_id=batch.id,
                    counted=False,
                    store=store,
                )
            )
    except HTTPException:
        # The queue went away part way: the batch is refused whole, and nothing of it is kept
        with sessions.begin() as session:
            discard_batch(session, batch.id, principal.owner)
        for job in jobs:  # their covers (storage/covers.py)
            discard_cover(store, job.cover_key)
        raise
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return batch_out(batch.id, batch.created_at, jobs)


@router.get("/{batch_id}", response_model=BatchOut, responses=errors(404))
def read(batch_id: str, session: SessionDep, principal: ApiKeyDep) -> BatchOut:
    jobs = batch_jobs(session, batch_id, principal.owner)
    if jobs is None:
        raise not_found(f"batch {batch_id}")
    batch = get_batch(session, batch_id, principal.owner)
    return batch_out(batch_id, batch.created_at, jobs)
