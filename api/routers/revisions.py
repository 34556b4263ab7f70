"""/v1/jobs/{id}/revisions: make a job again with only what changed, or see what would be."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api.auth import authenticate
from api.deps import ApiKeyDep, CeleryDep, ReadersDep, SessionDep, SettingsDep, StoreDep
from api.job_views import job_out
from api.openapi import errors
from api.revisions import job_source, revised_request, revision_plan, revisions_of
from api.routers.jobs import find_job
from api.schemas import JobOut, JobSource, RevisionCreate, RevisionPlan
from api.submission import check_submission, submit_job
from storage.db import session_factory

router = APIRouter(prefix="/v1/jobs", tags=["revisions"], dependencies=[Depends(authenticate)])


@router.post(
    "/{job_id}/revisions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut | RevisionPlan,
    responses={
        200: {"model": RevisionPlan, "description": "`dry_run=true`: what would be made"},
        **errors(400, 404, (409, "The job was stored without its text"), 413, 422, 429, 503),
    },
)
def revise(
    job_id: str,
    change: RevisionCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    principal: ApiKeyDep,
    store: StoreDep,
    readers: ReadersDep,
    dry_run: Annotated[bool, Query(description="say what would be made; store nothing")] = False,
) -> JobOut | RevisionPlan:
    """A new job made from this one's request with only what ``change`` gives changed; every
    chunk whose audio would come out the same is reused, not made again. The earlier job stays
    until it is deleted. With ``dry_run=true``: 200 with the counts and the chunks that would
    be made, beside what the earlier revision said in their place."""
    job = find_job(session, job_id, principal)
    body = revised_request(job, change)
    checked = readers.read_from_thread(check_submission, settings, principal, body)
    if dry_run:
        response.status_code = status.HTTP_200_OK
        return revision_plan(session, job, body, checked)
    sessions = session_factory(settings.sqlalchemy_url)
    revision = submit_job(
        sessions, celery, settings, principal, body, checked, revision=job, store=store
    )
    response.headers["Location"] = f"/v1/jobs/{revision.id}"
    return job_out(revision)


@router.get(
    "/{job_id}/source",
    response_model=JobSource,
    responses=errors(404, (409, "The job was stored without its text")),
)
def source(job_id: str, session: SessionDep, principal: ApiKeyDep) -> JobSource:
    """The text the job was made from, as a revision reads it: `text`, or `chapters` with
    their titles and voices, and its pronunciations; edit and send back what changes."""
    job = find_job(session, job_id, principal)
    return job_source(job)


@router.get("/{job_id}/revisions", response_model=list[JobOut], responses=errors(404))
def list_revisions(job_id: str, session: SessionDep, principal: ApiKeyDep) -> list[JobOut]:
    """The book's revisions that still exist, this one among them, oldest first."""
    job = find_job(session, job_id, principal)
    return [job_out(j) for j in revisions_of(session, job)]
