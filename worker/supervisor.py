"""Worker processes started by exec, never by fork: ``kokoro-queue worker`` with
``KQ_WORKER_POOL=processes`` (the default on macOS).

The supervisor starts ``KQ_WORKER_CONCURRENCY`` single-process Celery workers (solo pool, one
warm Kokoro session each) as new programs, and never imports ONNX Runtime, Kokoro, espeak or
the worker app itself: no process that has loaded them ever forks, which is what CoreML and the
Objective-C runtime require on macOS, and each process is recycled on its own:

- a worker that passes ``KQ_WORKER_MAX_MEMORY_MB`` or has run ``KQ_WORKER_MAX_TASKS_PER_CHILD``
  tasks stops itself after its current chunk (a warm shutdown: ``worker/app.py``), and the
  supervisor starts a fresh one in its place;
- one that dies (killed, crashed) is replaced too; its running chunk comes back (``acks_late``,
  and the reconciler once its heartbeat has expired);
- SIGTERM or SIGINT stop every worker warmly (each finishes its chunk), a second one at once.

A worker that keeps dying within seconds of its start is restarted after a growing pause, so a
broken configuration does not spin.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# The environment variable that tells a worker it runs under the supervisor (worker/app.py:
# it then loads its session at start and recycles itself)
SUPERVISED = "KQ_SUPERVISED_WORKER"
# A worker that exits sooner than this after its start is taken for a crash loop
QUICK_EXIT_S = 20.0
RESTART_PAUSES_S = (1.0, 2.0, 5.0, 10.0, 30.0)
POLL_S = 0.5


def solo_worker_command(
    queue: str, number: int, loglevel: str = "INFO", python: str = sys.executable
) -> list[str]:
    """The command of worker ``number``: a Celery worker of one process, named apart."""
    return [
        python, "-m", "celery", "-A", "worker.app", "worker",
        "--pool", "solo", "--concurrency", "1",
        "--queues", queue,
        "--hostname", f"kq-{os.getpid()}-{number}@%h",
        "--loglevel", loglevel,
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip


@dataclass
class _Slot:
    number: int
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float = 0.0
    restarts: int = field(default=0)


class Supervisor:
    """Keeps one worker process running in each slot until told to stop."""

    def __init__(
        self,
        commands: Sequence[list[str]],
        env: dict[str, str],
        *,
        stop_grace_s: float,
        spawn: Callable[..., subprocess.Popen] = subprocess.Popen,
    ):
        self.slots = [_Slot(n, list(c)) for n, c in enumerate(commands)]
        self.env = {**env, SUPERVISED: "1"}
        self.stop_grace_s = stop_grace_s
        self.spawn = spawn
        self.stopping = False
        self.stop_requests = 0

    def _start(self, slot: _Slot) -> None:
        slot.process = self.spawn(slot.command, env=self.env)
        slot.started_at = time.monotonic()
        log.info("worker %d started: pid %d", slot.number, slot.process.pid)

    def _replace_exited(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.process is None:
                if now >= slot.restart_at:
                    self._start(slot)
                continue
            code = slot.process.poll()
            if code is None:
                continue
            pid, slot.process = slot.process.pid, None
            if now - slot.started_at < QUICK_EXIT_S:
                slot.quick_exits += 1
            else:
                slot.quick_exits = 0
            pause = (
                RESTART_PAUSES_S[min(slot.quick_exits, len(RESTART_PAUSES_S)) - 1]
                if slot.quick_exits
                else 0.0
            )
            why = "recycled" if code == 0 else f"died (exit {code})"
            log.warning(
                "worker %d (pid %d) %s; a new one starts%s",
                slot.number,
                pid,
                why,
                f" in {pause:.0f} s" if pause else "",
            )
            slot.restarts += 1
            slot.restart_at = now + pause
            if not pause:
                self._start(slot)

    def request_stop(self, *_) -> None:
        """First call: every worker stops warmly. Second: at once."""
        self.stop_requests += 1
        self.stopping = True
        sig = signal.SIGTERM if self.stop_requests == 1 else signal.SIGQUIT
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(sig)

    def running(self) -> list[int]:
        return [s.process.pid for s in self.slots if s.process and s.process.poll() is None]

    def run(self) -> int:
        """Start every worker and keep them running until SIGTERM or SIGINT; 0 once all have
        stopped."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.request_stop)
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            self._replace_exited()
            time.sleep(POLL_S)
        deadline = time.monotonic() + self.stop_grace_s
        while self.running() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                log.warning("worker %d did not stop in time: killed", slot.number)
                slot.process.kill()
                slot.process.wait()
        return 0


def run_supervisor(settings, env: dict[str, str], loglevel: str = "INFO") -> int:
    """``kokoro-queue worker`` in the processes mode: a worker process per slot."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(message)s")
    commands = [
        solo_worker_command(settings.queue, n, loglevel) for n in range(settings.worker_concurrency)
    ]
    # A warm stop waits for the chunks in hand: at most the task time limit
    supervisor = Supervisor(commands, env, stop_grace_s=settings.task_time_limit_s + 30)
    return supervisor.run()


if __name__ == "__main__":  # python -m worker.supervisor: what `kokoro-queue up` starts
    from infra.settings import get_settings

    raise SystemExit(run_supervisor(get_settings(), dict(os.environ)))
