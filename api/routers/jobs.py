"""/v1/jobs: submit, inspect, list, download, cancel and delete jobs."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from api.auth import Principal, authenticate
from api.casts import with_saved_cast
from api.deps import (
    ApiKeyDep,
    CeleryDep,
    EndEffectsDep,
    ReadersDep,
    SessionDep,
    SettingsDep,
    StoreDep,
)
from api.downloads import audio_download
from api.errors import bad_request, conflict, missing, not_found
from api.job_request import OPENAPI_JOB_BODY, JobRequestDep
from api.job_views import etag, job_out
from api.live import job_audio, job_events
from api.openapi import NOT_MODIFIED, audio_file, errors, live_stream, text_file
from api.schemas import ChapterOut, JobOut, JobPage, TimingsOut, WordTimingOut
from api.submission import check_submission, submit_job
from core.audio.formats import AudioFormat, StreamFormat, media_types
from core.audio.subtitles import build_cues, to_srt, to_vtt, word_cues
from core.jobs.states import JobStatus
from core.speech.word_timing import placed_words, seconds
from storage.blob_store import BlobStore, chapter_audio_key
from storage.db import session_factory
from storage.job_end import ending_jobs
from storage.job_queries import job_chapter_spans, list_jobs, owned_job, placed_chunks
from storage.jobs import delete_job
from storage.models import Job

# Authentication first, router-wide: a caller without a key learns nothing, not even
# whether its body would be valid
router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(authenticate)])

POLL_AFTER_SECONDS = 2


def find_job(session, job_id: str, principal: Principal) -> Job:
    job = owned_job(session, job_id, principal.owner)
    if job is None:
        raise not_found(f"job {job_id}")
    return job


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses=errors(
        400,
        (409, "The Idempotency-Key was already used with a different body"),
        413,
        415,
        422,
        429,
        503,
    ),
    openapi_extra=OPENAPI_JOB_BODY,
)
def create(
    body: JobRequestDep,
    response: Response,
    settings: SettingsDep,
    celery: CeleryDep,
    principal: ApiKeyDep,
    store: StoreDep,
    readers: ReadersDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobOut:
    body = with_saved_cast(settings, principal, body)
    checked = readers.read_from_thread(check_submission, settings, principal, body)
    sessions = session_factory(settings.sqlalchemy_url)
    job = submit_job(
        sessions, celery, settings, principal, body, checked, idempotency_key, store=store
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(job)


@router.get("", response_model=JobPage, responses=errors((400, "Not a cursor this API gave"), 422))
def list_(
    session: SessionDep,
    principal: ApiKeyDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
) -> JobPage:
    try:
        jobs, next_cursor = list_jobs(
            session, owner=principal.owner, limit=limit, cursor=cursor, status=status_
        )
    except ValueError as error:
        raise bad_request(
            "invalid cursor: give the `next_cursor` of an earlier page, or none for the first",
        ) from error
    return JobPage(jobs=[job_out(j) for j in jobs], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut, responses={**NOT_MODIFIED, **errors(404)})
def read(
    job_id: str,
    session: SessionDep,
    principal: ApiKeyDep,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
):
    job = find_job(session, job_id, principal)
    tag = etag(job)
    headers = {"ETag": tag}
    if not JobStatus(job.status).finished:
        headers["Retry-After"] = str(POLL_AFTER_SECONDS)
    if if_none_match and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    return job_out(job)


UNFINISHED = (409, "The job has not succeeded (yet): `detail` gives its status")
MISSING = (404, "No such job (or it belongs to another key), or its audio is missing from storage")
AUDIO_FILE = audio_file("The job's audio in its format")
CHAPTER_FILE = audio_file("The chapter's audio in the job's format")


@router.get(
    "/{job_id}/audio",
    response_class=FileResponse,
    responses={**AUDIO_FILE["responses"], **errors(MISSING, UNFINISHED)},
    openapi_extra=AUDIO_FILE["openapi_extra"],
)
def audio(
    job_id: str, request: Request, session: SessionDep, principal: ApiKeyDep, store: StoreDep
):
    job = finished_job(session, job_id, principal)
    fmt = AudioFormat(job.format)
    return _download(
        request, store, job.audio_key, fmt, filename=f"{job.title or job.id}.{fmt.extension}"
    )


def _download(
    request: Request, store: BlobStore, key: str, fmt: AudioFormat, filename: str
) -> Response:
    # Range requests get 206 from either store; a bucket may redirect (see api/downloads.py)
    return audio_download(
        store,
        key,
        fmt.media_type,
        filename,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
    )


def finished_job(session, job_id: str, principal: Principal) -> Job:
    job = find_job(session, job_id, principal)
    if job.status != JobStatus.SUCCEEDED or not job.audio_key:
        raise conflict(f"job {job_id} is {job.status}; audio is available once it has succeeded")
    return job


@router.get(
    "/{job_id}/chapters", response_model=list[ChapterOut], responses=errors(404, UNFINISHED)
)
def chapters(job_id: str, session: SessionDep, principal: ApiKeyDep) -> list[ChapterOut]:
    """Chapter titles with where each starts and ends in the job's audio."""
    job = finished_job(session, job_id, principal)
    # Microseconds: a sample lasts 42 µs, so a client can cut the file exactly
    return [
        ChapterOut(
            index=span.index,
            title=span.title,
            start_seconds=round(span.start_seconds, 6),
            end_seconds=round(span.end_seconds, 6),
            audio=f"/v1/jobs/{job.id}/chapters/{span.index}/audio" if job.chapters else None,
        )
        for span in job_chapter_spans(session, job)
    ]


