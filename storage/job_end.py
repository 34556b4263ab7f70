"""How a job ends: the one place that decides what succeeding, failing or being cancelled does.

First in the database: the job's state, and its chunks that have not started never will. Then,
once that has committed: a failed or cancelled job's partial audio is removed, the job's
webhook is sent, and a succeeded job's book is delivered where it goes (storage/deliveries.py).
Every path that ends a job goes through ``ending_jobs``: the routes (cancel, a speech client
that hangs up, an enqueue that failed), the tasks (a chunk or an assembly that gave up, an
assembly that finished) and the reconciler.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.jobs.states import FINISHED_JOB_STATES, ChunkStatus, JobStatus
from storage.blob_store import BlobStore, job_prefix
from storage.chunk_status import set_chunk_status
from storage.db import transaction, utcnow
from storage.deliveries import start_deliveries
from storage.job_queries import owned_job
from storage.jobs import drop_unstarted_chunks, release_audio
from storage.models import Chunk, Job

if TYPE_CHECKING:
    from celery import Celery


@dataclass(frozen=True)
class JobEndEffects:
    """What ending a job does outside the database."""

    store: BlobStore
    # (job id, status, queue): enqueue the delivery of the job's webhook
    notify: Callable[[str, str, str], object]
    # (job id, target, queue): enqueue the delivery of a succeeded job's book to a target
    deliver: Callable[[str, str, str], object] = lambda *_: None

    def discard_audio(self, job_id: str, chunk_audio: Iterable[str] = ()) -> None:
        """Remove the job's own files (parts, chapters, the final file) and ``chunk_audio``,
        the chunk files no job refers to any more (storage.jobs.release_audio says
        which)."""
        self.store.delete_prefix(job_prefix(job_id))
        for key in chunk_audio:
            self.store.delete_prefix(key)


def job_end_effects(celery: "Celery", store: BlobStore) -> JobEndEffects:
    def notify(job_id: str, status: str, queue: str) -> None:
        # Imported when a webhook is sent, by a process that holds a Celery app already: the
        # storage layer itself does not load Celery
        from infra.queue import send_webhook

        send_webhook(celery, job_id, status, queue)

    def deliver(job_id: str, target: str, queue: str) -> None:
        from infra.queue import send_delivery

        send_delivery(celery, job_id, target, queue)

    return JobEndEffects(store, notify, deliver)


@dataclass(frozen=True)
class _Ended:
    job_id: str
    status: str
    queue: str
    has_callback: bool
    deliveries: tuple[str, ...] = ()  # the targets a succeeded job's book goes to


@dataclass
class JobEnds:
    """The jobs one transaction ends; their effects run once it has committed."""

    session: Session
    _ended: list[_Ended] = field(default_factory=list)
    # Jobs whose own files go, with the chunk audio they alone held
    _discard: dict[str, list[str]] = field(default_factory=dict)

    def _discard_audio(self, job_id: str) -> None:
        """A job that did not succeed keeps no audio: its files, and the chunk audio no other
        job refers to, go once the transaction has committed."""
        unused = release_audio(self.session, job_id)
        self._discard.setdefault(job_id, []).extend(unused)

    def fail(self, job_id: str, error: str) -> bool:
        """Fail the job unless it has already finished; True when this call failed it."""
        now = utcnow()
        row = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.not_in(FINISHED_JOB_STATES))
            .values(status=JobStatus.FAILED, error=error, finished_at=now, updated_at=now)
            .returning(Job.queue, Job.callback_url)
        ).first()
        if row is None:
            return False
        drop_unstarted_chunks(self.session, job_id)
        self._discard_audio(job_id)
        self._ended.append(_Ended(job_id, JobStatus.FAILED, row.queue, bool(row.callback_url)))
        return True

    def fail_chunk(self, chunk_id: int, job_id: str, error: str) -> bool:
        """A chunk's last attempt failed: the chunk fails, and with it its job. True when this
        call failed the job (it was unfinished until now)."""
        # The attempt's chunk is running, or queued again meanwhile by the reconciler (its
        # worker taken for lost). One that has ended keeps its state and fails nothing: done,
        # it has counted; failed or cancelled, its job had ended already
        failed = set_chunk_status(
            self.session,
            ChunkStatus.FAILED,
            Chunk.id == chunk_id,
            Chunk.job_id == job_id,
            values={"error": error},
            returning=(Chunk.index,),
        ).first()
        if failed is None:
            return False
        return self.fail(job_id, f"chunk {failed.index} failed: {error}")

    def cancel(self, job_id: str, owner: str) -> tuple[Job | None, bool]:
        """Cancel the owner's unfinished job: its chunks that have not started never will (the
        row lock orders this against ``start_chunk``). Returns the job (None when the owner has
        no such job) and whether this call cancelled it (False: it had already finished)."""
        if owned_job(self.session, job_id, owner) is None:
            return None, False
        job = self.session.get(Job, job_id, with_for_update=True, populate_existing=True)
        if job is None or job.status in FINISHED_JOB_STATES:
            return job, False
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
        drop_unstarted_chunks(self.session, job_id)
        self._discard_audio(job_id)
        self._ended.append(_Ended(job_id, JobStatus.CANCELLED, job.queue, bool(job.callback_url)))
        return job, True

    def succeed(
        self,
        job_id: str,
        *,
        audio_key: str,
        audio_bytes: int,
        audio_seconds: float,
        chapter_levels: list[dict] | None = None,
    ) -> str | None:
        """Mark an assembled job succeeded. Returns its status afterwards (None: deleted):
        succeeded, or what a cancel or failure made of it meanwhile, whose audio then goes. (A
        job already succeeded was assembled twice, the reconciler having sent it again: the
        same bytes were written, and they stay.)"""
        job = self.session.get(Job, job_id, with_for_update=True)
        if job is None or job.status != JobStatus.RUNNING:
            if job is None or job.status != JobStatus.SUCCEEDED:
                self._discard.setdefault(job_id, [])
            return None if job is None else job.status
        now = utcnow()
        wall = (now - (job.started_at or job.created_at)).total_seconds()
        job.status = JobStatus.SUCCEEDED
        job.finished_at = now
        job.audio_key = audio_key
        job.audio_bytes = audio_bytes
        job.audio_seconds = audio_seconds
        job.chapter_levels = chapter_levels
        job.wall_seconds = wall
        job.realtime_factor = audio_seconds / wall if wall > 0 else None
        targets = start_deliveries(self.session, job)
        self._ended.append(
            _Ended(job_id, JobStatus.SUCCEEDED, job.queue, bool(job.callback_url), targets)
        )
        return job.status

    def discard_audio_if_ended(self, job_id: str) -> str | None:
        """A chunk finished: if its job has ended otherwise than by succeeding (or is gone),
        what the chunk just wrote goes too. Returns the job's status (None: deleted)."""
        status = self.session.scalar(select(Job.status).where(Job.id == job_id))
        if status in (JobStatus.CANCELLED, JobStatus.FAILED):
            self._discard_audio(job_id)
        elif status is None:
            self._discard.setdefault(job_id, [])
        return status

    def settle(self, effects: JobEndEffects) -> None:
        for job_id, unused in self._discard.items():
            effects.discard_audio(job_id, unused)
        for ended in self._ended:
            if ended.has_callback:
                effects.notify(ended.job_id, ended.status, ended.queue)
            for target in ended.deliveries:
                effects.deliver(ended.job_id, target, ended.queue)


@contextmanager
def ending_jobs(url: str, effects: JobEndEffects) -> Iterator[JobEnds]:
    """A transaction that may end jobs; their audio and webhooks are seen to after it commits
    (nothing happens outside the database if it rolls back)."""
    with transaction(url) as session:
        ends = JobEnds(session)
        yield ends
    ends.settle(effects)
