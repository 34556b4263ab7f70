"""/v1/jobs/{id}/cover: the book's cover image, as its job was given it (storage/covers.py)."""

from fastapi import APIRouter, Depends, Response

from api.auth import authenticate
from api.book_details import read_cover
from api.deps import ApiKeyDep, SessionDep, StoreDep
from api.errors import missing
from api.openapi import errors
from api.routers.jobs import find_job
from core.books.covers import COVER_TYPES
from storage.covers import cover_media_type

# Same authentication as the job: a caller without a key learns nothing
router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(authenticate)])

# A job's cover never changes (a revision gets a copy under its own id): the browser may keep
# it, for this key only
CACHE_CONTROL = "private, max-age=86400"
_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/{job_id}/cover",
    response_class=Response,
    responses={
        200: {"description": "The cover image", "content": dict.fromkeys(COVER_TYPES, _IMAGE)},
        **errors(
            (404, "No such job (or it belongs to another key), or it has no cover"),
            (503, "Storage could not be read; retry later"),
        ),
    },
)
def cover(job_id: str, session: SessionDep, principal: ApiKeyDep, store: StoreDep) -> Response:
    """The cover image (JPEG or PNG) given with the job or found in its EPUB."""
    job = find_job(session, job_id, principal)
    if not job.cover_key:
        raise missing(f"job {job_id} has no cover")
    data = read_cover(store, job.cover_key, f"job {job_id}")
    return Response(
        data,
        media_type=cover_media_type(job.cover_key),
        headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )
