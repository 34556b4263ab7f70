"""The one place that writes jobs and chunks.

Fan-in is coordinated here, not with a Celery chord: a chunk counts towards its job only on its
first transition to done (a conditional UPDATE), so exactly one chunk sees the job complete and
triggers assembly, even when the broker redelivers a task.
"""

import base64
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.audio_formats import SAMPLE_RATE, pause_samples
from core.states import FINISHED_JOB_STATES, ChunkStatus, JobStatus
from core.text import TextChunk
from storage.db import utcnow
from storage.models import Batch, Chunk, Job, WorkerSession


@dataclass(frozen=True)
class NewJob:
    voice: str
    speed: float
    lang: str
    format: str
    title: str | None = None
    author: str | None = None
    batch_id: str | None = None
    priority: int = 0
    chapters: list[str] | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None


@dataclass(frozen=True)
class ChunkWork:
    """What a worker needs to synthesize one chunk, read in the task from the database."""

    chunk_id: int
    job_id: str
    index: int
    text: str
    voice: str
    speed: float
    lang: str
    priority: int
    attempt: int


@dataclass(frozen=True)
class ChunkTiming:
    tokens: int
    audio_key: str
    audio_seconds: float
    peak: float
    phonemize_ms: float
    inference_ms: float
    encode_ms: float
    worker_host: str
    worker_pid: int
    provider: str
    worker_rss_mb: float


JOB_ID = re.compile(r"[0-9a-f]{32}")


def new_job_id() -> str:
    return uuid.uuid4().hex


def is_job_id(value: str) -> bool:
    """Whether ``value`` could be a job id; anything else is not looked up at all."""
    return JOB_ID.fullmatch(value) is not None


def create_job(session: Session, spec: NewJob, chunks: Sequence[TextChunk]) -> Job:
    now = utcnow()
    job = Job(
        id=new_job_id(),
        status=JobStatus.QUEUED,
        voice=spec.voice,
        speed=spec.speed,
        lang=spec.lang,
        format=spec.format,
        title=spec.title,
        author=spec.author,
        batch_id=spec.batch_id,
        priority=spec.priority,
        chapters=spec.chapters,
        idempotency_key=spec.idempotency_key,
        request_hash=spec.request_hash,
        chunks_total=len(chunks),
        chars_total=sum(len(c.text) for c in chunks),
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    session.execute(
        Chunk.__table__.insert(),
        [
            {
                "job_id": job.id,
                "index": c.index,
                "chapter": c.chapter,
                "text": c.text,
                "chars": len(c.text),
                "pause_after": str(c.pause_after),
                # Released to the queue a few at a time (release_chunks)
                "status": ChunkStatus.PENDING,
                "attempts": 0,
            }
            for c in chunks
        ],
    )
    return job


def release_chunks(session: Session, job_id: str, count: int) -> list[tuple[int, int]]:
    """Mark the job's next ``count`` pending chunks queued; (chunk id, index) to send after the
    commit. Rows another transaction is releasing are skipped, never released twice."""
    rows = session.execute(
        select(Chunk.id, Chunk.index)
        .where(Chunk.job_id == job_id, Chunk.status == ChunkStatus.PENDING)
        .order_by(Chunk.index)
        .limit(count)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        session.execute(
            update(Chunk)
            .where(Chunk.id.in_([r.id for r in rows]), Chunk.status == ChunkStatus.PENDING)
            .values(status=ChunkStatus.QUEUED, enqueued_at=utcnow())
        )
    return [(r.id, r.index) for r in rows]


def create_batch(session: Session) -> Batch:
    batch = Batch(id=new_job_id(), created_at=utcnow())
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: str) -> Batch | None:
    return session.get(Batch, batch_id) if is_job_id(batch_id) else None


def batch_jobs(session: Session, batch_id: str) -> list[Job] | None:
    """The batch's jobs in submission order; None for an unknown batch."""
    if get_batch(session, batch_id) is None:
        return None
    return list(
        session.scalars(
            select(Job).where(Job.batch_id == batch_id).order_by(Job.created_at, Job.id)
        )
    )


def batch_status(statuses: list[str]) -> str:
    """One status for many jobs: running until all have finished, then succeeded only if all
    did, cancelled if all were cancelled, else failed."""
    if any(s in (JobStatus.QUEUED, JobStatus.RUNNING) for s in statuses):
        return JobStatus.RUNNING if any(s != JobStatus.QUEUED for s in statuses) else "queued"
    if all(s == JobStatus.SUCCEEDED for s in statuses):
        return JobStatus.SUCCEEDED
    if all(s == JobStatus.CANCELLED for s in statuses):
        return JobStatus.CANCELLED
    return JobStatus.FAILED


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def get_job_by_idempotency_key(session: Session, key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.idempotency_key == key))


