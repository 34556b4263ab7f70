"""/v1/jobs: submit, inspect, list, download, cancel and delete jobs."""

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from api.auth import Principal, authenticate
from api.deps import ApiKeyDep, CeleryDep, SessionDep, SettingsDep, StoreDep
from api.downloads import audio_download
from api.job_request import OPENAPI_JOB_BODY, JobRequestDep
from api.jobs_service import checked_voice, submit_job
from api.live import job_audio, job_events
from api.openapi import NOT_MODIFIED, audio_file, errors, live_stream, text_file
from api.schemas import CallbackOut, ChapterOut, JobLinks, JobOut, JobPage, Progress
from core.audio_formats import AudioFormat
from core.audio_stream import STREAM_MEDIA_TYPES, StreamFormat
from core.queue import send_webhook
from core.states import JobStatus
from core.subtitles import build_cues, to_srt, to_vtt
from storage import jobs as job_store
from storage.blobs import BlobStore, chapter_audio_key, job_prefix
from storage.db import session_factory
from storage.models import Job

# Authentication first, router-wide: a caller without a key learns nothing, not even
# whether its body would be valid
router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(authenticate)])

POLL_AFTER_SECONDS = 2


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status,
        voice=job.voice,
        speed=job.speed,
        lang=job.lang,
        format=AudioFormat(job.format),
        title=job.title,
        author=job.author,
        chapters=job.chapters,
        priority=job.priority,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=Progress(
            chunks_done=job.chunks_done,
            chunks_total=job.chunks_total,
            chars_done=job.chars_done,
            chars_total=job.chars_total,
            percent=round(job.percent_done, 2),
        ),
        audio_seconds=job.audio_seconds,
        wall_seconds=job.wall_seconds,
        realtime_factor=job.realtime_factor,
        eta_seconds=eta_seconds(job),
        error=job.error,
        callback_url=job.callback_url,
        callback=CallbackOut(
            attempts=job.callback_attempts or 0,
            delivered_at=job.callback_delivered_at,
            error=job.callback_error,
        )
        if job.callback_url
        else None,
        links=JobLinks(
            self=f"/v1/jobs/{job.id}",
            audio=f"/v1/jobs/{job.id}/audio",
            events=f"/v1/jobs/{job.id}/events",
            stream=f"/v1/jobs/{job.id}/stream",
        ),
    )


def eta_seconds(job: Job) -> float | None:
    """Remaining characters at the rate this job has run so far."""
    if job.status != JobStatus.RUNNING or not job.started_at or not job.chars_done:
        return None
    elapsed = (datetime.now(UTC) - job.started_at).total_seconds()
    return round(elapsed / job.chars_done * (job.chars_total - job.chars_done), 1)


def etag(job: Job) -> str:
    state = f"{job.status}|{job.chunks_done}|{job.updated_at.isoformat()}|{job.finished_at}"
    return '"' + hashlib.sha1(state.encode()).hexdigest()[:20] + '"'


def find_job(session, job_id: str, principal: Principal) -> Job:
    job = job_store.owned_job(session, job_id, principal.owner)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} not found")
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
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobOut:
    voice = checked_voice(settings, principal, body)
    sessions = session_factory(settings.sqlalchemy_url)
    job = submit_job(sessions, celery, settings, principal, body, voice, idempotency_key)
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
        jobs, next_cursor = job_store.list_jobs(
            session, owner=principal.owner, limit=limit, cursor=cursor, status=status_
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid cursor") from error
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
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"job {job_id} is {job.status}; audio is available once it has succeeded",
        )
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
        for span in job_store.chapter_spans(session, job)
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
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} has no chapter {index}")
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
) -> PlainTextResponse:
    """Sentence-level subtitles timed to the job's audio."""
    job = finished_job(session, job_id, principal)
    cues = build_cues(
        (text, seconds, pause)
        for _, text, seconds, pause in job_store.job_timeline(session, job.id)
    )
    render, media_type = SUBTITLE_FORMATS[format]
    return PlainTextResponse(render(cues), media_type=f"{media_type}; charset=utf-8")


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses=errors(404, (409, "The job has already finished: nothing to cancel")),
)
def cancel(
    job_id: str, settings: SettingsDep, celery: CeleryDep, principal: ApiKeyDep, store: StoreDep
) -> JobOut:
    """Cancel a job: no chunk of it starts after this returns; a chunk already running finishes
    and is thrown away. The audio made so far is removed. Cancelling a cancelled job again
    answers the same (a client may retry); a succeeded or failed one is a 409."""
    with session_factory(settings.sqlalchemy_url).begin() as session:
        job, cancelled_now = job_store.cancel_job(session, job_id, principal.owner)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} not found")
        if job.status != JobStatus.CANCELLED:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"job {job_id} already {job.status}; nothing to cancel"
            )
    if cancelled_now:
        store.delete_prefix(job_prefix(job_id))
        if job.callback_url:
            send_webhook(celery, settings, job_id, JobStatus.CANCELLED)
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
    find_job(session, job_id, principal)
    after = (last_event_id or "0").strip()
    if not after.isdigit():
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Last-Event-ID must be the id of an event this sent"
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
        **live_stream(
            sorted(set(STREAM_MEDIA_TYPES.values())), "The audio so far, then the rest as it comes"
        ),
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
def delete(job_id: str, settings: SettingsDep, principal: ApiKeyDep, store: StoreDep) -> Response:
    with session_factory(settings.sqlalchemy_url).begin() as session:
        if not job_store.delete_job(session, job_id, principal.owner):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} not found")
    store.delete_prefix(job_prefix(job_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
