"""Assembly by parts, in the database: which runs of chunks each chapter is encoded in, and
when a job's last part is done.

A chapter's parts are planned by the chunk whose finish completes the chapter, in that
chunk's transaction, and their tasks are sent once it commits; the part whose finish leaves
the job with every chunk and every part done sends the job's join, once. Both decisions are
made after the job row's update, which serializes the transactions that make them: each sees
what the ones before it committed.
"""

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.audio.loudness import Levels
from core.audio.timeline import pause_samples, samples_of, split_parts
from core.jobs.states import ChunkStatus, JobStatus
from storage.db import utcnow
from storage.job_queries import job_slots
from storage.models import Chunk, Job, JobPart

PART_PENDING = "pending"
PART_DONE = "done"


@dataclass(frozen=True)
class PartRef:
    """A part's task arguments: its job, chapter and number within the chapter."""

    job_id: str
    chapter: int
    number: int


def chapter_complete(session: Session, job_id: str, chapter: int) -> bool:
    """Every chunk of the chapter is done (call after the job row's update: see above)."""
    unfinished = session.scalar(
        select(Chunk.id)
        .where(Chunk.job_id == job_id, Chunk.chapter == chapter, Chunk.status != ChunkStatus.DONE)
        .limit(1)
    )
    return unfinished is None


def plan_chapter(session: Session, job_id: str, chapter: int, max_samples: int) -> list[PartRef]:
    """Cut a finished chapter into parts (once: a chapter already planned gives []). A chapter
    that the job's earlier revision has encoded already, from the same chunk audio with the same
    pauses, format and loudness, takes that revision's parts, done: its gain is decided from its
    own chunks alone, so it is the same too. Only the parts still to encode are returned."""
    planned = session.scalar(
        select(JobPart.id).where(JobPart.job_id == job_id, JobPart.chapter == chapter).limit(1)
    )
    if planned is not None:
        return []
    rows = _chapter_chunks(session, job_id, chapter)
    if _reuse_earlier_parts(session, job_id, chapter, rows):
        return []
    lengths = [
        (samples_of(r.audio_seconds), pause_samples(r.pause_after, r.pause_seconds)) for r in rows
    ]
    refs = []
    for number, (first, last) in enumerate(split_parts(lengths, max_samples)):
        session.add(
            JobPart(
                job_id=job_id,
                chapter=chapter,
                number=number,
                first_index=rows[first].index,
                last_index=rows[last].index,
                status=PART_PENDING,
            )
        )
        refs.append(PartRef(job_id, chapter, number))
    session.flush()
    return refs


def _chapter_chunks(session: Session, job_id: str, chapter: int) -> list:
    """A chapter's chunks in order, with what decides its parts and their audio."""
    return session.execute(
        select(
            Chunk.index,
            Chunk.audio_seconds,
            Chunk.pause_after,
            Chunk.pause_seconds,
            Chunk.audio_key,
        )
        .where(Chunk.job_id == job_id, Chunk.chapter == chapter)
        .order_by(Chunk.index)
    ).all()


def _chapter_print(rows) -> list[tuple]:
    return [(r.audio_key, pause_samples(r.pause_after, r.pause_seconds)) for r in rows]


def _reuse_earlier_parts(session: Session, job_id: str, chapter: int, rows) -> bool:
    """Copy the earlier revision's done parts of this chapter when it is made of the same
    chunk audio, pauses, format and loudness; False when there is nothing to reuse."""
    job = session.execute(
        select(Job.revision_of, Job.format, Job.loudness, Job.reuse_scope).where(Job.id == job_id)
    ).first()
    if job is None or job.revision_of is None or job.reuse_scope is None:
        return False
    # Share-locked: a delete of the earlier job waits for this transaction, then sees these
    # copies refer to its parts and keeps them (storage.jobs.delete_job)
    earlier = session.execute(
        select(Job.format, Job.loudness, Job.reuse_scope)
        .where(Job.id == job.revision_of)
        .with_for_update(read=True)
    ).first()
    if earlier is None or earlier.reuse_scope is None:
        return False
    if (earlier.format, earlier.loudness) != (job.format, job.loudness):
        return False
    before = _chapter_chunks(session, job.revision_of, chapter)
    if not before or _chapter_print(before) != _chapter_print(rows):
        return False
    parts = session.scalars(
        select(JobPart)
        .where(JobPart.job_id == job.revision_of, JobPart.chapter == chapter)
        .order_by(JobPart.number)
    ).all()
    audible = [p for p in parts if p.samples]
    if (
        not parts
        or any(p.status != PART_DONE for p in parts)
        or any(p.audio_key is None for p in audible)
    ):
        return False
    shift = rows[0].index - before[0].index  # chunk indices run on across chapters
    now = utcnow()
    for part in parts:
        session.add(
            JobPart(
                job_id=job_id,
                chapter=chapter,
                number=part.number,
                first_index=part.first_index + shift,
                last_index=part.last_index + shift,
                status=PART_DONE,
                audio_key=part.audio_key,
                samples=part.samples,
                sum_squares=part.sum_squares,
                peak=part.peak,
                gain=part.gain,
                encode_ms=0.0,
                finished_at=now,
            )
        )
    session.flush()
    return True


def parts_left(session: Session, job_id: str) -> int:
    """The job's parts not encoded yet."""
    return _parts_left(session, job_id)