@router.get(
    "/{job_id}/chapters/{index}/audio",
    response_class=FileResponse,
    responses={
        **CHAPTER_FILE["responses"],
        **errors(
            (404, "No such job, or the job has no such chapter, or its audio is missing"),
            UNFINISHED,
            422,
        ),
    },
    openapi_extra=CHAPTER_FILE["openapi_extra"],
)
def chapter_audio(
    job_id: str,
    index: int,
    request: Request,
    session: SessionDep,
    principal: ApiKeyDep,
    store: StoreDep,
):
    job = finished_job(session, job_id, principal)
    fmt = AudioFormat(job.format)
    if not job.chapters or not 0 <= index < len(job.chapters):
        raise missing(f"job {job_id} has no chapter {index}")
    return _download(
        request,
        store,
        chapter_audio_key(job.id, index, fmt.extension),
        fmt,
        filename=f"{index + 1:02d} {job.chapters[index]}.{fmt.extension}",
    )


SUBTITLE_FORMATS = {"srt": (to_srt, "application/x-subrip"), "vtt": (to_vtt, "text/vtt")}


@router.get(
    "/{job_id}/subtitles",
    # The media type depends on `format`: documented below, not as text/plain
    response_class=Response,
    responses={
        **text_file([media_type for _, media_type in SUBTITLE_FORMATS.values()], "Subtitles"),
        **errors(404, UNFINISHED, 422),
    },
)
def subtitles(
    job_id: str,
    session: SessionDep,
    principal: ApiKeyDep,
    format: Literal["srt", "vtt"] = "srt",
    level: Literal["sentence", "word"] = "sentence",
) -> PlainTextResponse:
    """Subtitles timed to the job's audio: a cue per sentence (from its first word's start to
    its last word's end), or with `level=word` a cue per word."""
    job = finished_job(session, job_id, principal)
    chunks = placed_chunks(session, job.id)
    if level == "word":
        cues = word_cues((placed.index, placed.slot, placed.words) for placed in chunks)
    else:
        cues = build_cues((placed.text, placed.slot, placed.words) for placed in chunks)
    render, media_type = SUBTITLE_FORMATS[format]
    return PlainTextResponse(render(cues), media_type=f"{media_type}; charset=utf-8")


