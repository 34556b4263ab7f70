"""The reconciler: unfinished work the database knows about but no queue or worker holds is
sent again. That is what is left when Redis restarts empty, a message is lost, or a
process dies between its commit and its send.

It also sends again the chunks of a worker that died whole, which Redis would give back only
after the visibility timeout: their worker's heartbeat (``worker/heartbeat.py``) has expired.

Every worker runs it in a thread of its main process, once at start and then every
``KQ_RECONCILE_INTERVAL_S``; a Redis lock lets one worker of the cluster run it per interval.
``kokoro-queue reconcile`` runs it once. The same turn deletes finished jobs past their time
(``ttl_hours``, ``KQ_JOB_RETENTION_DAYS``).
"""

import logging
import threading
from datetime import datetime

import redis
from celery import Celery

from infra.queue import (
    TasksSeen,
    send_assembly,
    send_chunks,
    tasks_on_workers,
    tasks_unacked_in_broker,
    tasks_waiting_in_broker,
)
from infra.settings import Settings
from storage.blob_store import BlobStore
from storage.blobs import blob_store
from storage.db import transaction, utcnow
from storage.job_end import JobEndEffects, ending_jobs, job_end_effects
from storage.jobs import delete_job, expired_jobs
from storage.reconcile import Deliveries, Reconciliation, reconcile_jobs
from worker.heartbeat import live_processes, tasks_held_by_live_workers

log = logging.getLogger(__name__)

# Expired jobs deleted per transaction
EXPIRE_BATCH = 100


def tasks_held(celery: Celery, settings: Settings) -> tuple[TasksSeen, Deliveries, datetime]:
    """The tasks this queue's Redis lists or its live workers hold, and those delivered and not
    yet acknowledged, with the worker processes alive. Read before the database, so that work
    is either seen here or already recorded there; the lists before the unacknowledged set, so
    that a message delivered in between is seen in one of them. Also when they were first read."""
    asked_at = utcnow()
    held = tasks_waiting_in_broker(settings)
    # Delivered and not yet acknowledged (acks_late): running, or reserved by a worker. A worker
    # that dies whole leaves its messages here until the visibility timeout (its heartbeat
    # tells); a killed pool child's message is given back at once (reject_on_worker_lost).
    unacked = tasks_unacked_in_broker(settings)
    # What workers run after Redis restarted empty is in no Redis structure at all; a busy
    # worker of one process (worker/supervisor.py) cannot answer the broadcast, and what it
    # holds is in its heartbeat
    held.update(tasks_on_workers(celery, settings))
    held.update(tasks_held_by_live_workers(settings))
    delivered = Deliveries(
        chunk_ids=unacked.tasks.chunk_ids,
        assembly_job_ids=unacked.tasks.assembling_job_ids,
        live_processes=live_processes(settings),
        dead_after_s=settings.worker_dead_after_s,
        chunk_delivered_at=unacked.chunk_delivered_at,
    )
    return held, delivered, asked_at


def reconcile_once(celery: Celery, settings: Settings) -> Reconciliation:
    """One pass over this queue's unfinished jobs (other queues' pools mind their own)."""
    held, delivered, asked_at = tasks_held(celery, settings)
    effects = job_end_effects(celery, blob_store(settings))
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        result = reconcile_jobs(
            ends,
            queue=settings.queue,
            held=held.chunk_ids.__contains__,
            assembling=held.assembling_job_ids.__contains__,
            grace_s=settings.reconcile_grace_s,
            max_requeues=settings.max_chunk_requeues,
            stalled_after_s=settings.stalled_job_timeout_s,
            in_flight_per_job=settings.in_flight_per_job,
            delivered=delivered,
            held_as_of=asked_at,
        )
    for chunk in result.chunks:
        send_chunks(
            celery, chunk.job_id, [(chunk.chunk_id, chunk.index)], chunk.priority, settings.queue
        )
    for job_id in result.assemblies:
        send_assembly(celery, job_id, settings.queue, settings)
    for job_id, error in result.failed_jobs.items():
        log.warning("reconciler failed job %s: %s", job_id, error)
    if result.chunks or result.assemblies:
        log.warning(
            "reconciler sent again %d lost chunk tasks and %d assemblies",
            len(result.chunks),
            len(result.assemblies),
        )
    return result


def expire_once(settings: Settings, store: BlobStore | None = None) -> int:
    """Delete the finished jobs past their time (a job's ``ttl_hours``, else
    KQ_JOB_RETENTION_DAYS) with the audio no other job holds; how many went."""
    store = store or blob_store(settings)
    gone = 0
    while True:
        with transaction(settings.sqlalchemy_url) as session:
            expired = expired_jobs(session, utcnow(), settings.job_retention_days, EXPIRE_BATCH)
            released = {job_id: delete_job(session, job_id, owner) for job_id, owner in expired}
        for job_id, unused in released.items():
            if unused is not None:
                JobEndEffects(store, notify=lambda *_: None).discard_audio(job_id, unused)
        gone += len(expired)
        if len(expired) < EXPIRE_BATCH:
            return gone


def _take_turn(settings: Settings) -> bool:
    """One reconciler per interval across the cluster."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    ttl_ms = max(1, int(settings.reconcile_interval_s * 900))
    return bool(client.set(f"{settings.queue}:reconciler", "1", nx=True, px=ttl_ms))


def start_reconciler(celery: Celery, settings: Settings) -> threading.Event:
    """Run the reconciler now and every interval in a daemon thread; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                if _take_turn(settings):
                    reconcile_once(celery, settings)
                    if expired := expire_once(settings):
                        log.info("deleted %d finished jobs past their time", expired)
            except Exception:  # the broker or database may be down: that is when it matters
                log.exception(
                    "reconciler pass failed; next try in %.0f s", settings.reconcile_interval_s
                )
            if stop.wait(settings.reconcile_interval_s):
                return

    threading.Thread(target=loop, name="kq-reconciler", daemon=True).start()
    return stop
