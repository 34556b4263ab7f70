"""The one place that writes jobs and chunks.

Fan-in is coordinated here, not with a Celery chord: a chunk counts towards its job only on its
first transition to done (a conditional UPDATE), so exactly one chunk sees the job complete and
triggers assembly, even when the broker redelivers a task.
"""

import base64
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, tuple_, update
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
    owner: str = ""
    title: str | None = None
    author: str | None = None
    batch_id: str | None = None
    priority: int = 0
    chapters: list[str] | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    callback_url: str | None = None


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


def create_job(
    session: Session, spec: NewJob, chunks: Sequence[TextChunk], *, release: int = 0
) -> tuple[Job, list[tuple[int, int]]]:
    """Store a job and its chunks, the first ``release`` of them queued at once (what
    ``release_chunks`` would do next, without reading back rows no one else sees yet). Returns
    the job and the (chunk id, index) of the queued chunks, to send after the commit."""
    now = utcnow()
    values = {
        "id": new_job_id(),
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
        "chapters": spec.chapters,
        "idempotency_key": spec.idempotency_key,
        "request_hash": spec.request_hash,
        "callback_url": spec.callback_url,
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
        session.execute(
            update(Chunk)
            .where(Chunk.id.in_([r.id for r in rows]), Chunk.status == ChunkStatus.PENDING)
            .values(status=ChunkStatus.QUEUED, enqueued_at=utcnow())
        )
    return [(r.id, r.index) for r in rows]


def create_batch(session: Session, owner: str) -> Batch:
    batch = Batch(id=new_job_id(), owner=owner, created_at=utcnow())
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: str, owner: str) -> Batch | None:
    """The batch, if it exists and belongs to ``owner``."""
    batch = session.get(Batch, batch_id) if is_job_id(batch_id) else None
    return batch if batch is not None and batch.owner == owner else None


def batch_jobs(session: Session, batch_id: str, owner: str) -> list[Job] | None:
    """The batch's jobs in submission order; None for an unknown batch or another's."""
    if get_batch(session, batch_id, owner) is None:
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


def owned_job(session: Session, job_id: str, owner: str) -> Job | None:
    """The job, if ``job_id`` names one that belongs to ``owner``: to anyone else it does not
    exist."""
    job = session.get(Job, job_id) if is_job_id(job_id) else None
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


def start_chunk(session: Session, chunk_id: int, host: str, pid: int) -> ChunkWork | None:
    """Claim a chunk for synthesis by the worker process (host, pid). None when there is
    nothing to do: the chunk is already done (a redelivered task), or its job is cancelled,
    failed or deleted. The job row is share-locked, so a cancel either sees this chunk running
    or this sees the job cancelled: no chunk starts after a cancel has returned."""
    row = session.execute(
        select(Chunk, Job)
        .join(Job, Chunk.job_id == Job.id)
        .where(Chunk.id == chunk_id)
        .with_for_update(read=True, of=Job)
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
    chunk.worker_host = host
    chunk.worker_pid = pid
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
    # The job row's update serializes finishing chunks: their counts are a gap-free sequence
    session.execute(update(Chunk).where(Chunk.id == chunk_id).values(done_seq=done))
    return ChunkFinished(
        first_time=True, completes_job=done == total and status == JobStatus.RUNNING
    )


def fail_chunk(session: Session, chunk_id: int, error: str, *, final: bool) -> bool:
    """Record a failed attempt; on the final one the chunk and its job fail. True when this
    call failed the job (it was unfinished until now)."""
    chunk = session.get(Chunk, chunk_id)
    if chunk is None or chunk.status == ChunkStatus.DONE:
        return False
    chunk.error = error
    if not final:
        chunk.status = ChunkStatus.QUEUED
        chunk.enqueued_at = utcnow()
        return False
    chunk.status = ChunkStatus.FAILED
    return fail_job(session, chunk.job_id, f"chunk {chunk.index} failed: {error}")


def fail_job(session: Session, job_id: str, error: str) -> bool:
    """Fail the job unless it has already finished; True when this call failed it."""
    now = utcnow()
    failed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(FINISHED_JOB_STATES))
        .values(status=JobStatus.FAILED, error=error, finished_at=now, updated_at=now)
    ).rowcount
    _drop_unstarted_chunks(session, job_id)
    return failed > 0


