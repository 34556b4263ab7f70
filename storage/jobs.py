"""Lifecycle writes of jobs and chunks: store, release, start, finish, retry, delete.

Fan-in is coordinated here, not with a Celery chord: a chunk counts towards its job only on its
first transition to done (a conditional UPDATE), so exactly one chunk sees the job complete and
triggers assembly, even when the broker redelivers a task. How a job ends (succeeded, failed,
cancelled) is decided in one place: ``storage/job_end.py``. A chunk's status changes only
through ``storage/chunk_status.py``, along core.jobs.states.CHUNK_TRANSITIONS.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, false, select, update
from sqlalchemy.orm import Session

from core.jobs.ids import new_id
from core.jobs.states import FINAL_CHUNK_STATES, FINISHED_JOB_STATES, ChunkStatus, JobStatus
from core.text.markup import overrides_to_json
from infra.settings import get_settings
from storage.chunk_status import set_chunk_status
from storage.db import utcnow
from storage.job_queries import owned_job
from storage.models import Chunk, ChunkAudio, Job, JobPart
from storage.parts import PartRef, chapter_complete, parts_left, plan_chapter

if TYPE_CHECKING:  # the chunk planner imports the text normalizer: seconds, for a type
    from core.text.chunk_plan import PlannedChunk

# Keys per IN (...) list: well under every database's limit on bound parameters
LOOKUP_BATCH = 500


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
    # Where its chunk audio is shared (core/jobs/chunk_keys.py); None: made for itself only
    reuse_scope: str | None = None
    # What it revises (None for a first job), and what it was made from, to revise it later
    revision_of: str | None = None
    revision_root: str | None = None
    source: dict | None = None
    ttl_hours: float | None = None
    # Its book details (core/books/details.py) and cover (storage/covers.py, written before
    # the row under the id given here; None: a new one)
    book_info: dict | None = None
    cover_key: str | None = None
    id: str | None = None
    # Where the finished book goes (storage/deliveries.py), secrets included; None: its key's
    deliver: dict | None = None
    proof: bool = False  # its chunks heard back by a recognizer (worker/proof.py)


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
    overrides: list | None  # markup overrides as stored (core/speech/spoken.py)
    pronunciations: dict | None  # the job's own
    content_key: str | None = None  # what decides its audio (core/jobs/chunk_keys.py)
    reuse_scope: str | None = None  # where that audio is shared; None: nowhere
    proof: bool = False  # heard back once made (worker/proof.py)


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
    audio_bytes: int | None = None  # of the stored file
    # What proof-listening heard in the stored audio (core/speech/proof.py) and its verdict
    proof: dict | None = None
    proof_verdict: str | None = None


def reusable_audio(
    session: Session, scope: str | None, keys: "Sequence[str | None]"
) -> dict[int, ChunkAudio]:
    """The audio already made for each position of ``keys`` (chunk content keys) in
    ``scope``, by position. The rows are share-locked until the transaction ends: a job being
    deleted cannot take away audio that this transaction is about to count on."""
    if scope is None:
        return {}
    wanted = sorted({key for key in keys if key})
    found: dict[str, ChunkAudio] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        rows = session.scalars(
            select(ChunkAudio)
            .where(
                ChunkAudio.scope == scope,
                ChunkAudio.content_key.in_(wanted[start : start + LOOKUP_BATCH]),
            )
            .with_for_update(read=True)
        )
        found.update((row.content_key, row) for row in rows)
    return {i: found[key] for i, key in enumerate(keys) if key in found}


def create_job(
    session: Session,
    spec: NewJob,
    chunks: "Sequence[PlannedChunk]",
    *,
    release: int = 0,
    keys: "Sequence[str | None] | None" = None,
    reuse: "Mapping[int, ChunkAudio] | None" = None,
) -> tuple[Job, list[tuple[int, int]]]:
    """Store a job and its chunks, the first ``release`` of those still to make queued at once
    (what ``release_chunks`` would do next, without reading back rows no one else sees yet).
    ``keys`` are the chunks' content keys; a chunk whose position is in ``reuse`` (from
    reusable_audio) is stored done, with that audio, and is never sent. Returns the job and
    the (chunk id, index) of the queued chunks, to send after the commit; a job with reused
    chunks has started (plan_reused_chapters plans the chapters they complete)."""
    now = utcnow()
    reuse = reuse or {}
    keys = keys or [None] * len(chunks)
    reused_chars = sum(len(chunks[i].text) for i in reuse)
    values = {
        "id": spec.id or new_id(),
        "owner": spec.owner,
        "status": JobStatus.RUNNING if reuse else JobStatus.QUEUED,
        "started_at": now if reuse else None,
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
        "reuse_scope": spec.reuse_scope,
        "ttl_hours": spec.ttl_hours,
        "book_info": spec.book_info,
        "cover_key": spec.cover_key,
        "deliver": spec.deliver,
        "proof": spec.proof,
        "revision_of": spec.revision_of,
        "source": spec.source,
        "chunks_total": len(chunks),
        "chunks_done": len(reuse),
        "chunks_reused": len(reuse),
        "chars_total": sum(len(c.text) for c in chunks),
        "chars_done": reused_chars,
        "callback_attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    # A Core insert, not session.add + flush: the unit of work cost a submission more CPU
    # than its SQL did. The returned row is detached and complete (every column is set here).
    values["revision_root"] = spec.revision_root or values["id"]
    session.execute(Job.__table__.insert(), values)
    job = Job(**values)
    rows = []
    to_make = 0
    for position, c in enumerate(chunks):
        row = {
            "job_id": values["id"],
            "index": c.index,
            "chapter": c.chapter,
            "text": c.text,
            "chars": len(c.text),
            "pause_after": str(c.pause_after),
            "pause_seconds": c.pause_seconds,
            "voice": c.voice,
            "speaker": c.speaker,
            "overrides": overrides_to_json(c.overrides),
            "content_key": keys[position],
            "attempts": 0,
        }
        made = reuse.get(position)
        if made is not None:
            row.update(_reused_values(made, now))
        else:
            # The rest are released to the queue a few at a time (release_chunks)
            queued = to_make < release
            row.update(
                status=ChunkStatus.QUEUED if queued else ChunkStatus.PENDING,
                enqueued_at=now if queued else None,
            )
            to_make += 1
        rows.append(row)
    # Reused chunks count as done in position order, before any that is made
    for seq, position in enumerate(sorted(reuse), start=1):
        rows[position]["done_seq"] = seq
    table = Chunk.__table__
    queued_rows = [r for r in rows if r["status"] == ChunkStatus.QUEUED]
    other_rows = [r for r in rows if r["status"] != ChunkStatus.QUEUED]
    released = []
    if queued_rows:
        released = session.execute(
            table.insert().returning(table.c.id, table.c.index, sort_by_parameter_order=True),
            queued_rows,
        ).all()
    if other_rows:
        session.execute(table.insert(), _same_keys(other_rows))
    return job, [(row.id, row.index) for row in released]


def _reused_values(made: ChunkAudio, now: datetime) -> dict:
    return {
        "status": ChunkStatus.DONE,
        "reused": True,
        "audio_key": made.audio_key,
        "audio_bytes": made.audio_bytes,
        "audio_seconds": made.audio_seconds,
        "tokens": made.tokens,
        "peak": made.peak,
        "sum_squares": made.sum_squares,
        "words": made.words,
        "words_estimated": made.words_estimated,
        "proof": made.proof,
        "enqueued_at": None,
        "started_at": now,
        "finished_at": now,
    }


def _same_keys(rows: list[dict]) -> list[dict]:
    """One executemany needs every row to name the same columns: a row that leaves one out
    gets the column's own default (a waiting chunk is not ``reused``), else NULL."""
    names = set().union(*rows)
    defaults = {
        column.name: column.default.arg
        for column in Chunk.__table__.columns
        if column.default is not None and column.default.is_scalar
    }
    return [{name: row.get(name, defaults.get(name)) for name in names} for row in rows]


