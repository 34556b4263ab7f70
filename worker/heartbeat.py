"""Worker heartbeats: which worker processes are alive, so that the reconciler can tell a chunk
whose worker died whole from one that is still running.

A worker that dies whole (its machine lost, its container killed, its main process killed by the
OOM killer) leaves its chunks' messages in Redis's unacknowledged set until the visibility timeout
(2 x KQ_TASK_TIME_LIMIT_S + 60 s) gives them back. So each worker's main process writes, every
KQ_WORKER_HEARTBEAT_S, one Redis key for each of its processes (itself and every pool child),
``{queue}:heartbeat:{host}:{pid}``, which expires after KQ_WORKER_DEAD_AFTER_S. A chunk records
the host and pid that started it; once that key has expired, the reconciler sends it again.

The main process beats for its children: they synthesize at a low CPU priority, where a thread
of their own could starve, and a child that dies alone is handled by the broker at once
(``task_reject_on_worker_lost``). Each key holds since when its process is known to be alive, by
its host's clock (which timed the chunk's start too), so that a worker restarted with the same
host name and pids, as a container restarted by its restart policy is, is not taken for the one
that died.

With each beat the main process also lists the tasks it runs and holds reserved,
``{queue}:holding:{host}:{pid}`` (same expiry): the reconciler's broadcast asks the same, but a
worker of one process (worker/supervisor.py) busy with a chunk cannot answer it.
"""

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import redis

from infra.queue import TasksSeen
from infra.settings import Settings

log = logging.getLogger(__name__)

# A worker imports this module as it starts: when its main process started, near enough
PROCESS_STARTED = time.time()
# Beats that many times per KQ_WORKER_DEAD_AFTER_S at least, so one late beat is no death
MIN_BEATS_PER_DEAD_AFTER = 3
REDIS_TIMEOUT_S = 5.0

# (host, pid) -> since when that process is known to be alive, by its host's clock
LiveProcesses = dict[tuple[str, int], datetime]


def heartbeat_prefix(queue: str) -> str:
    # Under the queue's name, as its unacked set and reconciler lock are: each pool its own
    return f"{queue}:heartbeat:"


def holding_prefix(queue: str) -> str:
    return f"{queue}:holding:"


def check_heartbeat_settings(settings: Settings) -> None:
    """Refuse heartbeat settings under which a live worker would look dead between beats."""
    if settings.worker_dead_after_s < MIN_BEATS_PER_DEAD_AFTER * settings.worker_heartbeat_s:
        raise ValueError(
            f"KQ_WORKER_DEAD_AFTER_S ({settings.worker_dead_after_s:g} s) must be at least "
            f"{MIN_BEATS_PER_DEAD_AFTER} heartbeats (KQ_WORKER_HEARTBEAT_S = "
            f"{settings.worker_heartbeat_s:g} s), or live workers look dead between beats and "
            "their chunks are done twice: raise KQ_WORKER_DEAD_AFTER_S or lower "
            "KQ_WORKER_HEARTBEAT_S"
        )