def finish_job(
    session: Session, job_id: str, *, audio_key: str, audio_bytes: int, audio_seconds: float
) -> str | None:
    """Mark an assembled job succeeded. Returns the job's status afterwards (None if deleted):
    succeeded, or what a cancel or failure made of it meanwhile."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status != JobStatus.RUNNING:
        return None if job is None else job.status
    now = utcnow()
    wall = (now - (job.started_at or job.created_at)).total_seconds()
    job.status = JobStatus.SUCCEEDED
    job.finished_at = now
    job.audio_key = audio_key
    job.audio_bytes = audio_bytes
    job.audio_seconds = audio_seconds
    job.wall_seconds = wall
    job.realtime_factor = audio_seconds / wall if wall > 0 else None
    return job.status


def cancel_job(session: Session, job_id: str, owner: str) -> tuple[Job | None, bool]:
    """Cancel the owner's unfinished job: its chunks that have not started never will (the
    row lock orders this against start_chunk). Returns the job (None when the owner has no
    such job) and whether this call cancelled it (False: it had already finished)."""
    if owned_job(session, job_id, owner) is None:
        return None, False
    job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job is None or job.status in FINISHED_JOB_STATES:
        return job, False
    now = utcnow()
    job.status = JobStatus.CANCELLED
    job.finished_at = now
    _drop_unstarted_chunks(session, job_id)
    return job, True


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


def _drop_unstarted_chunks(session: Session, job_id: str) -> None:
    session.execute(
        update(Chunk)
        .where(
            Chunk.job_id == job_id,
            Chunk.status.in_((ChunkStatus.PENDING, ChunkStatus.QUEUED)),
        )
        .values(status=ChunkStatus.CANCELLED)
    )


def delete_job(session: Session, job_id: str, owner: str) -> bool:
    """Delete the owner's job and its chunk rows; False when the owner has no such job."""
    if owned_job(session, job_id, owner) is None:
        return False
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


@dataclass(frozen=True)
class ChunkToSend:
    job_id: str
    chunk_id: int
    index: int
    priority: int


@dataclass
class Reconciliation:
    """What the reconciler changed; the tasks to send once it has committed."""

    chunks: list[ChunkToSend]
    assemblies: list[str]
    failed_jobs: dict[str, str]  # job id -> error