def plan_reused_chapters(
    session: Session, job_id: str, part_samples: int
) -> tuple[list[PartRef], bool]:
    """Plan the parts of every chapter of a new job whose chunks were all reused: no chunk of
    theirs will finish to plan them. Returns the parts to encode (sent after the commit, like a
    finishing chunk's) and whether the job's join is due at once: every chunk was reused and
    every chapter took an earlier revision's parts."""
    chapters = session.scalars(
        select(Chunk.chapter).where(Chunk.job_id == job_id).group_by(Chunk.chapter)
    ).all()
    parts: list[PartRef] = []
    for chapter in chapters:
        if chapter_complete(session, job_id, chapter):
            parts += plan_chapter(session, job_id, chapter, part_samples)
    counts = session.execute(
        select(Job.chunks_done, Job.chunks_total).where(Job.id == job_id)
    ).one()
    joins = counts.chunks_done == counts.chunks_total and parts_left(session, job_id) == 0
    return parts, joins and not parts


def record_chunk_audio(session: Session, scope: str, content_key: str, timing: ChunkTiming) -> None:
    """Keep a made chunk's audio for reuse under its key (the first made wins: another job
    that made the same key meanwhile keeps its own file, which its own chunk refers to)."""
    exists = session.scalar(
        select(ChunkAudio.content_key).where(
            ChunkAudio.scope == scope, ChunkAudio.content_key == content_key
        )
    )
    if exists is not None:
        return
    session.add(
        ChunkAudio(
            scope=scope,
            content_key=content_key,
            audio_key=timing.audio_key,
            audio_bytes=timing.audio_bytes,
            tokens=timing.tokens,
            audio_seconds=timing.audio_seconds,
            peak=timing.peak,
            sum_squares=timing.sum_squares,
            words=timing.words,
            words_estimated=timing.words_estimated,
            proof=timing.proof,
            created_at=utcnow(),
        )
    )
    session.flush()


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
        content_key=chunk.content_key,
        reuse_scope=job.reuse_scope,
        proof=bool(job.proof),
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
            "audio_bytes": timing.audio_bytes,
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
            "proof": timing.proof,
            "proof_verdict": timing.proof_verdict,
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
    # A chapter with a chunk made for this job is encoded for it: its parts are never an
    # earlier revision's (their chunk audio differs), so the join follows its parts' finish
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


