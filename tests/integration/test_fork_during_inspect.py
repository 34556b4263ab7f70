"""A pool child forked while the worker's main process asks the workers what they hold starts.

The reconciler runs in the worker's main process and asks every worker for its active and
reserved tasks (a broadcast whose replies it reads with BRPOP). Celery forks replacement pool
children from that same process (memory recycling), and kombu closes every pooled broker
connection in a fresh child. A child that inherited a pooled connection with a BRPOP in flight
waited for that reply for ever, because the parent's thread read it: the child never sent its
"up" message and the pool stayed one process short (a book stalled in CI)."""

import os
import threading
import time
import uuid
from multiprocessing import util

from infra.queue import make_celery, tasks_on_workers
from infra.settings import Settings

FORKS = 5
CHILD_TIMEOUT_S = 15.0


def fork_and_run_after_fork_handlers() -> int:
    """Fork a child that runs the handlers a billiard pool child runs first, then exits."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            util._run_after_forkers()
        finally:
            os._exit(0)
    return pid


def exited_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return False


def test_children_forked_while_workers_are_inspected_start(redis_url):
    settings = Settings(redis_url=redis_url, queue=f"kq-test-{uuid.uuid4().hex[:8]}")
    celery = make_celery(settings)
    stop = threading.Event()

    def inspect_until_stopped():
        while not stop.is_set():
            tasks_on_workers(celery, settings, timeout_s=0.5)

    inspector = threading.Thread(target=inspect_until_stopped, daemon=True)
    inspector.start()
    try:
        stuck = 0
        for _ in range(FORKS):
            time.sleep(0.7)  # into an inspection: its reply consumer is waiting on BRPOP
            stuck += not exited_within(fork_and_run_after_fork_handlers(), CHILD_TIMEOUT_S)
    finally:
        stop.set()
        inspector.join(timeout=10)
    assert stuck == 0, f"{stuck} of {FORKS} forked children hung closing inherited connections"
