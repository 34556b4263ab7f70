"""Batches: jobs submitted together, followed with one status."""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.jobs.ids import is_id, new_id
from core.jobs.states import JobStatus
from storage.db import utcnow
from storage.jobs import delete_job
from storage.models import Batch, Job


def create_batch(session: Session, owner: str) -> Batch:
    batch = Batch(id=new_id(), owner=owner, created_at=utcnow())
    session.add(batch)
    session.flush()
    return batch


def discard_batch(session: Session, batch_id: str, owner: str) -> None:
    """Delete the owner's batch with its jobs and their chunks (a batch refused part way)."""
    for job_id in session.scalars(
        select(Job.id).where(Job.batch_id == batch_id, Job.owner == owner)
    ):
        delete_job(session, job_id, owner)
    session.execute(delete(Batch).where(Batch.id == batch_id, Batch.owner == owner))


def get_batch(session: Session, batch_id: str, owner: str) -> Batch | None:
    """The batch, if it exists and belongs to ``owner``."""
    batch = session.get(Batch, batch_id) if is_id(batch_id) else None
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
