"""Job and chunk states, and the changes of a chunk's state that are allowed."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED_JOB_STATES


FINISHED_JOB_STATES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class ChunkStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    # A chunk of a cancelled job that will never run
    CANCELLED = "cancelled"


# What a chunk is stored as (storage.jobs.create_job): pending, or queued when it is one of the
# job's first chunks, whose tasks are sent at once; every state is reached from pending through
# the table below
INITIAL_CHUNK_STATE = ChunkStatus.PENDING
STORED_CHUNK_STATES = frozenset({ChunkStatus.PENDING, ChunkStatus.QUEUED})
FINAL_CHUNK_STATES = frozenset({ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.CANCELLED})

_P, _Q, _R = ChunkStatus.PENDING, ChunkStatus.QUEUED, ChunkStatus.RUNNING
_D, _F, _C = ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.CANCELLED

# Every change of a chunk's status, from -> the states it may go to. The one writer,
# storage.chunk_status.set_chunk_status, changes a chunk only from a state listed here for its
# target, in the UPDATE's own WHERE: a chunk another transaction moved meanwhile stays as it is.
CHUNK_TRANSITIONS: Mapping[ChunkStatus, frozenset[ChunkStatus]] = MappingProxyType(
    {
        # released to the queue (release_chunks); its job ended first (drop_unstarted_chunks)
        _P: frozenset({_Q, _C}),
        # a worker starts it (start_chunk), or its job ends first; sent again when its task was
        # lost (the reconciler). Done or failed: the worker of an earlier attempt, presumed
        # lost and the chunk sent again, finished it or gave up after all
        _Q: frozenset({_Q, _R, _D, _F, _C}),
        # finished; its attempt failed: queued for a retry, or failed on the last attempt;
        # queued again by the reconciler when its worker was lost. Running again: its task came
        # back after its worker died (a redelivery). Cancelled: its job ended while it ran, and
        # its task came back (start_chunk) or retried (retry_chunk) to find that
        _R: frozenset({_R, _Q, _D, _F, _C}),
        # Final: the fan-in counts a chunk on its one change to done (storage.jobs.finish_chunk)
        _D: frozenset(),
        # Final but for a late result: a worker that the reconciler took for lost (failed) or
        # that ran on after its job ended (cancelled) still finishes the chunk, and its audio
        # is recorded (and thrown away with its job's). Nothing else leaves a final state
        _F: frozenset({_D}),
        _C: frozenset({_D}),
    }
)


def chunk_predecessors(target: ChunkStatus) -> frozenset[ChunkStatus]:
    """The states a chunk may change to ``target`` from."""
    return frozenset(state for state, targets in CHUNK_TRANSITIONS.items() if target in targets)


def percent_done(chars_done: int, chars_total: int) -> float:
    """A job's (or batch's) progress by characters, 0 to 100; nothing to say is all said."""
    return 100.0 * chars_done / chars_total if chars_total else 100.0