def unfinished_parts(session: Session, job_id: str, max_samples: int) -> list[PartRef]:
    """The job's parts still to encode, planning any finished chapter that has none yet (its
    planning chunk's transaction lost): what a join sent by the reconciler sends again."""
    session.get(Job, job_id, with_for_update=True)  # orders this against finishing chunks
    chapters = session.scalars(
        select(Chunk.chapter).where(Chunk.job_id == job_id).group_by(Chunk.chapter)
    ).all()
    planned = set(
        session.scalars(select(JobPart.chapter).where(JobPart.job_id == job_id).distinct())
    )
    for chapter in chapters:
        if chapter not in planned and chapter_complete(session, job_id, chapter):
            plan_chapter(session, job_id, chapter, max_samples)
    return [
        PartRef(job_id, chapter, number)
        for chapter, number in session.execute(
            select(JobPart.chapter, JobPart.number)
            .where(JobPart.job_id == job_id, JobPart.status != PART_DONE)
            .order_by(JobPart.chapter, JobPart.number)
        )
    ]


@dataclass(frozen=True)
class PartChunk:
    audio_key: str
    pause: int  # samples of silence after it within the part (none after the part's last)


@dataclass(frozen=True)
class PartWork:
    """What a part's task needs: its job's format and loudness, the levels its chapter's
    chunks were synthesized at (for the chapter's gain), and its own chunks in order."""

    format: str
    loudness: str
    queue: str
    chapter_levels: Levels
    chunks: list[PartChunk]
    audible: bool  # some chunk has sound (a part of chunks with nothing to say has no file)


def part_work(session: Session, ref: PartRef) -> PartWork | None:
    """None when the job is not running (cancelled, failed, deleted) or the part is done."""
    row = session.execute(
        select(
            Job.format,
            Job.loudness,
            Job.queue,
            Job.status,
            JobPart.first_index,
            JobPart.last_index,
        )
        .join(JobPart, JobPart.job_id == Job.id)
        .where(
            Job.id == ref.job_id,
            JobPart.chapter == ref.chapter,
            JobPart.number == ref.number,
            JobPart.status != PART_DONE,
        )
    ).first()
    if row is None or row.status != JobStatus.RUNNING:
        return None
    chunks = session.execute(
        select(
            Chunk.index,
            Chunk.audio_key,
            Chunk.audio_seconds,
            Chunk.pause_after,
            Chunk.pause_seconds,
            Chunk.peak,
            Chunk.sum_squares,
        )
        .where(Chunk.job_id == ref.job_id, Chunk.chapter == ref.chapter)
        .order_by(Chunk.index)
    ).all()
    levels = Levels()
    for position, chunk in enumerate(chunks):
        # The chapter's file: its chunks and the pauses between them, none after the last
        pause = pause_samples(chunk.pause_after, chunk.pause_seconds)
        levels += Levels(
            samples_of(chunk.audio_seconds), chunk.sum_squares or 0.0, chunk.peak or 0.0
        )
        if position < len(chunks) - 1:
            levels = levels.with_silence(pause)
    mine = [c for c in chunks if row.first_index <= c.index <= row.last_index]
    return PartWork(
        format=row.format,
        loudness=row.loudness,
        queue=row.queue,
        chapter_levels=levels,
        chunks=[
            PartChunk(
                c.audio_key, 0 if c is mine[-1] else pause_samples(c.pause_after, c.pause_seconds)
            )
            for c in mine
        ],
        audible=any(c.audio_seconds for c in mine),
    )


def finish_part(
    session: Session,
    ref: PartRef,
    *,
    audio_key: str | None,
    levels: Levels,
    gain: float,
    encode_ms: float,
) -> bool:
    """Record an encoded part, the first time only. True for exactly one part of a job: the one
    whose finish leaves every chunk and every part done, which then sends the join."""
    now = utcnow()
    first_time = session.execute(
        update(JobPart)
        .where(
            JobPart.job_id == ref.job_id,
            JobPart.chapter == ref.chapter,
            JobPart.number == ref.number,
            JobPart.status != PART_DONE,
        )
        .values(
            status=PART_DONE,
            audio_key=audio_key,
            samples=levels.samples,
            sum_squares=levels.sum_squares,
            peak=levels.peak,
            gain=gain,
            encode_ms=encode_ms,
            finished_at=now,
        )
        .returning(JobPart.id)
    ).first()
    if first_time is None:
        return False
    job = session.execute(
        update(Job)
        .where(Job.id == ref.job_id)
        .values(updated_at=now)
        .returning(Job.chunks_done, Job.chunks_total, Job.status)
    ).first()
    if job is None or job.status != JobStatus.RUNNING or job.chunks_done != job.chunks_total:
        return False
    return not _parts_left(session, ref.job_id)


def _parts_left(session: Session, job_id: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(JobPart)
        .where(JobPart.job_id == job_id, JobPart.status != PART_DONE)
    )


@dataclass(frozen=True)
class PlacedPart:
    """An encoded part and where its audio belongs in the job's file (samples)."""

    chapter: int
    audio_key: str | None
    start: int
    end: int
    levels: Levels
    gain: float


def placed_parts(session: Session, job_id: str) -> list[PlacedPart]:
    """The job's parts in order, placed by the job's timeline (the one layout of its file)."""
    slots = job_slots(session, job_id)
    parts = session.scalars(
        select(JobPart).where(JobPart.job_id == job_id).order_by(JobPart.chapter, JobPart.number)
    ).all()
    return [
        PlacedPart(
            part.chapter,
            part.audio_key,
            slots[part.first_index].start,
            slots[part.last_index].end,
            Levels(part.samples or 0, part.sum_squares or 0.0, part.peak or 0.0),
            part.gain or 1.0,
        )
        for part in parts
    ]
