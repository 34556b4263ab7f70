"""Submitting a job: chunk the text, store the job, then enqueue its chunks."""

import hashlib
import json

from celery import Celery
from fastapi import HTTPException, status
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import JobCreate
from core.model_files import default_voice, list_voices
from core.queue import send_chunks
from core.settings import Settings
from core.text import chunk_chapters, normalize_text
from storage.jobs import NewJob, create_job, fail_job, get_job, release_chunks
from storage.models import Job


def request_hash(body: JobCreate) -> str:
    return hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()


def checked_voice(settings: Settings, body: JobCreate) -> str:
    """The voice the job will use, after the checks a body alone cannot make (413, 422)."""
    chars = sum(len(t) for t in body.texts())
    if chars > settings.max_text_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"text has {chars} characters; the limit is {settings.max_text_chars}",
        )
    voices = list_voices(settings)
    voice = body.voice or default_voice(settings)
    if voice not in voices:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown voice {voice!r}; available voices: {', '.join(voices)}",
        )
    return voice


def submit_job(
    sessions: sessionmaker[Session],
    celery: Celery,
    settings: Settings,
    body: JobCreate,
    voice: str,
    idempotency_key: str | None = None,
    batch_id: str | None = None,
) -> Job:
    texts = [normalize_text(t) for t in body.texts()]
    chunks = chunk_chapters(
        texts, max_tokens=settings.chunk_tokens, first_chunk_tokens=settings.first_chunk_tokens
    )
    spec = NewJob(
        voice=voice,
        speed=body.speed,
        lang=body.lang,
        format=body.format.value,
        title=body.title,
        author=body.author,
        batch_id=batch_id,
        priority=body.priority,
        chapters=[c.title or f"Chapter {i + 1}" for i, c in enumerate(body.chapters)]
        if body.chapters
        else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash(body) if idempotency_key else None,
    )
    with sessions.begin() as session:
        job = create_job(session, spec, chunks)
        to_send = release_chunks(session, job.id, settings.in_flight_per_job)
    try:
        send_chunks(celery, settings, job.id, to_send, body.priority)
    except Exception as error:  # kombu raises several connection error types
        with sessions.begin() as session:
            fail_job(session, job.id, f"could not enqueue: {error}")
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the job queue is unreachable: {error}"
        ) from error
    with sessions() as session:
        return get_job(session, job.id)