@router.get("/{job_id}/timings", response_model=TimingsOut, responses=errors(404, UNFINISHED))
def timings(job_id: str, session: SessionDep, principal: ApiKeyDep) -> TimingsOut:
    """When each written word is said: start and end seconds in the job's file (its pauses
    included), with its chunk and chapter."""
    job = finished_job(session, job_id, principal)
    chunks = placed_chunks(session, job.id)
    words = placed_words((placed.index, placed.slot, placed.words) for placed in chunks)
    return TimingsOut(
        words=[
            WordTimingOut(
                word=w.word,
                start=seconds(w.start),
                end=seconds(w.end),
                chunk=w.chunk,
                chapter=w.chapter,
            )
            for w in words
        ],
        estimated=any(p.words_estimated or (p.slot.length and not p.words) for p in chunks),
    )


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses=errors(404, (409, "The job has already finished: nothing to cancel")),
)
def cancel(
    job_id: str, settings: SettingsDep, effects: EndEffectsDep, principal: ApiKeyDep
) -> JobOut:
    """Cancel a job: no chunk of it starts after this returns; a chunk already running finishes
    and is thrown away. The audio made so far is removed. Cancelling a cancelled job again
    answers the same (a client may retry); a succeeded or failed one is a 409."""
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        job, _ = ends.cancel(job_id, principal.owner)
    if job is None:
        raise not_found(f"job {job_id}")
    if job.status != JobStatus.CANCELLED:
        raise conflict(f"job {job_id} already {job.status}; nothing to cancel")
    return job_out(job)


LIVE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        **live_stream(["text/event-stream"], "Server-Sent Events until the job ends"),
        **errors(404, (400, "`Last-Event-ID` is not an id this stream sent")),
    },
)
def events(
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: ApiKeyDep,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Progress as Server-Sent Events: a `chunk` event per finished chunk (id: its place in the
    finishing order; data: progress), then `finished`, `failed` or `cancelled`, and the end.
    `Last-Event-ID` resumes after that event; comments keep an idle connection alive."""
    job = find_job(session, job_id, principal)
    after = (last_event_id or "0").strip()
    # ASCII digits only: a header is read as Latin-1, where "²" is a digit to isdigit() but not
    # to int(). The ids are 1 to the job's chunk count; a larger number (20 nines would not
    # even fit the database's integers) was never sent
    if not (after.isascii() and after.isdigit()) or int(after) > job.chunks_total:
        raise bad_request(
            f"Last-Event-ID must be the id of an event this sent: a whole number, at most "
            f"{job.chunks_total} (the job's chunks)",
        )
    return StreamingResponse(
        job_events(settings, job_id, int(after)),
        media_type="text/event-stream",
        headers=LIVE_HEADERS,
    )


@router.get(
    "/{job_id}/stream",
    response_class=StreamingResponse,
    responses={
        **live_stream(media_types("stream"), "The audio so far, then the rest as it comes"),
        **errors(404, 422),
    },
)
def stream(
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: ApiKeyDep,
    store: StoreDep,
    format: StreamFormat = StreamFormat.WAV,
) -> StreamingResponse:
    """The job's audio while it is made: finished chunks in order, each as soon as it and all
    before it are done, with the final file's pauses; playback can start after the first chunk.
    The level is the chunks' own (the final file's one gain is known only at the end). Ends with
    the job; early, where the audio stops, if it fails or is cancelled."""
    find_job(session, job_id, principal)
    return StreamingResponse(
        job_audio(settings, store, job_id, format),
        media_type=format.media_type,
        headers=LIVE_HEADERS,
    )


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def delete(
    job_id: str, settings: SettingsDep, principal: ApiKeyDep, effects: EndEffectsDep
) -> Response:
    with session_factory(settings.sqlalchemy_url).begin() as session:
        unused = delete_job(session, job_id, principal.owner)
        if unused is None:
            raise not_found(f"job {job_id}")
    effects.discard_audio(job_id, unused)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
