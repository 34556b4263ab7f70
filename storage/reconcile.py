"""The reconcile policy: which unfinished work the database knows of is sent again, and which
jobs give up. ``worker/reconciler.py`` runs it against what the broker and workers hold."""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core.jobs.states import ChunkStatus, JobStatus
from storage.chunk_status import set_chunk_status
from storage.db import utcnow
from storage.job_end import JobEnds
from storage.jobs import release_chunks
from storage.models import Chunk, Job

# Lost chunks sent again per UPDATE: their ids are bound parameters, and SQLite takes at most
# 32766 of those in a statement (after an outage thousands of chunks may be lost at once)
REQUEUE_BATCH = 500


@dataclass(frozen=True)
class ChunkToSend:
    job_id: str
    chunk_id: int
    index: int
    priority: int


@dataclass(frozen=True)
class Deliveries:
    """Tasks the broker has delivered and not had acknowledged (acks_late: running, or reserved
    by a worker), and the worker processes whose heartbeat has not expired.

    A worker that dies whole leaves its messages unacknowledged until the visibility timeout
    gives them back (21 min by default). So a delivered message counts as held only while it
    may still be at work: its chunk started (or, not started yet, was sent or delivered; for an
    assembly, its job's last chunk finished) less than ``dead_after_s`` ago, or its chunk runs
    in a process alive since before the chunk started. What a live worker has reserved but not
    started is in what it reports and what its heartbeat lists (``held``), however long it
    waits there; the delivery time covers the moments before its next heartbeat lists it.
    """

    chunk_ids: Collection[int]
    assembly_job_ids: Collection[str]
    # (host, pid) -> since when that process is known to be alive, by its host's clock
    live_processes: Mapping[tuple[str, int], datetime]
    dead_after_s: float
    # chunk id -> when the broker delivered its message (by the clock of the worker that took it)
    chunk_delivered_at: Mapping[int, datetime] = field(default_factory=dict)

    def still_held(self, chunk: Chunk, now: datetime) -> bool:
        if chunk.id not in self.chunk_ids:
            return False
        running = chunk.status == ChunkStatus.RUNNING
        since = chunk.started_at if running else chunk.enqueued_at
        recently = now - timedelta(seconds=self.dead_after_s)
        if since is None or since > recently:
            return True
        delivered_at = self.chunk_delivered_at.get(chunk.id)
        if not running and delivered_at is not None and delivered_at > recently:
            return True  # taken lately by a worker whose heartbeat does not list it yet
        # A worker restarted with the same host name and pid (a restarted container) is
        # alive only since after the chunk started: not the process that ran it
        alive_since = self.live_processes.get((chunk.worker_host, chunk.worker_pid))
        return running and alive_since is not None and alive_since <= since

    def assembly_held(self, job_id: str, job_updated_at: datetime, now: datetime) -> bool:
        return job_id in self.assembly_job_ids and job_updated_at > now - timedelta(
            seconds=self.dead_after_s
        )


@dataclass
class Reconciliation:
    """What the reconciler changed; the tasks to send once it has committed."""

    chunks: list[ChunkToSend]
    assemblies: list[str]
    failed_jobs: dict[str, str]  # job id -> error