def reconcile_jobs(
    session: Session,
    *,
    held: Callable[[int], bool],
    assembling: Callable[[str], bool],
    grace_s: float,
    max_requeues: int,
    stalled_after_s: float,
    in_flight_per_job: int,
) -> Reconciliation:
    """Put unfinished work whose task is gone back in the queue.

    ``held(chunk_id)`` and ``assembling(job_id)`` say whether the broker or a worker still holds
    a task for it. Work younger than ``grace_s`` is left alone (its message may still be on its
    way). A chunk lost ``max_requeues`` times fails its job, as does a running job with no
    progress for ``stalled_after_s`` (0: never).
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=grace_s)
    result = Reconciliation(chunks=[], assemblies=[], failed_jobs={})
    unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
    in_flight = (ChunkStatus.QUEUED, ChunkStatus.RUNNING)

    if stalled_after_s:
        stalled = session.scalars(
            select(Job).where(
                Job.status == JobStatus.RUNNING,
                Job.updated_at < now - timedelta(seconds=stalled_after_s),
            )
        )
        for job in stalled:
            result.failed_jobs[job.id] = (
                f"no progress for {stalled_after_s:.0f} s (KQ_STALLED_JOB_TIMEOUT_S): no worker "
                "finished a chunk of this job in that time; check that workers are running"
            )

    rows = session.execute(
        select(Chunk, Job.priority)
        .join(Job, Chunk.job_id == Job.id)
        .where(Job.status.in_(unfinished), Chunk.status.in_(in_flight))
        .order_by(Chunk.job_id, Chunk.index)
    ).all()
    for chunk, priority in rows:
        since = chunk.started_at if chunk.status == ChunkStatus.RUNNING else chunk.enqueued_at
        if chunk.job_id in result.failed_jobs or (since and since > cutoff) or held(chunk.id):
            continue
        if chunk.requeues >= max_requeues:
            result.failed_jobs[chunk.job_id] = (
                f"chunk {chunk.index} was lost {chunk.requeues + 1} times (its worker died or "
                "the broker lost its task); giving up"
            )
            continue
        chunk.status = ChunkStatus.QUEUED
        chunk.enqueued_at = now
        chunk.requeues += 1
        result.chunks.append(ChunkToSend(chunk.job_id, chunk.id, chunk.index, priority))

    # Jobs with chunks left but none in flight: the releasing chunk's transaction was lost
    idle = session.execute(
        select(Job.id, Job.priority).where(
            Job.status.in_(unfinished),
            Job.updated_at < cutoff,
            select(Chunk.id)
            .where(Chunk.job_id == Job.id, Chunk.status == ChunkStatus.PENDING)
            .exists(),
            ~select(Chunk.id).where(Chunk.job_id == Job.id, Chunk.status.in_(in_flight)).exists(),
        )
    ).all()
    for job_id, priority in idle:
        if job_id not in result.failed_jobs:
            for chunk_id, index in release_chunks(session, job_id, in_flight_per_job):
                result.chunks.append(ChunkToSend(job_id, chunk_id, index, priority))

    # Every chunk done but no assembly anywhere: its task was lost
    complete = session.scalars(
        select(Job.id).where(
            Job.status == JobStatus.RUNNING,
            Job.chunks_done == Job.chunks_total,
            Job.updated_at < cutoff,
        )
    )
    result.assemblies = [
        job_id for job_id in complete if job_id not in result.failed_jobs and not assembling(job_id)
    ]

    for job_id, error in result.failed_jobs.items():
        fail_job(session, job_id, error)
    result.chunks = [c for c in result.chunks if c.job_id not in result.failed_jobs]
    return result


@dataclass(frozen=True)
class ChunkDone:
    """A finished chunk as a progress event: ``seq`` is its place in the job's finishing order."""

    seq: int
    index: int
    chars: int
    audio_seconds: float | None


def chars_done_through(session: Session, job_id: str, seq: int) -> int:
    """Characters of the job's chunks among the first ``seq`` to finish."""
    return session.scalar(
        select(func.coalesce(func.sum(Chunk.chars), 0)).where(
            Chunk.job_id == job_id, Chunk.done_seq <= seq
        )
    )


def chunks_done_after(session: Session, job_id: str, after_seq: int) -> list[ChunkDone]:
    """The job's finished chunks with ``done_seq`` above ``after_seq``, in finishing order."""
    return [
        ChunkDone(*row)
        for row in session.execute(
            select(Chunk.done_seq, Chunk.index, Chunk.chars, Chunk.audio_seconds)
            .where(Chunk.job_id == job_id, Chunk.done_seq > after_seq)
            .order_by(Chunk.done_seq)
        )
    ]


STREAM_PARTS_PER_READ = 64  # a long book is read a window at a time


@dataclass(frozen=True)
class StreamPart:
    index: int
    audio_key: str
    pause_after: str


def done_run_from(session: Session, job_id: str, start_index: int) -> list[StreamPart]:
    """The finished chunks from ``start_index`` on up to the first unfinished one: what can be
    played next, in order, without a gap."""
    rows = session.execute(
        select(Chunk.index, Chunk.audio_key, Chunk.pause_after, Chunk.status)
        .where(Chunk.job_id == job_id, Chunk.index >= start_index)
        .order_by(Chunk.index)
        .limit(STREAM_PARTS_PER_READ)
    )
    parts = []
    for index, audio_key, pause_after, status in rows:
        if status != ChunkStatus.DONE or index != start_index + len(parts):
            break
        parts.append(StreamPart(index, audio_key, pause_after))
    return parts
