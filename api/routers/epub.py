"""GET /v1/jobs/{id}/epub: a finished job as a read-along EPUB 3, its text highlighted sentence by
sentence (or word by word) as its audio plays (Media Overlays).

The EPUB is built once per job and shape and kept in storage (storage/epub_cache.py); later
requests download it, ``Range`` included. A job made as mp3 or m4b lends its file, and its EPUB
is built by the first request (copying, no encoding). Any other job's audio must first be
transcoded to AAC by a worker: the first request orders that and answers 202 with
``Retry-After``, and a request after it is done builds the EPUB.
"""

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import authenticate
from api.deps import ApiKeyDep, CeleryDep, SessionDep, SettingsDep, StoreDep
from api.downloads import audio_download
from api.errors import missing, queue_unreachable, service_unavailable
from api.openapi import audio_file, errors
from api.routers.jobs import UNFINISHED, finished_job
from core.publish.epub3 import EPUB_MEDIA_TYPE
from infra.queue import visibility_timeout_s
from infra.settings import Settings
from storage.blob_store import BlobNotFound, BlobStore, StorageError
from storage.epub_cache import (
    EPUB_AUDIO_TASK,
    build_epub,
    epub_audio,
    epub_key,
    record_order,
    take_failure,
    transcode_ordered,
)
from storage.models import Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(authenticate)])

# Transcoding runs at about 200 times real time: ask again after this share of the audio's
# length, within these bounds (seconds)
TRANSCODE_SPEED = 200
MIN_RETRY_AFTER_S, MAX_RETRY_AFTER_S = 2, 60
# Margin under the broker's visibility timeout: a task running longer would be delivered again
VISIBILITY_MARGIN_S = 60


class EpubPending(BaseModel):
    """The EPUB is not ready yet: its audio is being transcoded."""

    status: str = Field(description="`preparing`")
    message: str = Field(description="what is being done, and what to do")
    retry_after_seconds: int = Field(description="when to ask again (also `Retry-After`)")


def _responses() -> dict:
    documented = audio_file("The read-along EPUB 3")
    responses = documented["responses"]
    binary = {"schema": {"type": "string", "format": "binary"}}
    responses[200] = {
        "description": "The read-along EPUB 3 (`application/epub+zip`)",
        "content": {EPUB_MEDIA_TYPE: binary},
    }
    responses[206] = {
        **responses[206],
        "content": {EPUB_MEDIA_TYPE: binary, "multipart/byteranges": binary},
    }
    responses[202] = {
        "model": EpubPending,
        "description": "The job's audio (not mp3 or m4b) is being transcoded for the EPUB, once; "
        "ask again after `Retry-After` seconds",
    }
    responses.update(
        errors(
            (404, "No such job (or it belongs to another key), or its audio is missing"),
            UNFINISHED,
            422,
            (
                503,
                "The job's audio could not be transcoded (asking again tries once more), the job "
                "queue is unreachable, or storage could not be read or written",
            ),
        )
    )
    return documented


EPUB_FILE = _responses()


@router.get(
    "/{job_id}/epub",
    response_class=FileResponse,
    responses=EPUB_FILE["responses"],
    openapi_extra=EPUB_FILE["openapi_extra"],
)
def epub(
    job_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    principal: ApiKeyDep,
    store: StoreDep,
    words: bool = False,
) -> Response:
    """The job as a read-along EPUB 3: a document per chapter with an id on every sentence said
    (with `words=true`, on every word too), and a Media Overlay per chapter that plays each from
    the job's audio as the job's timings place it (clips run gap-free, from a sentence's first
    word to the start of the next sentence). Built once and kept; `Range` is served."""
    job = finished_job(session, job_id, principal)
    key = epub_key(job, words)
    try:
        if not store.exists(key):
            audio = epub_audio(store, job)
            if audio is None:
                return _transcoding(settings, celery, store, job)
            # This thread, not the event loop: copying, bounded by the audio's size
            build_epub(session, store, job, words, audio)
    except BlobNotFound as error:
        raise missing(f"job {job_id}'s audio is missing from storage") from error
    except StorageError as error:
        raise service_unavailable(
            f"storage failed while the EPUB was built ({error}); try again later",
            retry_after_s=MIN_RETRY_AFTER_S,
        ) from error
    name = f"{job.title or job.id}{' (words)' if words else ''}.epub"
    return audio_download(
        store,
        key,
        EPUB_MEDIA_TYPE,
        name,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
    )


def _transcoding(settings: Settings, celery, store: BlobStore, job: Job) -> JSONResponse:
    """Order the transcode of the job's audio, unless one is under way, and say when to ask
    again; a transcode that failed is told once (503), and the next request orders another."""
    failure = take_failure(store, job.id)
    if failure is not None:
        raise service_unavailable(
            f"the job's {job.format} audio could not be transcoded to AAC for its EPUB "
            f"({failure}); ask again to try once more",
            retry_after_s=MIN_RETRY_AFTER_S,
        )
    if not transcode_ordered(store, job.id):
        limit_s = visibility_timeout_s(settings) - VISIBILITY_MARGIN_S
        try:
            # Ahead of every chunk, with assemblies: someone is waiting for it
            celery.send_task(
                EPUB_AUDIO_TASK,
                args=[job.id],
                queue=job.queue,
                priority=0,
                time_limit=limit_s,
                soft_time_limit=limit_s - 30,
            )
        except Exception as error:  # kombu raises several connection error types
            raise queue_unreachable(error, "nothing was ordered: ask again later") from error
        record_order(store, job.id, limit_s)
    wait_s = round((job.audio_seconds or 0) / TRANSCODE_SPEED)
    retry_after = min(max(wait_s, MIN_RETRY_AFTER_S), MAX_RETRY_AFTER_S)
    message = (
        f"the EPUB is being prepared: its {job.format} audio is transcoded to AAC once (EPUB "
        "reading systems play MP3 and AAC); ask again after Retry-After seconds. Jobs made "
        "as mp3 or m4b need no transcoding"
    )
    return JSONResponse(
        # EpubPending's fields
        {"status": "preparing", "message": message, "retry_after_seconds": retry_after},
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Retry-After": str(retry_after)},
    )