class Heartbeat:
    """The beats of one worker's main process, for itself and the pool processes it lists."""

    def __init__(
        self,
        settings: Settings,
        pool_pids: Callable[[], Iterable[int]],
        holding: Callable[[], TasksSeen] | None = None,
    ):
        self.settings = settings
        self.pool_pids = pool_pids
        self.holding = holding
        self.client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_S)
        self.prefix = heartbeat_prefix(settings.queue) + settings.worker_host + ":"
        self.holding_key = f"{holding_prefix(settings.queue)}{settings.worker_host}:{os.getpid()}"
        self._held = TasksSeen()
        self._since = {os.getpid(): PROCESS_STARTED}
        self._listed_at = PROCESS_STARTED
        self._failing = False

    def _list_processes(self) -> dict[int, float]:
        """The processes alive now, each with since when it is known to be."""
        try:
            pids = {os.getpid(), *self.pool_pids()}
        except Exception:  # the pool is restarting: keep the processes known so far
            return self._since
        # A child not listed before started after the previous listing, at the earliest
        since = {pid: self._since.get(pid, self._listed_at) for pid in pids}
        self._listed_at = time.time()
        return since

    def beat(self) -> None:
        """Write this worker's keys once. Raises redis.RedisError when Redis is unreachable."""
        self._since = self._list_processes()
        ttl_ms = int(self.settings.worker_dead_after_s * 1000)
        with self.client.pipeline(transaction=False) as pipe:
            for pid, since in self._since.items():
                pipe.set(f"{self.prefix}{pid}", repr(since), px=ttl_ms)
            if self.holding is not None:
                pipe.set(self.holding_key, self._list_held(), px=ttl_ms)
            pipe.execute()

    def _list_held(self) -> str:
        """What this worker runs and holds reserved, as JSON."""
        # Its set changed while being read: the last listing (a beat old) stands
        with contextlib.suppress(RuntimeError):
            self._held = self.holding()
        return json.dumps(
            {
                "chunks": sorted(self._held.chunk_ids),
                "assembling": sorted(self._held.assembling_job_ids),
            }
        )

    def beat_and_log(self) -> None:
        """One beat; a Redis outage is logged when it starts and when it ends, not every beat."""
        try:
            self.beat()
        except redis.RedisError as error:
            if not self._failing:
                log.warning("worker heartbeat failed (Redis unreachable?), retrying: %s", error)
            self._failing = True
            return
        if self._failing:
            log.warning("worker heartbeat written again")
        self._failing = False

    def forget(self) -> None:
        """A clean stop: this worker's keys go at once."""
        try:
            self.client.delete(*(f"{self.prefix}{pid}" for pid in self._since), self.holding_key)
        except redis.RedisError as error:  # they expire anyway
            log.warning("could not remove the worker's heartbeat keys: %s", error)


def start_heartbeat(
    settings: Settings,
    pool_pids: Callable[[], Iterable[int]],
    holding: Callable[[], TasksSeen] | None = None,
) -> threading.Event:
    """Beat now and every KQ_WORKER_HEARTBEAT_S in a daemon thread; set the event to stop."""
    heartbeat = Heartbeat(settings, pool_pids, holding)
    stop = threading.Event()

    def loop() -> None:
        while True:
            heartbeat.beat_and_log()
            if stop.wait(settings.worker_heartbeat_s):
                heartbeat.forget()
                return

    threading.Thread(target=loop, name="kq-heartbeat", daemon=True).start()
    return stop


def celery_requests_held() -> TasksSeen:
    """The tasks this Celery worker runs and holds reserved (its main process's own record,
    which a worker busy running a task in that process still reads from another thread)."""
    from celery.worker import state

    held = TasksSeen()
    for request in [*state.active_requests, *state.reserved_requests]:
        held.add(request.name, list(request.args))
    return held


def tasks_held_by_live_workers(settings: Settings) -> TasksSeen:
    """What the workers of this queue whose heartbeat has not expired listed as running or
    reserved at their last beat. Raises redis.RedisError when Redis is unreachable."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_S)
    keys = list(client.scan_iter(match=_redis_glob(holding_prefix(settings.queue)) + "*"))
    held = TasksSeen()
    for value in client.mget(keys) if keys else []:
        if value is None:  # expired since the scan
            continue
        listed = json.loads(value)
        held.chunk_ids.update(int(chunk_id) for chunk_id in listed["chunks"])
        held.assembling_job_ids.update(str(job_id) for job_id in listed["assembling"])
    return held


def celery_pool_pids(pool) -> list[int]:
    """The processes of a Celery worker pool: its children (prefork, solo); none for the
    threads pool, whose tasks run in the main process, which beats anyway."""
    return list(pool.info.get("processes", []))


def _redis_glob(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def live_processes(settings: Settings) -> LiveProcesses:
    """Every process of this queue's workers whose heartbeat has not expired. Raises
    redis.RedisError when Redis is unreachable."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_S)
    prefix = heartbeat_prefix(settings.queue)
    keys = list(client.scan_iter(match=_redis_glob(prefix) + "*", count=1000))
    live: LiveProcesses = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        host, _, pid = key.decode()[len(prefix) :].rpartition(":")
        if value is None or not pid.isdigit():  # expired since the scan, or not a heartbeat
            continue
        live[(host, int(pid))] = datetime.fromtimestamp(float(value), UTC)
    return live
