"""A worker that dies whole: its delivered messages stay unacknowledged in Redis until the
visibility timeout, so the reconcile policy goes by the heartbeats of the processes that started
its chunks (worker/heartbeat.py). On a SQLite file through the storage functions, as
test_job_states.py's reconcile tests; the heartbeat's keys in a stand-in for Redis."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.jobs.states import ChunkStatus, JobStatus
from infra.queue import TasksSeen
from storage.db import session_factory
from storage.models import Chunk
from storage.reconcile import Deliveries
from tests.fast import test_job_states as states
from worker import heartbeat
from worker.heartbeat import (
    Heartbeat,
    check_heartbeat_settings,
    live_processes,
    tasks_held_by_live_workers,
)

# The job-state tests' database and helpers: start() runs a chunk as process 1 of "test-host"
migrated, settings, effects = states.migrated, states.settings, states.effects
WORKER = ("test-host", 1)
DEAD_AFTER_S = 60


def delivered(chunk_ids=(), assembly_job_ids=(), live=None) -> Deliveries:
    return Deliveries(
        chunk_ids=set(chunk_ids),
        assembly_job_ids=set(assembly_job_ids),
        live_processes=live or {},
        dead_after_s=DEAD_AFTER_S,
    )


def started_at(settings, chunk_id: int) -> datetime:
    with session_factory(settings.sqlalchemy_url)() as session:
        return session.scalar(select(Chunk.started_at).where(Chunk.id == chunk_id))


def a_running_chunk(settings, minutes_ago: float = 120):
    """A job whose first chunk runs on WORKER since ``minutes_ago``, and whose second waits
    in the broker's queue; (job, running chunk id, waiting chunk id)."""
    job, released = states.store_job(settings)
    (running, _), (waiting, _) = released
    states.start(settings, running)
    states.age(settings, job.id, hours=minutes_ago / 60)
    return job, running, waiting


def test_a_running_chunk_whose_worker_stopped_beating_is_sent_again_though_unacked(
    settings, effects
):
    job, running, waiting = a_running_chunk(settings)
    # Before heartbeats, the unacknowledged message held it until the visibility timeout
    assert states.reconcile(settings, effects, held={running, waiting}.__contains__).chunks == []
    result = states.reconcile(
        settings, effects, held={waiting}.__contains__, delivered=delivered([running])
    )
    assert [c.chunk_id for c in result.chunks] == [running]
    row = states.chunks_of(settings, job.id)[0]
    assert (row.status, row.requeues) == (ChunkStatus.QUEUED, 1)


def test_a_running_chunk_whose_worker_beats_is_left_alone(settings, effects):
    job, running, waiting = a_running_chunk(settings)
    alive_since = started_at(settings, running) - timedelta(hours=1)
    result = states.reconcile(
        settings,
        effects,
        held={waiting}.__contains__,
        delivered=delivered([running], live={WORKER: alive_since}),
    )
    assert result.chunks == [] and result.failed_jobs == {}
    assert states.statuses(settings, job.id)[0] == ChunkStatus.RUNNING


def test_a_worker_restarted_with_the_same_host_and_pid_is_not_the_one_that_died(settings, effects):
    """A container restarted by its restart policy keeps its host name and its pids."""
    job, running, waiting = a_running_chunk(settings)
    restarted_at = started_at(settings, running) + timedelta(minutes=5)
    result = states.reconcile(
        settings,
        effects,
        held={waiting}.__contains__,
        delivered=delivered([running], live={WORKER: restarted_at}),
    )
    assert [c.chunk_id for c in result.chunks] == [running]


def test_a_chunk_started_within_the_dead_after_time_waits_for_its_heartbeat(settings, effects):
    """A new pool child's first heartbeat may not be written yet."""
    job, running, waiting = a_running_chunk(settings, minutes_ago=0.5)
    rules = {"held": {waiting}.__contains__, "grace_s": 0}
    assert states.reconcile(settings, effects, **rules, delivered=delivered([running])).chunks == []
    states.age(settings, job.id, hours=(DEAD_AFTER_S + 1) / 3600)
    result = states.reconcile(settings, effects, **rules, delivered=delivered([running]))
    assert [c.chunk_id for c in result.chunks] == [running]


