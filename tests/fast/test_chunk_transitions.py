"""The chunk state machine: core.jobs.states.CHUNK_TRANSITIONS is the whole of it.

Three holds on it: the table itself has no dead state; no module but storage/chunk_status.py
writes a chunk's status (read from the source); and every storage function that changes a
chunk's status, driven through the ways a chunk's life goes (including the late and duplicated
tasks of dead or presumed-dead workers), makes only changes the table lists, as a trigger on
the SQLite file records them. No broker, worker or model."""

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.jobs.states import (
    CHUNK_TRANSITIONS,
    FINAL_CHUNK_STATES,
    INITIAL_CHUNK_STATE,
    STORED_CHUNK_STATES,
    ChunkStatus,
    JobStatus,
    chunk_predecessors,
)
from storage.chunk_status import set_chunk_status
from storage.db import session_factory, transaction
from storage.job_end import ending_jobs
from storage.jobs import drop_unstarted_chunks, retry_chunk
from storage.models import Chunk
from tests.fast import test_job_states as states

# The job-state tests' database and helpers (store_job queues 2 chunks, the rest wait pending)
migrated, settings, effects = states.migrated, states.settings, states.effects

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "cli", "core", "infra", "storage", "worker")
WRITER = ROOT / "storage" / "chunk_status.py"
S = ChunkStatus


# The table


