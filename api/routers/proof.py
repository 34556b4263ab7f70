"""``GET /v1/jobs/{id}/proof``: what proof-listening found in a job, every flag with a link to
its point in the finished file (docs/proof.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import authenticate
from api.deps import ApiKeyDep, SessionDep
from api.errors import conflict, not_found
from api.openapi import errors
from api.proof_views import flag_out, proof_out
from api.schemas import ProofFlagsOut
from storage.job_queries import owned_job
from storage.proof import job_flags

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(authenticate)])

MAX_FLAGS_PER_PAGE = 500


@router.get(
    "/{job_id}/proof",
    response_model=ProofFlagsOut,
    responses=errors(404, (409, "The job is not proofed"), 422),
)
def proof(
    job_id: str,
    session: SessionDep,
    principal: ApiKeyDep,
    after: Annotated[int | None, Query(ge=-1, description="a chunk index: flags after it")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FLAGS_PER_PAGE)] = 100,
) -> ProofFlagsOut:
    """The chunks proof-listening still doubts, by position, each with what was written, said
    and heard and where it starts in the finished file (placed once every chunk before it is
    made); and the job's report. A page at a time: `next_after` gives the next."""
    job = owned_job(session, job_id, principal.owner)
    if job is None:
        raise not_found(f"job {job_id}")
    report = proof_out(job)
    if report is None:
        raise conflict(f'job {job_id} is not proofed: submit it again with `"proof": true`')
    flags, next_after = job_flags(session, job.id, after, limit)
    return ProofFlagsOut(
        proof=report, flags=[flag_out(job.id, item) for item in flags], next_after=next_after
    )