def test_a_queued_chunk_reserved_by_a_dead_worker_is_sent_again(settings, effects):
    """Delivered, never started, and no live worker reports it (reported ones are ``held``)."""
    job, released = states.store_job(settings)
    reserved = [chunk_id for chunk_id, _ in released]
    rules = {"grace_s": 0, "delivered": delivered(reserved)}
    states.age(settings, job.id, hours=0.5 / 60)
    assert states.reconcile(settings, effects, **rules).chunks == []
    states.age(settings, job.id, hours=(DEAD_AFTER_S + 1) / 3600)
    assert sorted(c.chunk_id for c in states.reconcile(settings, effects, **rules).chunks) == (
        sorted(reserved)
    )


def test_an_assembly_held_by_a_dead_worker_is_sent_again(settings, effects):
    job, _ = states.store_job(settings)
    total = states.job_row(settings, job.id).chunks_total
    states.run_every_chunk(settings, job.id, list(range(total)), set())
    rules = {"grace_s": 0, "delivered": delivered(assembly_job_ids=[job.id])}
    assert states.reconcile(settings, effects, **rules).assemblies == []  # just finished
    states.age(settings, job.id, hours=(DEAD_AFTER_S + 1) / 3600)
    assert states.reconcile(settings, effects, **rules).assemblies == [job.id]


def test_a_chunk_sent_again_and_then_finished_twice_counts_once(settings, effects):
    """The dead worker's run may still finish late (a worker frozen, not dead, or its message
    given back after the visibility timeout): the chunk counts once, and the job completes
    once. Its audio goes to the same key both times (storage/blob_store.py's chunk_key)."""
    job, running, waiting = a_running_chunk(settings)
    resent = states.reconcile(
        settings, effects, held={waiting}.__contains__, delivered=delivered([running])
    )
    assert [c.chunk_id for c in resent.chunks] == [running]
    assert states.start(settings, running).attempt == 2  # another worker takes it
    again = states.finish(settings, running)
    late = states.finish(settings, running)  # the first run, finishing after all
    assert again.first_time and not late.first_time and not late.completes_job
    total = states.job_row(settings, job.id).chunks_total
    rest = states.run_every_chunk(settings, job.id, list(range(1, total)), set())
    assert sum(r.completes_job for _, r in rest) == 1
    stored = states.job_row(settings, job.id)
    assert stored.chunks_done == total and stored.chars_done == stored.chars_total
    assert stored.status == JobStatus.RUNNING  # its assembly ends it


class FakeRedis:
    """The few Redis commands the heartbeat uses, on a dict; expiry is not modelled."""

    def __init__(self):
        self.values: dict[bytes, bytes] = {}

    def pipeline(self, transaction=True):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def set(self, key, value, px=None):
        self.values[key.encode()] = value.encode()

    def execute(self):
        return []

    def scan_iter(self, match, count=None):
        prefix = match.removesuffix("*").replace("\\", "")
        return [key for key in self.values if key.decode().startswith(prefix)]

    def mget(self, keys):
        return [self.values.get(key) for key in keys]

    def delete(self, *keys):
        for key in keys:
            self.values.pop(key.encode(), None)


@pytest.fixture
def fake_redis(monkeypatch):
    fake = FakeRedis()
    monkeypatch.setattr(heartbeat.redis.Redis, "from_url", lambda *_a, **_k: fake)
    return fake


