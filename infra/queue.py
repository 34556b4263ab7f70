"""The Celery configuration that the API (which only sends) and the workers share, and what
the reconciler reads of the broker.

The API enqueues tasks by name, so it never imports the worker or the model.
"""

import base64
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from celery import Celery

from core.voices.samples import SampleOrder
from infra.settings import Settings

log = logging.getLogger(__name__)

SYNTHESIZE_CHUNK = "kq.synthesize_chunk"
ASSEMBLE_PART = "kq.assemble_part"
ASSEMBLE_JOB = "kq.assemble_job"
DELIVER_WEBHOOK = "kq.deliver_webhook"
DELIVER_BOOK = "kq.deliver_book"
SYNTHESIZE_SAMPLE = "kq.synthesize_sample"

# Redis emulates priorities with one list per step; 0 is served first
PRIORITY_STEPS = list(range(10))
DEFAULT_PRIORITY = 5


def visibility_timeout_s(settings: Settings) -> int:
    # Redis redelivers an unacked task after this, even while it still runs: keep it well above
    # the longest hard time limit so only lost tasks are redelivered
    return max(settings.task_time_limit_s, settings.assembly_time_limit_s) * 2 + 60


def make_celery(settings: Settings) -> Celery:
    app = Celery("kokoro_queue", broker=settings.redis_url)
    transport = {
        "visibility_timeout": visibility_timeout_s(settings),
        "queue_order_strategy": "priority",
        "priority_steps": PRIORITY_STEPS,
        "sep": ":",
        # Delivered-but-unacked messages under this queue's name, not Redis-wide: deployments
        # sharing a Redis database never restore (or reconcile against) each other's messages
        "unacked_key": f"{settings.queue}:unacked",
        "unacked_index_key": f"{settings.queue}:unacked_index",
        "unacked_mutex_key": f"{settings.queue}:unacked_mutex",
    }
    app.conf.update(
        task_default_queue=settings.queue,
        task_ignore_result=True,
        result_backend=None,
        task_default_priority=DEFAULT_PRIORITY,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        # A worker killed mid-chunk loses only that chunk: the message is acked after the task
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=max(settings.task_time_limit_s - 30, 5),
        # Flower sees tasks from "sent" on
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_max_memory_per_child=settings.worker_max_memory_mb * 1024,  # KiB
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        # Each child loads and warms the model at start; Celery's 4 s default kills it first
        worker_proc_alive_timeout=120,
        worker_hijack_root_logger=False,
    )
    return app


def celery_priority(api_priority: int) -> int:
    # The API's 9 is most urgent; Redis serves Celery's priority 0 first
    return 9 - api_priority


def send_chunks(
    celery: Celery, job_id: str, chunks: list[tuple[int, int]], priority: int, queue: str
) -> None:
    """Enqueue (chunk id, index) pairs of one job, by task name; call after the commit that
    marked them queued, so a worker always finds the rows it is told about.

    The tasks and their task-sent events go to Redis in one pipelined round trip (kombu's
    publish batch: a submission costs a third less CPU). Should that fail, they are sent again
    one by one with Celery's publish retries; a task the failed pipeline did deliver is then
    there twice, and its second run finds the chunk done (or redoes the same audio)."""
    if not chunks:
        return
    with celery.producer_or_acquire() as producer:
        try:
            with producer.batch():
                _send_chunk_tasks(celery, producer, job_id, chunks, priority, queue)
        except Exception:  # kombu's BatchPublishError, or a connection error
            log.warning("pipelined send of job %s's chunks failed; sending one by one", job_id)
            _send_chunk_tasks(celery, producer, job_id, chunks, priority, queue)


def _send_chunk_tasks(celery, producer, job_id, chunks, priority, queue) -> None:
    for chunk_id, index in chunks:
        celery.send_task(
            SYNTHESIZE_CHUNK,
            args=[chunk_id, job_id, index],
            queue=queue,
            priority=celery_priority(priority),
            producer=producer,
            event_dispatcher=_event_dispatcher(celery),
        )


