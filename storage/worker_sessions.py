"""Model sessions loaded by worker processes: when, where, how long loading took."""

from sqlalchemy.orm import Session

from storage.models import WorkerSession


def record_worker_session(session: Session, **fields) -> None:
    session.add(WorkerSession(**fields))
