"""Submitting a job: the checks a body alone cannot make, then chunk the text, store the job
and enqueue its chunks."""

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from celery import Celery
from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.errors import queue_unreachable, unprocessable
from api.schemas import JobCreate
from core.callback_urls import written_address_refusal
from core.languages import is_english, supported_languages
from core.lexicon import Lexicon, LexiconError
from core.model_files import default_voice, list_voices
from core.queue import send_chunks
from core.settings import MAX_JOB_CHUNKS, Settings
from core.text import normalize_text
from core.timeline import default_chapter_title
from core.voices import canonical_voice
from storage.job_queries import get_job_by_idempotency_key, unfinished_jobs
from storage.jobs import NewJob, create_job, delete_job
from storage.models import Job

if TYPE_CHECKING:  # the chunk planner imports the spoken-form normalizer: seconds to load
    from core.chunk_plan import PlannedChunk

# Fields added to JobCreate after Idempotency-Keys were first stored: left out of the hash at
# their default, so a request stored before they existed still matches its replay
LATER_FIELD_DEFAULTS = {"loudness": "peak"}


def request_hash(body: JobCreate) -> str:
    fields = body.model_dump(mode="json")
    for name, default in LATER_FIELD_DEFAULTS.items():
        if fields.get(name) == default:
            del fields[name]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CheckedJob:
    """A submission that passed every check: the job's voice and its planned chunks."""

    voice: str
    chunks: "list[PlannedChunk]"


def check_submission(settings: Settings, principal: Principal, body: JobCreate) -> CheckedJob:
    """The checks a body alone cannot make, against this server's settings and the caller's
    limits (413, 422): callback, queue, size, voice, pronunciations and markup. Plans the
    chunks, which reads the markup."""
    if body.callback_url is not None:
        if not settings.webhook_secret:
            raise unprocessable(
                "callback_url needs webhooks signed with a secret, and this server has none: "
                "set KQ_WEBHOOK_SECRET on the API and the workers"
            )
        refusal = not settings.webhook_allow_private and written_address_refusal(
            str(body.callback_url)
        )
        if refusal:
            raise unprocessable(refusal)
    if body.queue is not None and body.queue not in settings.allowed_queues:
        raise unprocessable(
            f"unknown queue {body.queue!r}; this server sends jobs to "
            f"{', '.join(settings.allowed_queues)} (KQ_QUEUE, KQ_QUEUES)"
        )
    chars = sum(len(t) for t in body.texts())
    if chars > principal.max_text_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"text has {chars} characters; the limit is {principal.max_text_chars}",
        )
    voice = resolve_voice(settings, body.voice)
    if body.pronunciations and not is_english(body.lang):
        english = " or ".join(lang.code for lang in supported_languages() if lang.english)
        raise unprocessable(
            f"pronunciations are for English text (lang {english}), and this job's lang is "
            f"{body.lang}: leave them out, or give a word its phonemes with markup "
            '("markup": "tags" and [word](/phonemes/))'
        )
    try:
        Lexicon.parse(body.pronunciation_entries())
    except LexiconError as error:
        raise unprocessable(str(error)) from error
    _check_chunk_count(_paragraphs(body.texts()))
    # Imported here, on the first job or preview: the chunk planner loads the spoken-form
    # normalizer (seconds), which the API's start-up does not pay
    from core.chunk_plan import ChapterMarkupError, plan_chunks

    voices = list_voices(settings)
    try:
        chunks = plan_chunks(
            body.texts(),
            lang=body.lang,
            markup=body.markup,
            check_voice=lambda spec: canonical_voice(spec, voices),
            max_tokens=settings.chunk_tokens,
            first_chunk_tokens=settings.first_chunk_tokens,
            max_pause_gap_s=settings.max_pause_gap_s,
            max_pause_total_s=settings.max_pause_total_s,
        )
    except ChapterMarkupError as error:
        chapter = f" of chapter {error.chapter + 1}" if body.chapters else ""
        raise unprocessable(
            f"markup ({body.markup}): {error.message} at character {error.position}{chapter}"
        ) from error
    _check_chunk_count(len(chunks))
    return CheckedJob(voice, chunks)