def test_heartbeats_name_each_process_and_since_when_it_is_known(settings, fake_redis, monkeypatch):
    settings = settings.model_copy(update={"worker_host": "box:7", "queue": "kq-heartbeat"})
    monkeypatch.setattr(heartbeat.os, "getpid", lambda: 100)
    monkeypatch.setattr(heartbeat, "PROCESS_STARTED", 1_000.0)
    clock = iter([1_005.0, 1_010.0])
    monkeypatch.setattr(heartbeat.time, "time", lambda: next(clock))
    children = [[101]]
    beats = Heartbeat(settings, lambda: children[-1])
    beats.beat()  # at 1005: the main process since its start, its child since then too
    children.append([101, 102])
    beats.beat()  # at 1010: a child first seen now started after the previous beat (1005)
    at = datetime.fromtimestamp
    assert live_processes(settings) == {
        ("box:7", 100): at(1_000.0, UTC),
        ("box:7", 101): at(1_000.0, UTC),
        ("box:7", 102): at(1_005.0, UTC),
    }
    beats.forget()
    assert live_processes(settings) == {}


def test_heartbeat_settings_that_would_make_live_workers_look_dead_are_refused(settings):
    check_heartbeat_settings(settings)  # the defaults: 5 s beats, dead after 60 s
    too_short = settings.model_copy(update={"worker_heartbeat_s": 30.0})
    with pytest.raises(ValueError, match="raise KQ_WORKER_DEAD_AFTER_S or lower"):
        check_heartbeat_settings(too_short)


def test_a_queued_chunk_a_worker_took_lately_is_held_though_sent_long_ago(settings, effects):
    """A worker of one process, busy with one chunk, holds the next reserved and cannot answer
    the broadcast: until its heartbeat lists it, the delivery time keeps it."""
    job, released = states.store_job(settings)
    reserved = [chunk_id for chunk_id, _ in released]
    states.age(settings, job.id, hours=(DEAD_AFTER_S + 1) / 3600)  # sent long ago
    just_now = datetime.now(UTC)
    lately = Deliveries(
        chunk_ids=set(reserved),
        assembly_job_ids=set(),
        live_processes={},
        dead_after_s=DEAD_AFTER_S,
        chunk_delivered_at={chunk_id: just_now for chunk_id in reserved},
    )
    assert states.reconcile(settings, effects, grace_s=0, delivered=lately).chunks == []
    long_ago = Deliveries(
        chunk_ids=set(reserved),
        assembly_job_ids=set(),
        live_processes={},
        dead_after_s=DEAD_AFTER_S,
        chunk_delivered_at={c: just_now - timedelta(seconds=DEAD_AFTER_S + 1) for c in reserved},
    )
    resent = states.reconcile(settings, effects, grace_s=0, delivered=long_ago).chunks
    assert sorted(c.chunk_id for c in resent) == sorted(reserved)


def test_a_heartbeat_lists_what_its_worker_runs_and_holds_reserved(settings, fake_redis):
    settings = settings.model_copy(update={"worker_host": "box:7", "queue": "kq-holding"})
    holding = [TasksSeen({11, 12}, {"job-a"})]
    beats = Heartbeat(settings, lambda: [], lambda: holding[-1])
    beats.beat()
    held = tasks_held_by_live_workers(settings)
    assert (held.chunk_ids, held.assembling_job_ids) == ({11, 12}, {"job-a"})
    holding.append(TasksSeen({13}, set()))
    beats.beat()
    assert tasks_held_by_live_workers(settings).chunk_ids == {13}
    beats.forget()
    assert tasks_held_by_live_workers(settings).chunk_ids == set()


def test_a_chunk_sent_while_the_broker_was_being_asked_is_not_lost(settings, effects):
    """The broker and workers are asked first (a busy worker's silence costs the broadcast its
    whole timeout); a chunk sent meanwhile is in none of their answers, and is young counted
    from when they were asked, however long the asking took."""
    job, released = states.store_job(settings)
    states.age(settings, job.id, hours=10 / 3600)  # sent 10 s ago
    asked_at = datetime.now(UTC) - timedelta(seconds=12)  # asking began 12 s ago
    assert states.reconcile(settings, effects, grace_s=3, held_as_of=asked_at).chunks == []
    resent = states.reconcile(settings, effects, grace_s=3).chunks  # asked just now
    assert sorted(c.chunk_id for c in resent) == sorted(c for c, _ in released)
