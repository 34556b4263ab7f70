"""Deliveries of finished books: where a job's book goes and how each delivery went.

Where it goes is the job's own ``deliver`` settings, else those of the API key that made it
(``kokoro-queue keys deliver``): ``{"audiobookshelf": {"url", "token", "library", "folder"}}``.
They hold secrets, and are read only here and by the worker that delivers; nothing shows them.

How it went is the job's ``deliveries``, one entry per target, set when the job succeeds (a
failed or cancelled job delivers nothing) and updated by each attempt:
``{"target", "status": "pending" | "delivered" | "failed", "attempts", "last_error",
"delivered_at"}``. A delivery never changes the job's own state or its audio.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs.states import JobStatus
from core.publish.audiobookshelf import TARGET as AUDIOBOOKSHELF
from storage.api_keys import key_by_id_or_prefix
from storage.db import utcnow
from storage.models import ApiKey, Job

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Where books can go, in the order they are delivered
TARGETS = (AUDIOBOOKSHELF,)
MAX_ERROR_CHARS = 1000


def key_delivery(session: Session, owner: str) -> dict:
    """The delivery settings of the database key ``owner`` ({} for none)."""
    if not owner:
        return {}
    return session.scalar(select(ApiKey.deliver).where(ApiKey.id == owner)) or {}


def delivery_settings(session: Session, job: Job) -> dict:
    """Where the job's book goes: its own settings, else its key's."""
    return job.deliver or key_delivery(session, job.owner)


def start_deliveries(session: Session, job: Job) -> tuple[str, ...]:
    """Mark the deliveries of a job that has just succeeded as pending; the targets to send."""
    settings = delivery_settings(session, job)
    targets = tuple(target for target in TARGETS if settings.get(target))
    if targets:
        job.deliveries = [
            {
                "target": target,
                "status": PENDING,
                "attempts": 0,
                "last_error": None,
                "delivered_at": None,
            }
            for target in targets
        ]
    return targets


@dataclass(frozen=True)
class DeliveryOrder:
    """What the worker needs to deliver a job's book to one target."""

    job_id: str
    title: str | None
    author: str | None
    format: str
    audio_key: str
    cover_key: str | None
    book_info: dict | None
    settings: dict  # the target's own, secrets included
    status: str  # the delivery's, so far


def delivery_order(session: Session, job_id: str, target: str) -> DeliveryOrder | None:
    """The delivery of ``job_id``'s book to ``target``; None when there is none to make: the job
    is gone, has not succeeded, or has no such delivery."""
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.SUCCEEDED or not job.audio_key:
        return None
    state = _state(job, target)
    settings = delivery_settings(session, job).get(target)
    if state is None or not settings:
        return None
    return DeliveryOrder(
        job_id=job.id,
        title=job.title,
        author=job.author,
        format=job.format,
        audio_key=job.audio_key,
        cover_key=job.cover_key,
        book_info=job.book_info,
        settings=settings,
        status=state["status"],
    )


def _state(job: Job, target: str) -> dict | None:
    return next((d for d in job.deliveries or [] if d.get("target") == target), None)


def _update(session: Session, job_id: str, target: str, **changes) -> int:
    """Count an attempt of the job's delivery to ``target`` with ``changes``; the attempts so
    far (0: no such delivery). The row is locked: two attempts never lose each other's count."""
    job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job is None or _state(job, target) is None:
        return 0
    deliveries = []
    attempts = 0
    for delivery in job.deliveries or []:
        if delivery.get("target") == target:
            attempts = int(delivery.get("attempts") or 0) + 1
            delivery = {**delivery, **changes, "attempts": attempts}
        deliveries.append(delivery)
    job.deliveries = deliveries  # a new list: the JSON column sees the change
    return attempts


def record_delivery_attempt(
    session: Session, job_id: str, target: str, error: str, *, final: bool
) -> int:
    """Count a failed attempt (pending while it will be retried, failed when ``final``); the
    attempts so far."""
    status = FAILED if final else PENDING
    return _update(session, job_id, target, status=status, last_error=error[:MAX_ERROR_CHARS])


def record_delivered(session: Session, job_id: str, target: str) -> int:
    """Count the attempt that the target accepted; the attempts so far."""
    return _update(
        session,
        job_id,
        target,
        status=DELIVERED,
        last_error=None,
        delivered_at=utcnow().isoformat(),
    )


def set_key_delivery(session: Session, id_or_prefix: str, deliver: dict | None) -> ApiKey | None:
    """Set (or with None clear) the delivery settings of the key with this id, or of the one
    key whose shown prefix this is; None when there is no such one key."""
    key = key_by_id_or_prefix(session, id_or_prefix)
    if key is None:
        return None
    key.deliver = deliver or None
    return key
