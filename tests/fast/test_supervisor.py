"""The supervisor of one-process workers, with tiny stand-in programs for the workers: exited
ones are replaced (at once when recycled, after a growing pause when they keep dying), a stop
is forwarded warm then cold, and a supervised worker knows when to recycle itself."""

import signal
import subprocess
import sys
import threading
import time

import pytest

from worker.app import recycle_reason
from worker.supervisor import SUPERVISED, Supervisor, solo_worker_command

pytestmark = pytest.mark.fast

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
QUICK_EXIT = [sys.executable, "-c", "raise SystemExit(3)"]
# Stops at SIGTERM only after a moment, as a worker finishing its chunk does; says so
WARM = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "def stop(*_):\n"
    "    time.sleep(0.3); print('finished its chunk', flush=True); sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    # As Celery does: a shell that started the tests in the background leaves SIGQUIT ignored
    "signal.signal(signal.SIGQUIT, signal.SIG_DFL)\n"
    "time.sleep(60)",
]


def supervise(commands, **kwargs) -> tuple[Supervisor, threading.Thread]:
    spawned = []

    def spawn(command, **options):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, **options)
        spawned.append(process)
        return process

    supervisor = Supervisor(commands, {}, stop_grace_s=10, spawn=spawn, **kwargs)
    supervisor.spawned = spawned
    thread = threading.Thread(target=supervisor_loop, args=(supervisor,), daemon=True)
    thread.start()
    return supervisor, thread


def supervisor_loop(supervisor: Supervisor) -> None:
    # Supervisor.run less its signal handlers (only the main thread may install them)
    for slot in supervisor.slots:
        supervisor._start(slot)
    while not supervisor.stopping:
        supervisor._replace_exited()
        time.sleep(0.05)
    while supervisor.running():
        time.sleep(0.05)


def wait(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_each_worker_gets_the_supervised_flag_and_its_own_name():
    supervisor = Supervisor([solo_worker_command("q", n) for n in range(2)], {}, stop_grace_s=1)
    assert supervisor.env[SUPERVISED] == "1"
    names = [c[c.index("--hostname") + 1] for c in (s.command for s in supervisor.slots)]
    assert len(set(names)) == 2
    assert all(
        "--pool" in c and c[c.index("--pool") + 1] == "solo"
        for c in (s.command for s in supervisor.slots)
    )


def test_a_recycled_worker_is_replaced_at_once():
    supervisor, thread = supervise([SLEEPER, SLEEPER])
    first = wait(lambda: len(supervisor.running()) == 2 and supervisor.running())
    victim = supervisor.slots[0].process
    victim.terminate()  # exits; the supervisor starts another in its place
    wait(lambda: supervisor.slots[0].restarts == 1 and len(supervisor.running()) == 2)
    assert supervisor.running()[0] not in first and supervisor.running()[1] == first[1]
    supervisor.request_stop()
    thread.join(10)
    assert supervisor.running() == []


def test_a_worker_that_keeps_dying_is_restarted_after_a_growing_pause():
    supervisor, thread = supervise([QUICK_EXIT])
    wait(lambda: supervisor.slots[0].restarts >= 2)
    slot = supervisor.slots[0]
    assert slot.quick_exits >= 2 and slot.restart_at > time.monotonic()
    starts = len(supervisor.spawned)
    time.sleep(0.5)
    assert len(supervisor.spawned) == starts, "restarted while it should pause"
    supervisor.request_stop()
    thread.join(10)


def test_a_stop_is_warm_first_and_cold_the_second_time():
    supervisor, thread = supervise([WARM])
    wait(lambda: supervisor.running())
    time.sleep(0.3)  # the stand-in has installed its handler
    supervisor.request_stop()
    thread.join(10)
    assert not thread.is_alive()
    assert supervisor.spawned[0].stdout.read().strip() == "finished its chunk"

    supervisor, thread = supervise([WARM])
    wait(lambda: supervisor.running())
    time.sleep(0.3)
    supervisor.request_stop()
    supervisor.request_stop()  # impatient: SIGQUIT, no chunk finished
    thread.join(10)
    assert supervisor.spawned[0].returncode == -signal.SIGQUIT


@pytest.mark.parametrize(
    ("tasks", "rss_mb", "reason"),
    [
        (1, 100.0, None),
        (2000, 100.0, "ran 2000 tasks"),
        (5, 1600.0, "uses 1600 MB"),
    ],
)
def test_a_supervised_worker_recycles_itself_past_either_limit(tasks, rss_mb, reason):
    found = recycle_reason(tasks, rss_mb, max_tasks=2000, max_rss_mb=1500)
    assert (found is None) if reason is None else (reason in found)