_dispatchers = threading.local()


def _event_dispatcher(celery: Celery):
    """This thread's sender of task-sent events. Celery's default one is shared by the process
    behind a lock, which the API's request threads then queue for: with a few dozen requests
    in flight, submissions waited there more than they worked."""
    dispatcher = getattr(_dispatchers, "dispatcher", None)
    if dispatcher is None or dispatcher.app is not celery:
        # Not enabled: it publishes only through the producer given with each task
        dispatcher = _dispatchers.dispatcher = celery.events.Dispatcher(enabled=False)
    return dispatcher


def _send_when_job_ended(celery: Celery, task: str, args: list[str], queue: str, what: str) -> bool:
    """Enqueue a task that follows a job's end at the top priority, by task name. Never raises:
    a broker error is logged (the job's outcome stands) and False returned."""
    try:
        celery.send_task(
            task, args=args, queue=queue, priority=celery_priority(max(PRIORITY_STEPS))
        )
    except Exception:  # kombu raises several connection error types
        log.exception("could not enqueue %s", what)
        return False
    return True


def send_webhook(celery: Celery, job_id: str, status: str, queue: str) -> bool:
    """Enqueue the delivery of a finished job's webhook; call after the commit that finished
    the job, and only for a job with a callback_url. False: the broker could not be reached."""
    return _send_when_job_ended(
        celery, DELIVER_WEBHOOK, [job_id, status], queue, f"the webhook of job {job_id} ({status})"
    )


def send_delivery(celery: Celery, job_id: str, target: str, queue: str) -> bool:
    """Enqueue the delivery of a succeeded job's book to ``target`` (e.g. "audiobookshelf");
    call after the commit that finished the job. False: the broker could not be reached (the
    book stands, its delivery stays pending)."""
    return _send_when_job_ended(
        celery, DELIVER_BOOK, [job_id, target], queue, f"the delivery of job {job_id} to {target}"
    )


def _queue_keys(settings: Settings) -> list[str]:
    """The Redis lists of the queue: one per priority step (kombu's layout with sep ":")."""
    return [settings.queue] + [f"{settings.queue}:{step}" for step in PRIORITY_STEPS[1:]]


def _assembly_limits(settings: Settings) -> dict[str, int]:
    limit = settings.assembly_time_limit_s
    return {"time_limit": limit, "soft_time_limit": max(limit - 30, 5)}


def send_parts(celery: Celery, parts: list, queue: str, settings: Settings) -> None:
    """Enqueue the encoding of parts (storage/parts.py PartRef) ahead of any chunk: their
    chapter is done but for this, and the work that trails the book's last chunk is shortest
    when every finished chapter is encoded by then."""
    for part in parts:
        celery.send_task(
            ASSEMBLE_PART,
            args=[part.job_id, part.chapter, part.number],
            queue=queue,
            priority=0,
            **_assembly_limits(settings),
        )


def send_assembly(celery: Celery, job_id: str, queue: str, settings: Settings) -> None:
    """Enqueue the join of a job's parts into its file(s) ahead of any chunk."""
    celery.send_task(
        ASSEMBLE_JOB, args=[job_id], queue=queue, priority=0, **_assembly_limits(settings)
    )


def send_sample(celery: Celery, order: SampleOrder, queue: str, task_id: str) -> None:
    """Enqueue a voice sample at the top priority, with assemblies and ahead of every chunk
    (someone is waiting to hear it, and it is a few seconds of work), under ``task_id`` so that
    it can be revoked when nobody waits for it any more."""
    celery.send_task(
        SYNTHESIZE_SAMPLE,
        args=order.task_args(),
        queue=queue,
        priority=celery_priority(max(PRIORITY_STEPS)),
        task_id=task_id,
    )


