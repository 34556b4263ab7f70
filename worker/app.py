"""The Celery app of the workers: ``celery -A worker.app worker`` (or ``kokoro-queue worker``).

Each pool child loads its own Kokoro session right after fork (ONNX Runtime sessions and thread
pools must not cross a fork), warms it, and records the load in the database. The main process
runs the reconciler and the heartbeat of itself and its children (``worker/heartbeat.py``), and
never loads ONNX Runtime, Kokoro or espeak itself: it forks. Under ``worker/supervisor.py``
(``KQ_WORKER_POOL=processes``) a worker is one process that loads its session at start and stops
itself, for a fresh one, past its memory or task limit.
"""

import logging
import os
import signal
from typing import TYPE_CHECKING

import psutil
from celery.signals import task_postrun, worker_process_init, worker_ready, worker_shutdown

from infra.model_files import default_voice, resolve_model_files
from infra.queue import make_celery
from infra.settings import get_settings
from storage.db import transaction
from storage.worker_sessions import record_worker_session
from worker.heartbeat import (
    celery_pool_pids,
    celery_requests_held,
    check_heartbeat_settings,
    start_heartbeat,
)
from worker.process_engine import process_engine, set_process_engine
from worker.providers import provider_options
from worker.supervisor import SUPERVISED

if TYPE_CHECKING:
    from worker.engine import SynthesisEngine

log = logging.getLogger(__name__)

# Before anything starts: a worker whose heartbeat cannot keep it alive would have its chunks
# done twice
check_heartbeat_settings(get_settings())
app = make_celery(get_settings())
app.conf.include = [
    "worker.tasks",
    "worker.assembly",
    "worker.webhooks",
    "worker.deliveries",
    "worker.samples",
    "worker.epub_audio",
]
# Redis restarted or failed over: reconnect for as long as it takes (Celery gives up after 100
# tries by default, and the worker exits), and let running chunks finish meanwhile (their
# results go to the database; a message whose ack was lost comes back and finds its chunk done)
app.conf.broker_connection_max_retries = None
app.conf.worker_cancel_long_running_tasks_on_connection_loss = False


def load_engine() -> "SynthesisEngine":
    """The engine of this process, loaded, warmed and recorded on first use."""
    engine = process_engine()
    if engine is not None:
        return engine
    # Here, not at the top: the process that imports this module to schedule (Celery's main
    # process, which forks the pool) never loads ONNX Runtime, Kokoro or espeak
    from worker.engine import SynthesisEngine

    settings = get_settings()
    engine = SynthesisEngine(
        resolve_model_files(settings),
        settings.threads_per_child,
        settings.providers,
        lambda provider: provider_options(
            provider, settings.coreml_compute_units, settings.data_dir / "coreml-cache"
        ),
    )
    engine.warm_up(default_voice(settings))
    set_process_engine(engine)
    with transaction(settings.sqlalchemy_url) as session:
        record_worker_session(
            session,
            host=settings.worker_host,
            pid=os.getpid(),
            provider=engine.provider,
            model_path=engine.model_path,
            threads=engine.threads,
            load_ms=engine.load_ms,
            warmup_ms=engine.warmup_ms,
        )
    log.info(
        "pid %s loaded %s on %s with %s threads in %.0f ms (+%.0f ms warm-up)",
        os.getpid(),
        engine.model_path,
        engine.provider,
        engine.threads,
        engine.load_ms,
        engine.warmup_ms,
    )
    return engine


def lower_cpu_priority(nice: int, sched_idle: bool) -> None:
    """Run this process at nice level ``nice`` (never raising its priority), and under Linux's
    SCHED_IDLE policy if ``sched_idle``. Both belong to each thread on Linux, so every thread
    so far is set; threads started later (ONNX Runtime's) inherit them from the one that
    starts them."""
    idle = sched_idle and hasattr(os, "SCHED_IDLE")
    if nice <= 0 and not idle:
        return
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the value is per process
        threads = [0]
    for thread in threads:
        try:
            if nice > 0 and os.getpriority(os.PRIO_PROCESS, thread) < nice:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
            if idle:
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        except OSError as error:  # a thread that has just exited, or no permission
            log.warning("could not lower the CPU priority of thread %s: %s", thread, error)


@worker_process_init.connect
def _load_engine_in_child(**_):
    # Before the model loads, so that ONNX Runtime's threads start at the lower priority
    settings = get_settings()
    lower_cpu_priority(settings.worker_nice, settings.worker_sched_idle)
    # Eager, so the first chunk a child takes does not wait for the model
    load_engine()


_main_process_threads: list = []  # the stop events of the reconciler and the heartbeat


@worker_ready.connect
def _start_reconciler(sender, **_):
    # In the main process only: the pool children synthesize. The sender is the consumer.
    from worker.reconciler import start_reconciler

    settings = get_settings()
    pool = sender.pool
    _main_process_threads.append(
        start_heartbeat(settings, lambda: celery_pool_pids(pool), celery_requests_held)
    )
    _main_process_threads.append(start_reconciler(app, settings))
    if SUPERVISED_WORKER:
        # One process that both takes and synthesizes chunks (worker/supervisor.py): it loads
        # its session now, as a pool child would after its fork
        lower_cpu_priority(settings.worker_nice, settings.worker_sched_idle)
        load_engine()


# Started by worker/supervisor.py: a worker of one process, which recycles itself
SUPERVISED_WORKER = os.environ.get(SUPERVISED) == "1"
_tasks_run = 0


def recycle_reason(tasks_run: int, rss_mb: float, max_tasks: int, max_rss_mb: int) -> str | None:
    """Why a supervised worker should stop after the task it has just run, if it should."""
    if tasks_run >= max_tasks:
        return f"ran {tasks_run} tasks (KQ_WORKER_MAX_TASKS_PER_CHILD={max_tasks})"
    if rss_mb > max_rss_mb:
        return f"uses {rss_mb:.0f} MB (KQ_WORKER_MAX_MEMORY_MB={max_rss_mb})"
    return None


@task_postrun.connect
def _recycle_when_due(**_):
    # What prefork's max_tasks_per_child and max_memory_per_child do for a pool child: here the
    # process stops itself warmly (the task just run is done and acknowledged) and the
    # supervisor starts a fresh one in its place
    global _tasks_run
    if not SUPERVISED_WORKER:
        return
    _tasks_run += 1
    settings = get_settings()
    rss_mb = psutil.Process().memory_info().rss / (1 << 20)
    reason = recycle_reason(
        _tasks_run, rss_mb, settings.worker_max_tasks_per_child, settings.worker_max_memory_mb
    )
    if reason:
        log.warning("pid %s %s: stopping after this chunk for a fresh process", os.getpid(), reason)
        os.kill(os.getpid(), signal.SIGTERM)


@worker_shutdown.connect
def _stop_reconciler(**_):
    for stop in _main_process_threads:
        stop.set()