def reconcile_jobs(
    ends: JobEnds,
    *,
    queue: str,
    held: Callable[[int], bool],
    assembling: Callable[[str], bool],
    grace_s: float,
    max_requeues: int,
    stalled_after_s: float,
    in_flight_per_job: int,
    delivered: Deliveries | None = None,
    held_as_of: datetime | None = None,
) -> Reconciliation:
    """Put unfinished work whose task is gone back in the queue.

    ``held(chunk_id)`` and ``assembling(job_id)`` say whether the broker's queue or a live
    worker holds a task for it; ``delivered``, what the broker has delivered and not had
    acknowledged, which counts while its worker may be alive (None: ``held`` covers those).
    Work younger than ``grace_s`` is left alone (its message may still be on its way), counted
    back from ``held_as_of``, when the broker and workers were asked (default: now): work sent
    while they were being asked may be in none of their answers. A chunk
    lost ``max_requeues`` times fails its job, as does a running job with no progress for
    ``stalled_after_s`` (0: never). Only jobs of ``queue`` are touched: pools that share the
    database with other queues mind their own.
    """
    session = ends.session
    now = utcnow()

    def chunk_held(chunk: Chunk) -> bool:
        return held(chunk.id) or (delivered is not None and delivered.still_held(chunk, now))

    def assembly_held(job_id: str, updated_at: datetime) -> bool:
        if assembling(job_id):
            return True
        return delivered is not None and delivered.assembly_held(job_id, updated_at, now)

    cutoff = min(now, held_as_of or now) - timedelta(seconds=grace_s)
    result = Reconciliation(chunks=[], assemblies=[], failed_jobs={})
    unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
    in_flight = (ChunkStatus.QUEUED, ChunkStatus.RUNNING)

    if stalled_after_s:
        stalled = session.scalars(
            select(Job).where(
                Job.queue == queue,
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
        .where(Job.queue == queue, Job.status.in_(unfinished), Chunk.status.in_(in_flight))
        .order_by(Chunk.job_id, Chunk.index)
    ).all()
    lost: list[ChunkToSend] = []
    for chunk, priority in rows:
        since = chunk.started_at if chunk.status == ChunkStatus.RUNNING else chunk.enqueued_at
        if chunk.job_id in result.failed_jobs or (since and since > cutoff) or chunk_held(chunk):
            continue
        if chunk.requeues >= max_requeues:
            result.failed_jobs[chunk.job_id] = (
                f"chunk {chunk.index} was lost {chunk.requeues + 1} times (its worker died or "
                "the broker lost its task); giving up"
            )
            continue
        lost.append(ChunkToSend(chunk.job_id, chunk.id, chunk.index, priority))
    # Sent again only if still in flight: one that a late worker finished or failed since it
    # was read above stays as that worker left it
    for start in range(0, len(lost), REQUEUE_BATCH):
        batch = lost[start : start + REQUEUE_BATCH]
        requeued = set(
            set_chunk_status(
                session,
                ChunkStatus.QUEUED,
                Chunk.id.in_([c.chunk_id for c in batch]),
                only_from=in_flight,
                values={"enqueued_at": now, "requeues": Chunk.requeues + 1},
                returning=(Chunk.id,),
            ).scalars()
        )
        result.chunks.extend(c for c in batch if c.chunk_id in requeued)

    # Jobs with chunks left but none in flight: the releasing chunk's transaction was lost
    idle = session.execute(
        select(Job.id, Job.priority).where(
            Job.queue == queue,
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
    complete = session.execute(
        select(Job.id, Job.updated_at).where(
            Job.queue == queue,
            Job.status == JobStatus.RUNNING,
            Job.chunks_done == Job.chunks_total,
            Job.updated_at < cutoff,
        )
    )
    result.assemblies = [
        job_id
        for job_id, updated_at in complete
        if job_id not in result.failed_jobs and not assembly_held(job_id, updated_at)
    ]

    for job_id, error in result.failed_jobs.items():
        ends.fail(job_id, error)
        # Its running chunks that nothing holds died with their worker: none will finish
        running = session.scalars(
            select(Chunk).where(Chunk.job_id == job_id, Chunk.status == ChunkStatus.RUNNING)
        )
        gone = [chunk.id for chunk in running if not chunk_held(chunk)]
        if gone:
            set_chunk_status(
                session,
                ChunkStatus.FAILED,
                Chunk.id.in_(gone),
                only_from=(ChunkStatus.RUNNING,),
                values={"error": "its worker was lost"},
            )
    result.chunks = [c for c in result.chunks if c.job_id not in result.failed_jobs]
    return result