def job_chunks(session: Session, job_id: str) -> list[Chunk]:
    return list(session.scalars(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.index)))


def encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError for a cursor this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        if not is_job_id(job_id):
            raise ValueError(job_id)
        return datetime.fromisoformat(created), job_id
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("invalid cursor") from error


def list_jobs(
    session: Session, *, limit: int, cursor: str | None = None, status: str | None = None
) -> tuple[list[Job], str | None]:
    """Newest first. Returns the page and the cursor of the next page (None at the end)."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(Job.status == status)
    if cursor is not None:
        created, job_id = decode_cursor(cursor)
        query = query.where(
            or_(Job.created_at < created, and_(Job.created_at == created, Job.id < job_id))
        )
    jobs = list(session.scalars(query))
    next_cursor = encode_cursor(jobs[limit - 1]) if len(jobs) > limit else None
    return jobs[:limit], next_cursor


def start_chunk(session: Session, chunk_id: int) -> ChunkWork | None:
    """Claim a chunk for synthesis. None when there is nothing to do: the chunk is already done
    (a redelivered task), or its job is cancelled, failed or deleted."""
    row = session.execute(
        select(Chunk, Job).join(Job, Chunk.job_id == Job.id).where(Chunk.id == chunk_id)
    ).first()
    if row is None:
        return None
    chunk, job = row
    if chunk.status in (ChunkStatus.DONE, ChunkStatus.CANCELLED) or job.status in (
        FINISHED_JOB_STATES
    ):
        return None
    now = utcnow()
    chunk.status = ChunkStatus.RUNNING
    chunk.attempts += 1
    chunk.started_at = now
    if chunk.enqueued_at is not None:
        chunk.queue_wait_ms = (now - chunk.enqueued_at).total_seconds() * 1000
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.RUNNING
        job.started_at = now
    return ChunkWork(
        chunk_id=chunk.id,
        job_id=job.id,
        index=chunk.index,
        text=chunk.text,
        voice=job.voice,
        speed=job.speed,
        lang=job.lang,
        priority=job.priority,
        attempt=chunk.attempts,
    )


@dataclass(frozen=True)
class ChunkFinished:
    first_time: bool  # False for a redelivered task whose chunk was already done
    completes_job: bool  # True for exactly one chunk of a job: the last to finish


def finish_chunk(session: Session, chunk_id: int, timing: ChunkTiming) -> ChunkFinished:
    """Record a synthesized chunk, counting it towards its job only the first time."""
    now = utcnow()
    first_time = session.execute(
        update(Chunk)
        .where(Chunk.id == chunk_id, Chunk.status != ChunkStatus.DONE)
        .values(
            status=ChunkStatus.DONE,
            finished_at=now,
            error=None,
            tokens=timing.tokens,
            audio_key=timing.audio_key,
            audio_seconds=timing.audio_seconds,
            peak=timing.peak,
            phonemize_ms=timing.phonemize_ms,
            inference_ms=timing.inference_ms,
            encode_ms=timing.encode_ms,
            worker_host=timing.worker_host,
            worker_pid=timing.worker_pid,
            provider=timing.provider,
            worker_rss_mb=timing.worker_rss_mb,
        )
        .returning(Chunk.job_id, Chunk.chars)
    ).first()
    if first_time is None:
        return ChunkFinished(first_time=False, completes_job=False)
    job_id, chars = first_time
    counts = session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            chunks_done=Job.chunks_done + 1,
            chars_done=Job.chars_done + chars,
            updated_at=now,
        )
        .returning(Job.chunks_done, Job.chunks_total, Job.status)
    ).first()
    if counts is None:
        return ChunkFinished(first_time=True, completes_job=False)
    done, total, status = counts
    return ChunkFinished(
        first_time=True, completes_job=done == total and status == JobStatus.RUNNING
    )


def fail_chunk(session: Session, chunk_id: int, error: str, *, final: bool) -> None:
    """Record a failed attempt; on the final one the chunk and its job fail."""
    chunk = session.get(Chunk, chunk_id)
    if chunk is None or chunk.status == ChunkStatus.DONE:
        return
    chunk.error = error
    if not final:
        chunk.status = ChunkStatus.QUEUED
        chunk.enqueued_at = utcnow()
        return
    chunk.status = ChunkStatus.FAILED
    fail_job(session, chunk.job_id, f"chunk {chunk.index} failed: {error}")


def fail_job(session: Session, job_id: str, error: str) -> None:
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(FINISHED_JOB_STATES))
        .values(status=JobStatus.FAILED, error=error, finished_at=now, updated_at=now)
    )
    _drop_unstarted_chunks(session, job_id)


def finish_job(
    session: Session, job_id: str, *, audio_key: str, audio_bytes: int, audio_seconds: float
) -> bool:
    """Mark an assembled job succeeded. False when it was cancelled or deleted meanwhile."""
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.RUNNING:
        return False
    now = utcnow()
    wall = (now - (job.started_at or job.created_at)).total_seconds()
    job.status = JobStatus.SUCCEEDED
    job.finished_at = now
    job.audio_key = audio_key
    job.audio_bytes = audio_bytes
    job.audio_seconds = audio_seconds
    job.wall_seconds = wall
    job.realtime_factor = audio_seconds / wall if wall > 0 else None
    return True


def cancel_job(session: Session, job_id: str) -> Job | None:
    """Cancel an unfinished job: its chunks that have not started never will."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in FINISHED_JOB_STATES:
        return job
    now = utcnow()
    job.status = JobStatus.CANCELLED
    job.finished_at = now
    _drop_unstarted_chunks(session, job_id)
    return job