def _paragraphs(texts: list[str]) -> int:
    """The paragraphs of a job's texts: each ends a chunk, so they are at least its chunks,
    counted before the costly planning."""
    return sum(normalize_text(text).count("\n\n") + 1 for text in texts if text.strip())


def _check_chunk_count(chunks: int) -> None:
    if chunks > MAX_JOB_CHUNKS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the text makes {chunks:,} or more parts (every paragraph is at least one); a job "
            f"has at most {MAX_JOB_CHUNKS:,}: join very short paragraphs, or split the book "
            "into several jobs",
        )


def resolve_voice(settings: Settings, spec: str | None) -> str:
    """The canonical form of a voice or blend (``a:0.7,b:0.3``) of the loaded voices file, the
    default voice when ``spec`` is empty; 422 saying how to fix it when it is not valid."""
    try:
        return canonical_voice(spec or default_voice(settings), list_voices(settings))
    except ValueError as error:
        raise unprocessable(str(error)) from error


def enforce_quota(session: Session, principal: Principal, new_jobs: int) -> None:
    """429 when ``new_jobs`` more would put the key over its unfinished-jobs limit. Counted in
    the transaction that stores them: one round trip, no session of its own."""
    unfinished = unfinished_jobs(session, principal.owner)
    if unfinished + new_jobs > principal.max_queued_jobs:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"this key has {unfinished} unfinished jobs and may have "
            f"{principal.max_queued_jobs}; wait for some to finish or cancel them",
            headers={"Retry-After": "60"},
        )


def replayed_job(
    sessions: sessionmaker[Session], owner: str, idempotency_key: str, body: JobCreate
) -> Job | None:
    """The job an earlier request with this Idempotency-Key made; 409 if its body differed."""
    with sessions() as session:
        existing = get_job_by_idempotency_key(session, owner, idempotency_key)
    if existing is not None and existing.request_hash != request_hash(body):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "Idempotency-Key was already used with a different request body",
        )
    return existing


def submit_job(
    sessions: sessionmaker[Session],
    celery: Celery,
    settings: Settings,
    principal: Principal,
    body: JobCreate,
    checked: CheckedJob,
    idempotency_key: str | None = None,
    batch_id: str | None = None,
    counted: bool = True,
) -> Job:
    """Store and enqueue a job; with an Idempotency-Key, the job an earlier request with the
    same key and body made, if any (a replay makes no job, so it is not counted against the
    quota). ``counted=False`` when the caller has checked the quota for this job already (a
    batch checks all of its jobs at once)."""
    if idempotency_key and (job := replayed_job(sessions, principal.owner, idempotency_key, body)):
        return job
    queue = body.queue or settings.queue
    spec = NewJob(
        voice=checked.voice,
        queue=queue,
        owner=principal.owner,
        speed=body.speed,
        lang=body.lang,
        format=body.format.value,
        title=body.title,
        author=body.author,
        batch_id=batch_id,
        priority=body.priority,
        chapters=[c.title or default_chapter_title(i) for i, c in enumerate(body.chapters)]
        if body.chapters
        else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash(body) if idempotency_key else None,
        callback_url=str(body.callback_url) if body.callback_url else None,
        markup=body.markup,
        pronunciations=body.pronunciation_entries(),
        loudness=body.loudness.value,
    )
    try:
        with sessions.begin() as session:
            if counted:
                enforce_quota(session, principal, new_jobs=1)
            job, to_send = create_job(
                session, spec, checked.chunks, release=settings.in_flight_per_job
            )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key stored its job first
        if idempotency_key and (
            job := replayed_job(sessions, principal.owner, idempotency_key, body)
        ):
            return job
        raise
    try:
        send_chunks(celery, job.id, to_send, body.priority, queue)
    except Exception as error:  # kombu raises several connection error types
        # Nothing is kept: the client is told to submit again (a task the failed send did
        # deliver finds no job, and does nothing)
        with sessions.begin() as session:
            delete_job(session, job.id, principal.owner)
        raise queue_unreachable(error, "nothing was stored: submit again later") from error
    # As stored (reading it back costs a millisecond a submission); a worker that has started
    # it meanwhile shows in the next poll
    return job