def reachable(start: ChunkStatus) -> set[ChunkStatus]:
    seen, todo = {start}, [start]
    while todo:
        for target in CHUNK_TRANSITIONS[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_table_names_every_state_and_only_states():
    assert set(CHUNK_TRANSITIONS) == set(ChunkStatus)
    assert all(targets <= set(ChunkStatus) for targets in CHUNK_TRANSITIONS.values())
    assert INITIAL_CHUNK_STATE in STORED_CHUNK_STATES


def test_every_state_is_reachable_from_the_initial_one():
    assert reachable(INITIAL_CHUNK_STATE) == set(ChunkStatus)


def test_every_state_that_is_not_final_can_reach_a_final_one():
    for state in set(ChunkStatus) - FINAL_CHUNK_STATES:
        assert reachable(state) & FINAL_CHUNK_STATES, state


def test_final_states_have_no_exit_but_the_documented_late_result():
    # Done is absorbing: the fan-in counts a chunk once, on its change to done
    assert CHUNK_TRANSITIONS[S.DONE] == frozenset()
    # A failed or cancelled chunk whose worker finishes after all is recorded done; nothing
    # else (no retry, no relabelling from one failure to another) leaves a final state
    for state in FINAL_CHUNK_STATES - {S.DONE}:
        assert CHUNK_TRANSITIONS[state] == {S.DONE}, state
    assert chunk_predecessors(S.PENDING) == frozenset()  # nothing goes back to waiting


# No writer but one: read from the source


def _update_of_chunks(call: ast.Call) -> bool:
    """Whether a ``.values(...)`` call builds on ``update(Chunk)`` or ``Chunk.__table__``."""
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while node is not None:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "update" and any("Chunk" in ast.unparse(arg) for arg in node.args):
                return True
            node = func.value if isinstance(func, ast.Attribute) else None
        elif isinstance(node, ast.Attribute):
            if ast.unparse(node).startswith("Chunk.__table__"):
                return True
            node = node.value
        else:
            return "chunk" in ast.unparse(node).lower()  # a table variable named for chunks
    return False


def _sets_status(call: ast.Call) -> bool:
    keys = [k for arg in call.args if isinstance(arg, ast.Dict) for k in arg.keys if k is not None]
    return any(keyword.arg == "status" for keyword in call.keywords) or any(
        ast.unparse(key) in ("'status'", "Chunk.status") for key in keys
    )


_RAW_UPDATE = re.compile(r"\bupdate\s+chunks\b[^;]*\bset\b[^;]*\bstatus\b", re.I | re.S)


def chunk_status_writes(source: str) -> list[str]:
    """What in ``source`` writes a chunk's status: an assignment to a chunk's ``.status`` (or
    of a ChunkStatus to any ``.status``), ``setattr(..., "status", ...)``, an UPDATE of chunks
    that sets status (Core, ORM, or SQL text)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets, value = [], None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                owner = ast.unparse(target.value).lower()
                if "chunk" in owner or "ChunkStatus" in ast.unparse(value or target):
                    found.append(ast.unparse(node))
        if isinstance(node, ast.Call):
            func = node.func
            values = isinstance(func, ast.Attribute) and func.attr == "values"
            if values and _update_of_chunks(node) and _sets_status(node):
                found.append(ast.unparse(node)[:120])
            named = getattr(func, "id", None) == "setattr" and len(node.args) > 1
            if named and ast.unparse(node.args[1]) == "'status'":
                found.append(ast.unparse(node))
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and _RAW_UPDATE.search(node.value):
            found.append(node.value[:120])
    return found


@pytest.mark.parametrize(
    "source",
    [
        "chunk.status = ChunkStatus.FAILED",
        "row.status = ChunkStatus.QUEUED",
        "setattr(chunk, 'status', 'done')",
        "session.execute(update(Chunk).where(Chunk.id == 1).values(status=ChunkStatus.DONE))",
        "update(Chunk).values({Chunk.status: 'done'})",
        "Chunk.__table__.update().where(x).values(status='queued')",
        "session.execute(text('UPDATE chunks SET error = NULL, status = :s WHERE id = :i'))",
    ],
)
def test_the_source_reader_sees_each_way_of_writing_a_chunk_status(source):
    assert chunk_status_writes(source)


@pytest.mark.parametrize(
    "source",
    [
        "job.status = JobStatus.CANCELLED",
        "session.execute(update(Job).values(status=JobStatus.RUNNING))",
        "session.execute(update(Chunk).where(Chunk.id == 1).values(done_seq=3))",
        "select(Chunk).where(Chunk.status == ChunkStatus.DONE)",
        "part.status = PART_DONE",
    ],
)
def test_the_source_reader_leaves_other_writes_alone(source):
    assert chunk_status_writes(source) == []


def test_no_module_but_the_one_writer_writes_a_chunk_status():
    writes = {
        str(path.relative_to(ROOT)): found
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != WRITER and (found := chunk_status_writes(path.read_text(encoding="utf-8")))
    }
    assert writes == {}, "write chunk statuses through storage.chunk_status.set_chunk_status"
    assert chunk_status_writes(WRITER.read_text(encoding="utf-8"))  # the reader reads it


def test_the_writer_refuses_a_source_state_the_table_does_not_allow(settings):
    with transaction(settings.sqlalchemy_url) as session, pytest.raises(ValueError) as refused:
        set_chunk_status(session, S.QUEUED, Chunk.id == 1, only_from=(S.DONE,))
    assert "CHUNK_TRANSITIONS" in str(refused.value)


# Every change the storage functions make


@pytest.fixture
def changes(settings):
    """The (from, to) of every status a chunk is stored with or changed to, recorded by
    triggers on the test's database file (from None: the chunk was stored)."""
    with transaction(settings.sqlalchemy_url) as session:
        for statement in (
            "CREATE TABLE chunk_status_changes (id INTEGER PRIMARY KEY, before TEXT, after TEXT)",
            "CREATE TRIGGER chunk_stored AFTER INSERT ON chunks BEGIN "
            "INSERT INTO chunk_status_changes (before, after) VALUES (NULL, NEW.status); END",
            "CREATE TRIGGER chunk_status_changed AFTER UPDATE OF status ON chunks BEGIN "
            "INSERT INTO chunk_status_changes (before, after) VALUES (OLD.status, NEW.status); "
            "END",
        ):
            session.execute(text(statement))

    def recorded() -> set[tuple[str | None, str]]:
        with session_factory(settings.sqlalchemy_url)() as session:
            return set(session.execute(text("SELECT before, after FROM chunk_status_changes")))

    return recorded


def status_of(settings, chunk_id: int) -> ChunkStatus:
    with session_factory(settings.sqlalchemy_url)() as session:
        return session.scalar(select(Chunk.status).where(Chunk.id == chunk_id))


def retry(settings, chunk_id: int, job_id: str, error: str = "RuntimeError: onnx") -> None:
    with transaction(settings.sqlalchemy_url) as session:
        retry_chunk(session, chunk_id, job_id, error)


def fail_chunk(settings, effects, chunk_id: int, job_id: str) -> bool:
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        return ends.fail_chunk(chunk_id, job_id, "RuntimeError: onnx")


def cancel(settings, effects, job_id: str) -> None:
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        assert ends.cancel(job_id, "")[1]


def lost(settings, effects, job_id: str, **policy):
    """The reconciler, the job's clocks moved back so that its chunks count as lost."""
    states.age(settings, job_id)
    return states.reconcile(settings, effects, **policy)


def a_life_of_retries_and_a_last_failure(settings, effects):
    job, ((first, _), (second, _)) = states.store_job(settings)
    states.release(settings, job.id, 1)
    states.start(settings, first)
    retry(settings, first, job.id)
    states.start(settings, first)
    assert states.finish(settings, first).first_time
    states.start(settings, second)
    assert fail_chunk(settings, effects, second, job.id)
    assert set(states.statuses(settings, job.id)) == {S.DONE, S.FAILED, S.CANCELLED}


def a_cancel_while_a_chunk_runs_and_its_task_comes_back(settings, effects):
    job, ((running, _), (waiting, _)) = states.store_job(settings)
    states.start(settings, running)
    cancel(settings, effects, job.id)
    assert status_of(settings, waiting) == S.CANCELLED
    assert states.start(settings, running) is None  # the redelivered task: running -> cancelled
    assert status_of(settings, running) == S.CANCELLED
    assert states.finish(settings, running).first_time  # the first worker was alive after all
    assert status_of(settings, running) == S.DONE


def a_retry_after_the_job_ended(settings, effects):
    job, ((running, _), _) = states.store_job(settings)
    states.start(settings, running)
    cancel(settings, effects, job.id)
    retry(settings, running, job.id)
    assert status_of(settings, running) == S.CANCELLED


def a_redelivered_task_while_its_job_runs(settings):
    job, ((running, _), _) = states.store_job(settings)
    assert states.start(settings, running).attempt == 1
    assert states.start(settings, running).attempt == 2  # its worker died: it starts again
    assert states.finish(settings, running).first_time


def lost_chunks_sent_again_whose_first_workers_finish_or_fail(settings, effects):
    job, ((running, _), (waiting, _)) = states.store_job(settings)
    states.start(settings, running)
    result = lost(settings, effects, job.id)  # running -> queued, and queued -> queued
    assert {c.chunk_id for c in result.chunks} == {running, waiting}
    assert states.finish(settings, running).first_time  # queued -> done: it was not lost
    assert fail_chunk(settings, effects, waiting, job.id)  # queued -> failed, likewise


def a_job_the_reconciler_gives_up_whose_worker_was_alive(settings, effects):
    job, ((running, _), _) = states.store_job(settings)
    states.start(settings, running)
    assert job.id in lost(settings, effects, job.id, max_requeues=0).failed_jobs
    assert status_of(settings, running) == S.FAILED  # running -> failed: "its worker was lost"
    # Its worker was alive: its attempt fails and would retry, then its last attempt fails.
    # Neither relabels the failed chunk
    retry(settings, running, job.id)
    assert not fail_chunk(settings, effects, running, job.id)
    assert status_of(settings, running) == S.FAILED
    assert states.finish(settings, running).first_time  # a late result: failed -> done
    assert states.job_row(settings, job.id).status == JobStatus.FAILED


def a_chunk_cancelled_while_running_whose_last_attempt_fails(settings, effects):
    job, ((running, _), _) = states.store_job(settings)
    states.start(settings, running)
    cancel(settings, effects, job.id)
    assert states.start(settings, running) is None  # running -> cancelled
    assert not fail_chunk(settings, effects, running, job.id)
    assert status_of(settings, running) == S.CANCELLED


def every_chunk_of_a_job_dropped(settings):
    job, _ = states.store_job(settings)
    with transaction(settings.sqlalchemy_url) as session:
        drop_unstarted_chunks(session, job.id)
    assert set(states.statuses(settings, job.id)) == {S.CANCELLED}


def test_the_storage_functions_make_every_change_of_the_table_and_no_other(
    settings, effects, changes
):
    a_life_of_retries_and_a_last_failure(settings, effects)
    a_cancel_while_a_chunk_runs_and_its_task_comes_back(settings, effects)
    a_retry_after_the_job_ended(settings, effects)
    a_redelivered_task_while_its_job_runs(settings)
    lost_chunks_sent_again_whose_first_workers_finish_or_fail(settings, effects)
    a_job_the_reconciler_gives_up_whose_worker_was_alive(settings, effects)
    a_chunk_cancelled_while_running_whose_last_attempt_fails(settings, effects)
    every_chunk_of_a_job_dropped(settings)

    observed = changes()
    stored = {after for before, after in observed if before is None}
    made = {(before, after) for before, after in observed if before is not None}
    allowed = {
        (before, after) for before, targets in CHUNK_TRANSITIONS.items() for after in targets
    }
    assert stored == STORED_CHUNK_STATES
    assert made - allowed == set(), "changes the table does not allow"
    assert allowed - made == set(), "the table allows changes no storage function makes"


def test_a_chunk_another_transaction_finished_is_not_sent_back(settings):
    """The guard is in the UPDATE: a chunk read as running that is done by the time the write
    comes (a finish committed in between, on PostgreSQL) stays done and is counted once."""
    job, ((chunk_id, _), _) = states.store_job(settings)
    states.start(settings, chunk_id)
    assert states.finish(settings, chunk_id).first_time
    with transaction(settings.sqlalchemy_url) as session:
        moved = set_chunk_status(
            session, S.QUEUED, Chunk.id == chunk_id, only_from=(S.RUNNING,), returning=(Chunk.id,)
        ).all()
    assert moved == []
    assert status_of(settings, chunk_id) == S.DONE
    assert states.job_row(settings, job.id).chunks_done == 1