def _drop_unstarted_chunks(session: Session, job_id: str) -> None:
    session.execute(
        update(Chunk)
        .where(
            Chunk.job_id == job_id,
            Chunk.status.in_((ChunkStatus.PENDING, ChunkStatus.QUEUED)),
        )
        .values(status=ChunkStatus.CANCELLED)
    )


def delete_job(session: Session, job_id: str) -> bool:
    session.execute(delete(Chunk).where(Chunk.job_id == job_id))
    return session.execute(delete(Job).where(Job.id == job_id)).rowcount > 0


@dataclass(frozen=True)
class AssemblyPart:
    chapter: int
    audio_key: str
    pause_after: str
    peak: float | None


def chunks_for_assembly(session: Session, job_id: str) -> list[AssemblyPart]:
    """Every chunk's audio, pause and peak, in order."""
    return [
        AssemblyPart(*row)
        for row in session.execute(
            select(Chunk.chapter, Chunk.audio_key, Chunk.pause_after, Chunk.peak)
            .where(Chunk.job_id == job_id)
            .order_by(Chunk.index)
        )
    ]


@dataclass(frozen=True)
class ChapterSpan:
    index: int
    title: str
    start_seconds: float
    end_seconds: float  # before the pause that separates it from the next chapter


def job_timeline(session: Session, job_id: str) -> list[tuple[int, str, float, str]]:
    """(chapter, text, audio seconds, pause after) of every chunk, in order."""
    return [
        tuple(row)
        for row in session.execute(
            select(Chunk.chapter, Chunk.text, Chunk.audio_seconds, Chunk.pause_after)
            .where(Chunk.job_id == job_id)
            .order_by(Chunk.index)
        )
    ]


def chapter_spans(session: Session, job: Job) -> list[ChapterSpan]:
    """Where each chapter lies in the assembled audio: the chunks' exact sample counts plus the
    pauses assembly inserts, so these times match the file to the sample."""
    titles = job.chapters or [job.title or "Chapter 1"]
    spans: dict[int, list[float]] = {}
    position = 0  # samples
    for chapter, _, seconds, pause in job_timeline(session, job.id):
        span = spans.setdefault(chapter, [position, position])
        position += round((seconds or 0.0) * SAMPLE_RATE)
        span[1] = position  # the chapter's last chunk ends it, before its pause
        position += pause_samples(pause)
    return [
        ChapterSpan(number, titles[number], start / SAMPLE_RATE, end / SAMPLE_RATE)
        for number, (start, end) in sorted(spans.items())
    ]


def record_worker_session(session: Session, **fields) -> None:
    session.add(WorkerSession(**fields))


def worker_session_loads(session: Session) -> dict[tuple[str, int], int]:
    """How many times each (host, pid) loaded a model session."""
    rows = session.execute(
        select(WorkerSession.host, WorkerSession.pid, func.count()).group_by(
            WorkerSession.host, WorkerSession.pid
        )
    )
    return {(host, pid): count for host, pid, count in rows}