def delete_job(session: Session, job_id: str, owner: str) -> list[str] | None:
    """Delete the owner's job with its chunks and parts. Returns the audio (chunk files and
    encoded parts) no other job refers to any more, and its cover, to remove from storage after
    the commit; None when the owner has no such job."""
    if owned_job(session, job_id, owner) is None:
        return None
    # Locked first: a revision copying this job's parts holds it shared (storage/parts.py)
    job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job is None:
        return None
    unused = release_audio(session, job_id, delete_rows=True)
    if job.cover_key:  # its own copy (storage/covers.py)
        unused.append(job.cover_key)
    session.execute(delete(Job).where(Job.id == job_id))
    return unused


def expired_jobs(
    session: Session, now: datetime, retention_days: float | None, limit: int = 100
) -> list[tuple[str, str]]:
    """(id, owner) of finished jobs past their time: their own ``ttl_hours`` after they
    finished, else ``retention_days`` (None: kept). Oldest first, at most ``limit``."""
    finished = Job.status.in_(FINISHED_JOB_STATES) & Job.finished_at.is_not(None)
    by_default = (
        Job.ttl_hours.is_(None) & (Job.finished_at <= now - timedelta(days=retention_days))
        if retention_days is not None
        else false()
    )
    # A job's own ttl is judged here, not in SQL (no portable date arithmetic): few set one
    rows = session.execute(
        select(Job.id, Job.owner, Job.finished_at, Job.ttl_hours)
        .where(finished, by_default | Job.ttl_hours.is_not(None))
        .order_by(Job.finished_at)
    )
    expired = []
    for row in rows:
        if row.ttl_hours is None or row.finished_at + timedelta(hours=row.ttl_hours) <= now:
            expired.append((row.id, row.owner))
            if len(expired) == limit:
                break
    return expired


def release_audio(session: Session, job_id: str, *, delete_rows: bool = False) -> list[str]:
    """Let go of the job's chunk audio and encoded parts (deleting its chunk and part rows, or,
    for a job that failed or was cancelled, only their hold on the files). Returns the keys of
    the files no row refers to any more, to remove from storage after the commit; their reuse
    rows go now. The reuse rows are locked first: a job being planned that counts on one either
    committed before (and refers to it, so it stays) or finds it gone (and makes its own)."""
    unused = []
    for table in (Chunk, JobPart):
        held = sorted(
            set(
                session.scalars(
                    select(table.audio_key).where(
                        table.job_id == job_id, table.audio_key.is_not(None)
                    )
                )
            )
        )
        batches = [held[i : i + LOOKUP_BATCH] for i in range(0, len(held), LOOKUP_BATCH)]
        if table is Chunk:
            for batch in batches:
                session.execute(
                    select(ChunkAudio.content_key)
                    .where(ChunkAudio.audio_key.in_(batch))
                    .with_for_update()
                ).all()
        if delete_rows:
            session.execute(delete(table).where(table.job_id == job_id))
        else:
            session.execute(update(table).where(table.job_id == job_id).values(audio_key=None))
        for batch in batches:
            still = set(session.scalars(select(table.audio_key).where(table.audio_key.in_(batch))))
            gone = [key for key in batch if key not in still]
            if gone and table is Chunk:
                session.execute(delete(ChunkAudio).where(ChunkAudio.audio_key.in_(gone)))
            unused += gone
    return unused


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
