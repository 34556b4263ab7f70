"""Reads of jobs and chunks: lookups, the owner's list and its cursors, the layout of a job's
audio, and its progress events."""

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from core.audio.timeline import (
    ChapterSpan,
    Slot,
    chapter_spans,
    chapter_titles,
    pause_samples,
    place,
    samples_of,
)
from core.jobs.ids import is_id
from core.jobs.states import FINISHED_JOB_STATES, ChunkStatus, JobStatus
from core.speech.word_timing import TimedWord, from_rows
from storage.models import Chunk, Job


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def owned_job(session: Session, job_id: str, owner: str) -> Job | None:
    """The job, if ``job_id`` names one that belongs to ``owner``: to anyone else it does not
    exist."""
    job = session.get(Job, job_id) if is_id(job_id) else None
    return job if job is not None and job.owner == owner else None


def get_job_by_idempotency_key(session: Session, owner: str, key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.owner == owner, Job.idempotency_key == key))


UNFINISHED_JOB_STATES = tuple(s for s in JobStatus if s not in FINISHED_JOB_STATES)


def unfinished_jobs(session: Session, owner: str) -> int:
    # IN, not NOT IN: the index on (owner, status, ...) then reads only the unfinished jobs
    return session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.owner == owner, Job.status.in_(UNFINISHED_JOB_STATES))
    )


def encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The creation time (in UTC) and id a cursor points after. Raises ValueError for a cursor
    this API did not hand out: encode_cursor writes an aware time, so a naive one, or one that
    is not a time in UTC's years 1 to 9999, is not one of them."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        if not is_id(job_id):
            raise ValueError(job_id)
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise ValueError(created)
        return created_at.astimezone(UTC), job_id
    except (ValueError, OverflowError) as error:  # UnicodeDecodeError is a ValueError
        raise ValueError("invalid cursor") from error


def list_jobs(
    session: Session,
    *,
    owner: str,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
) -> tuple[list[Job], str | None]:
    """The owner's jobs, newest first. Returns the page and the cursor of the next page (None
    at the end)."""
    query = (
        select(Job)
        .where(Job.owner == owner)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Job.status == status)
    if cursor is not None:
        created, job_id = decode_cursor(cursor)
        # A row comparison, which the index (owner, [status,] created_at, id) answers as a
        # range: the page costs the same however deep it is
        query = query.where(tuple_(Job.created_at, Job.id) < (created, job_id))
    jobs = list(session.scalars(query))
    next_cursor = encode_cursor(jobs[limit - 1]) if len(jobs) > limit else None
    return jobs[:limit], next_cursor


@dataclass(frozen=True)
class PlacedChunk:
    """A chunk's written text and where its audio lies in the job's file, with its words'
    samples in the chunk's audio where they were recorded (none: an older chunk)."""

    index: int
    text: str
    slot: Slot
    words: list[TimedWord] = field(default_factory=list)
    words_estimated: bool = False


def slots_of(rows) -> list[Slot]:
    """Where chunk rows (in index order, with chapter, audio_seconds, pause_after and
    pause_seconds) lie in their job's file: the job's timeline."""
    return place(
        (r.chapter, samples_of(r.audio_seconds), pause_samples(r.pause_after, r.pause_seconds))
        for r in rows
    )


def job_slots(session: Session, job_id: str) -> list[Slot]:
    """Every chunk of the job, in order, placed on the job's timeline."""
    return slots_of(
        session.execute(
            select(Chunk.chapter, Chunk.audio_seconds, Chunk.pause_after, Chunk.pause_seconds)
            .where(Chunk.job_id == job_id)
            .order_by(Chunk.index)
        ).all()
    )


def placed_chunks(session: Session, job_id: str) -> list[PlacedChunk]:
    """Every chunk of the job, in order, laid out as assembly lays out the file."""
    rows = session.execute(
        select(
            Chunk.index,
            Chunk.chapter,
            Chunk.text,
            Chunk.audio_seconds,
            Chunk.pause_after,
            Chunk.pause_seconds,
            Chunk.words,
            Chunk.words_estimated,
        )
        .where(Chunk.job_id == job_id)
        .order_by(Chunk.index)
    ).all()
    slots = slots_of(rows)
    return [
        PlacedChunk(r.index, r.text, slot, from_rows(r.words), bool(r.words_estimated))
        for r, slot in zip(rows, slots, strict=True)
    ]


def job_chapter_spans(session: Session, job: Job) -> list[ChapterSpan]:
    """Where each chapter lies in the assembled audio, to the sample."""
    return chapter_spans(job_slots(session, job.id), chapter_titles(job.chapters, job.title))


@dataclass(frozen=True)
class ChunkEvent:
    """A finished chunk as a progress event: ``seq`` is its place in the job's finishing order."""

    seq: int
    index: int
    chars: int
    audio_seconds: float | None
    words: list | None = None  # [[word, start sample, end sample], ...] in the chunk's audio


def chars_done_through(session: Session, job_id: str, seq: int) -> int:
    """Characters of the job's chunks among the first ``seq`` to finish."""
    return session.scalar(
        select(func.coalesce(func.sum(Chunk.chars), 0)).where(
            Chunk.job_id == job_id, Chunk.done_seq <= seq
        )
    )


def chunk_events_after(session: Session, job_id: str, after_seq: int) -> list[ChunkEvent]:
    """The job's finished chunks with ``done_seq`` above ``after_seq``, in finishing order."""
    return [
        ChunkEvent(*row)
        for row in session.execute(
            select(Chunk.done_seq, Chunk.index, Chunk.chars, Chunk.audio_seconds, Chunk.words)
            .where(Chunk.job_id == job_id, Chunk.done_seq > after_seq)
            .order_by(Chunk.done_seq)
        )
    ]


STREAM_PARTS_PER_READ = 64  # a long book is read a window at a time


@dataclass(frozen=True)
class StreamPart:
    index: int
    audio_key: str
    pause: int  # samples


def playable_chunks_from(session: Session, job_id: str, start_index: int) -> list[StreamPart]:
    """The finished chunks from ``start_index`` on up to the first unfinished one: what can be
    played next, in order, without a gap."""
    rows = session.execute(
        select(Chunk.index, Chunk.audio_key, Chunk.pause_after, Chunk.pause_seconds, Chunk.status)
        .where(Chunk.job_id == job_id, Chunk.index >= start_index)
        .order_by(Chunk.index)
        .limit(STREAM_PARTS_PER_READ)
    )
    parts = []
    for index, audio_key, pause_after, pause_seconds, status in rows:
        if status != ChunkStatus.DONE or index != start_index + len(parts):
            break
        parts.append(StreamPart(index, audio_key, pause_samples(pause_after, pause_seconds)))
    return parts