def broker_queue_depth(settings: Settings) -> int | None:
    """Messages waiting in the broker across the queue's priority lists; None if unreachable."""
    import redis

    keys = _queue_keys(settings)
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.llen(key)
            return sum(pipe.execute())
    except redis.RedisError:
        return None


@dataclass
class TasksSeen:
    """Work the broker or a worker holds: chunk ids and the ids of jobs being assembled (a part
    or the join)."""

    chunk_ids: set[int] = field(default_factory=set)
    assembling_job_ids: set[str] = field(default_factory=set)

    def add(self, task_name: str | None, args: list) -> None:
        if task_name == SYNTHESIZE_CHUNK and args:
            self.chunk_ids.add(int(args[0]))
        elif task_name in (ASSEMBLE_JOB, ASSEMBLE_PART) and args:
            self.assembling_job_ids.add(str(args[0]))

    def update(self, other: "TasksSeen") -> None:
        self.chunk_ids |= other.chunk_ids
        self.assembling_job_ids |= other.assembling_job_ids


def _message_task(raw: bytes) -> tuple[str | None, list]:
    """Task name and args of a message as kombu stores it in Redis (JSON, body in base64)."""
    message = json.loads(raw)
    if isinstance(message, list):  # an unacked entry: [message, exchange, routing key]
        message = message[0]
    body = message["body"]
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return message.get("headers", {}).get("task"), args


def tasks_waiting_in_broker(settings: Settings) -> TasksSeen:
    """Tasks in the queue's lists (not yet delivered). Raises redis.RedisError if unreachable."""
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    seen = TasksSeen()
    for key in _queue_keys(settings):
        for raw in client.lrange(key, 0, -1):
            seen.add(*_message_task(raw))
    return seen


@dataclass
class Unacked:
    """Tasks delivered to a worker and not yet acknowledged, and when each chunk's was
    delivered (by the clock of the worker that took it), as far as the broker knows."""

    tasks: TasksSeen
    chunk_delivered_at: dict[int, datetime]


def tasks_unacked_in_broker(settings: Settings) -> Unacked:
    """Tasks delivered to a worker and not yet acknowledged (acks_late: running or reserved, or
    held by a worker that died, until the visibility timeout restores them)."""
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    with client.pipeline(transaction=False) as pipe:
        pipe.hgetall(f"{settings.queue}:unacked")
        pipe.zrange(f"{settings.queue}:unacked_index", 0, -1, withscores=True)
        messages, index = pipe.execute()
    delivered = dict(index)  # delivery tag -> when kombu delivered it
    unacked = Unacked(TasksSeen(), {})
    for tag, raw in messages.items():
        name, args = _message_task(raw)
        unacked.tasks.add(name, args)
        if name == SYNTHESIZE_CHUNK and args and tag in delivered:
            unacked.chunk_delivered_at[int(args[0])] = datetime.fromtimestamp(delivered[tag], UTC)
    return unacked


def tasks_on_workers(celery: Celery, settings: Settings, timeout_s: float = 2.0) -> TasksSeen:
    """Tasks the live workers of this queue are running or hold reserved (of those that answer
    within the timeout).

    The broadcast and its replies go over a connection of their own, closed afterwards, never
    one of the app's pool: the reconciler asks from the worker's main process, which forks pool
    children, and kombu closes every pooled connection in a new child. A child that inherited
    one with a BRPOP in flight waited for ever for the reply its parent read."""
    with celery.connection_for_write() as connection:
        inspector = celery.control.inspect(timeout=timeout_s, connection=connection)
        replies = [inspector.active() or {}, inspector.reserved() or {}]
    seen = TasksSeen()
    for reply in replies:
        for tasks in reply.values():
            for task in tasks:
                # Workers of other queues on the same Redis answer too; their ids mean nothing here
                if (task.get("delivery_info") or {}).get("routing_key") == settings.queue:
                    seen.add(task.get("name"), task.get("args") or [])
    return seen
