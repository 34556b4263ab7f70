"""The Celery configuration that the API (which only sends) and the workers share.

The API enqueues tasks by name, so it never imports the worker or the model.
"""

from celery import Celery

from core.settings import Settings

SYNTHESIZE_CHUNK = "kq.synthesize_chunk"
ASSEMBLE_JOB = "kq.assemble_job"

# Redis emulates priorities with one list per step; 0 is served first
PRIORITY_STEPS = list(range(10))
DEFAULT_PRIORITY = 5


def visibility_timeout_s(settings: Settings) -> int:
    # Redis redelivers an unacked task after this, even while it still runs: keep it well above
    # the hard time limit so only lost tasks are redelivered
    return settings.task_time_limit_s * 2 + 60


def make_celery(settings: Settings) -> Celery:
    app = Celery("kokoro_queue", broker=settings.redis_url)
    transport = {
        "visibility_timeout": visibility_timeout_s(settings),
        "queue_order_strategy": "priority",
        "priority_steps": PRIORITY_STEPS,
        "sep": ":",
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
    celery: Celery, settings: Settings, job_id: str, chunks: list[tuple[int, int]], priority: int
) -> None:
    """Enqueue (chunk id, index) pairs of one job, by task name; call after the commit that
    marked them queued, so a worker always finds the rows it is told about."""
    for chunk_id, index in chunks:
        celery.send_task(
            SYNTHESIZE_CHUNK,
            args=[chunk_id, job_id, index],
            queue=settings.queue,
            priority=celery_priority(priority),
        )


def broker_queue_depth(settings: Settings) -> int | None:
    """Messages waiting in the broker across the queue's priority lists; None if unreachable."""
    import redis

    sep = ":"
    keys = [settings.queue] + [f"{settings.queue}{sep}{step}" for step in PRIORITY_STEPS[1:]]
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.llen(key)
            return sum(pipe.execute())
    except redis.RedisError:
        return None
