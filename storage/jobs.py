"""Lifecycle writes of jobs and chunks: store, release, start, finish, retry, delete.

Fan-in is coordinated here, not with a Celery chord: a chunk counts towards its job only on its
first transition to done (a conditional UPDATE), so exactly one chunk sees the job complete and
triggers assembly, even when the broker redelivers a task. How a job ends (succeeded, failed,
cancelled) is decided in one place: ``storage/job_end.py``. A chunk's status changes only
through ``storage/chunk_status.py``, along core.states.CHUNK_TRANSITIONS.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.ids import new_id
from core.markup import overrides_to_json
from core.settings import get_settings
from core.states import FINAL_CHUNK_STATES, FINISHED_JOB_STATES, ChunkStatus, JobStatus
from storage.chunk_status import set_chunk_status
from storage.db import utcnow
from storage.job_queries import owned_job
from storage.models import Chunk, Job
from storage.parts import PartRef, chapter_complete, plan_chapter

if TYPE_CHECKING:  # the chunk planner imports the text normalizer: seconds, for a type
    from core.chunk_plan import PlannedChunk


@dataclass(frozen=True)
class NewJob:
    voice: str
    speed: float
    lang: str
    format: str
    queue: str
    owner: str = ""
    title: str | None = None
    author: str | None = None
    batch_id: str | None = None
    priority: int = 0
    chapters: list[str] | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    callback_url: str | None = None
    markup: str = "none"
    pronunciations: dict | None = None
    loudness: str = "peak"


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
    queue: str
    attempt: int
    overrides: list | None  # markup overrides as stored (core/speech.py)
    pronunciations: dict | None  # the job's own


@dataclass(frozen=True)
class ChunkTiming:
    tokens: int
    audio_key: str
    audio_seconds: float
    peak: float
    normalize_ms: float
    phonemize_ms: float
    inference_ms: float
    encode_ms: float
    worker_host: str
    worker_pid: int
    provider: str
    worker_rss_mb: float
    # [[written word, start sample, end sample], ...] in the stored chunk audio
    words: list[list] | None = None
    words_estimated: bool = False
    sum_squares: float | None = None  # of the stored audio: for its chapter's gain


def create_job(
    session: Session, spec: NewJob, chunks: "Sequence[PlannedChunk]", *, release: int = 0
) -> tuple[Job, list[tuple[int, int]]]:
    """Store a job and its chunks, the first ``release`` of them queued at once (what
    ``release_chunks`` would do next, without reading back rows no one else sees yet). Returns
    the job and the (chunk id, index) of the queued chunks, to send after the commit."""
    now = utcnow()
    values = {
        "id": new_id(),
        "owner": spec.owner,
        "status": JobStatus.QUEUED,
        "voice": spec.voice,
        "speed": spec.speed,
        "lang": spec.lang,
        "format": spec.format,
        "title": spec.title,
        "author": spec.author,
        "batch_id": spec.batch_id,
        "priority": spec.priority,
        "queue": spec.queue,
        "chapters": spec.chapters,
        "idempotency_key": spec.idempotency_key,
        "request_hash": spec.request_hash,
        "callback_url": spec.callback_url,
        "markup": spec.markup,
        "pronunciations": spec.pronunciations,
        "loudness": spec.loudness,
        "chunks_total": len(chunks),
        "chunks_done": 0,
        "chars_total": sum(len(c.text) for c in chunks),
        "chars_done": 0,
        "callback_attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    # A Core insert, not session.add + flush: the unit of work cost a submission more CPU
    # than its SQL did. The returned row is detached and complete (every column is set here).
    session.execute(Job.__table__.insert(), values)
    job = Job(**values)
    rows = [
        {
            "job_id": values["id"],
            "index": c.index,
            "chapter": c.chapter,
            "text": c.text,
            "chars": len(c.text),
            "pause_after": str(c.pause_after),
            "pause_seconds": c.pause_seconds,
            "voice": c.voice,
            "overrides": overrides_to_json(c.overrides),
            # The rest are released to the queue a few at a time (release_chunks)
            "status": ChunkStatus.QUEUED if position < release else ChunkStatus.PENDING,
            "enqueued_at": now if position < release else None,
            "attempts": 0,
        }
        for position, c in enumerate(chunks)
    ]
    table = Chunk.__table__
    released = []
    if rows[:release]:
        released = session.execute(
            table.insert().returning(table.c.id, table.c.index, sort_by_parameter_order=True),
            rows[:release],
        ).all()
    if rows[release:]:
        session.execute(table.insert(), rows[release:])
    return job, [(row.id, row.index) for row in released]


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
        set_chunk_status(
            session,
            ChunkStatus.QUEUED,
            Chunk.id.in_([r.id for r in rows]),
            only_from=(ChunkStatus.PENDING,),
            values={"enqueued_at": utcnow()},
        )
    return [(r.id, r.index) for r in rows]


def start_chunk(
    session: Session, chunk_id: int, job_id: str, host: str, pid: int
) -> ChunkWork | None:
    """Claim a chunk of ``job_id`` for synthesis by the worker process (host, pid). None when
    there is nothing to do: the chunk is already done (a redelivered task), or its job is
    cancelled, failed or deleted. A chunk is named by its job too: SQLite gives a deleted job's
    chunk ids to the next job's chunks, which that job's tasks must not take. The job row is
    share-locked, so a cancel either sees this chunk running or this sees the job cancelled: no
    chunk starts after a cancel has returned."""
    now = utcnow()
    # A queued job's first chunks start running it. Done before the share lock: two of them
    # each holding the share lock and then updating the row would deadlock (PostgreSQL takes
    # one of them as the victim); this update locks the row exclusively only while queued
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=now, updated_at=now)
    )
    row = session.execute(
        select(Chunk, Job)
        .join(Job, Chunk.job_id == Job.id)
        .where(Chunk.id == chunk_id, Chunk.job_id == job_id)
        .with_for_update(read=True, of=Job)
    ).first()
    if row is None:
        return None
    chunk, job = row
    if chunk.status in FINAL_CHUNK_STATES:
        return None
    if job.status in FINISHED_JOB_STATES:
        # A task redelivered after its worker died mid-chunk, its job ended meanwhile: the
        # chunk will never run, so it must not stay marked running
        set_chunk_status(
            session, ChunkStatus.CANCELLED, Chunk.id == chunk.id, only_from=(ChunkStatus.RUNNING,)
        )
        return None
    claim = {
        "attempts": Chunk.attempts + 1,
        "started_at": now,
        "worker_host": host,
        "worker_pid": pid,
    }
    if chunk.enqueued_at is not None:
        claim["queue_wait_ms"] = (now - chunk.enqueued_at).total_seconds() * 1000
    started = set_chunk_status(
        session,
        ChunkStatus.RUNNING,
        Chunk.id == chunk.id,
        values=claim,
        returning=(Chunk.attempts,),
    ).first()
    if started is None:  # it ended since it was read (another delivery of its task finished it)
        return None
    return ChunkWork(
        chunk_id=chunk.id,
        job_id=job.id,
        index=chunk.index,
        text=chunk.text,
        voice=chunk.voice or job.voice,
        speed=job.speed,
        lang=job.lang,
        priority=job.priority,
        queue=job.queue,
        attempt=started.attempts,
        overrides=chunk.overrides,
        pronunciations=job.pronunciations,
    )


@dataclass(frozen=True)
class ChunkRecorded:
    first_time: bool  # False for a redelivered task whose chunk was already done
    completes_job: bool  # True for exactly one chunk of a job: the last to finish
    # The parts its chapter was cut into, when this chunk was the chapter's last to finish:
    # their tasks are sent once the transaction commits
    parts: list[PartRef] = field(default_factory=list)


def finish_chunk(
    session: Session,
    chunk_id: int,
    job_id: str,
    timing: ChunkTiming,
    *,
    part_samples: int | None = None,
) -> ChunkRecorded:
    """Record a synthesized chunk of ``job_id``, counting it towards its job only the first
    time (nothing when the job and its chunks are gone). The chunk that completes its chapter
    plans the chapter's parts, of about ``part_samples`` each (default: the settings')."""
    now = utcnow()
    first_time = set_chunk_status(
        session,
        ChunkStatus.DONE,
        Chunk.id == chunk_id,
        Chunk.job_id == job_id,
        values={
            "finished_at": now,
            "error": None,
            "tokens": timing.tokens,
            "audio_key": timing.audio_key,
            "audio_seconds": timing.audio_seconds,
            "peak": timing.peak,
            "normalize_ms": timing.normalize_ms,
            "phonemize_ms": timing.phonemize_ms,
            "inference_ms": timing.inference_ms,
            "encode_ms": timing.encode_ms,
            "worker_host": timing.worker_host,
            "worker_pid": timing.worker_pid,
            "provider": timing.provider,
            "worker_rss_mb": timing.worker_rss_mb,
            "words": timing.words,
            "words_estimated": timing.words_estimated,
            "sum_squares": timing.sum_squares,
        },
        returning=(Chunk.job_id, Chunk.chars, Chunk.chapter),
    ).first()
    if first_time is None:
        return ChunkRecorded(first_time=False, completes_job=False)
    job_id, chars, chapter = first_time
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
        return ChunkRecorded(first_time=True, completes_job=False)
    done, total, status = counts
    # The job row's update serializes finishing chunks: their counts are a gap-free sequence
    session.execute(update(Chunk).where(Chunk.id == chunk_id).values(done_seq=done))
    parts = []
    if status == JobStatus.RUNNING and chapter_complete(session, job_id, chapter):
        if part_samples is None:
            part_samples = get_settings().assembly_part_samples
        parts = plan_chapter(session, job_id, chapter, part_samples)
    return ChunkRecorded(
        first_time=True,
        completes_job=done == total and status == JobStatus.RUNNING,
        parts=parts,
    )


def retry_chunk(session: Session, chunk_id: int, job_id: str, error: str) -> None:
    """Record a failed attempt that will be retried: the chunk is queued again, unless its job
    has ended meanwhile (cancelled, failed, deleted), when the retry will find nothing to do and
    the chunk must not wait in the queue for ever."""
    job_status = session.scalar(
        select(Job.status)
        .join(Chunk, Chunk.job_id == Job.id)
        .where(Chunk.id == chunk_id, Chunk.job_id == job_id)
    )
    ended = job_status is None or job_status in FINISHED_JOB_STATES
    # The attempt's chunk is running, or queued again meanwhile by the reconciler (its worker
    # taken for lost); one that has ended (done, failed, cancelled) keeps its state
    set_chunk_status(
        session,
        ChunkStatus.CANCELLED if ended else ChunkStatus.QUEUED,
        Chunk.id == chunk_id,
        Chunk.job_id == job_id,
        only_from=(ChunkStatus.QUEUED, ChunkStatus.RUNNING),
        values={"enqueued_at": None if ended else utcnow(), "error": error},
    )


def drop_unstarted_chunks(session: Session, job_id: str) -> None:
    """The job's chunks that have not started never will: it has ended."""
    set_chunk_status(
        session,
        ChunkStatus.CANCELLED,
        Chunk.job_id == job_id,
        only_from=(ChunkStatus.PENDING, ChunkStatus.QUEUED),
    )


def delete_job(session: Session, job_id: str, owner: str) -> bool:
    """Delete the owner's job and its chunk rows; False when the owner has no such job."""
    if owned_job(session, job_id, owner) is None:
        return False
    session.execute(delete(Chunk).where(Chunk.job_id == job_id))
    return session.execute(delete(Job).where(Job.id == job_id)).rowcount > 0


def callback_url(session: Session, job_id: str) -> str | None:
    """Where the job's webhook goes; None for a job without one (or no such job)."""
    return session.scalar(select(Job.callback_url).where(Job.id == job_id))


def record_webhook_attempt(session: Session, job_id: str, error: str) -> int:
    """Count a failed delivery of the job's webhook; the attempts so far."""
    attempts = session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(callback_attempts=Job.callback_attempts + 1, callback_error=error)
        .returning(Job.callback_attempts)
    ).scalar()
    return attempts or 0


def record_webhook_delivered(session: Session, job_id: str) -> None:
    """Count the delivery that the receiver accepted (2xx)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            callback_attempts=Job.callback_attempts + 1,
            callback_delivered_at=utcnow(),
            callback_error=None,
        )
    )
