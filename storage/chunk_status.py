"""The one writer of a chunk's status: every change goes through ``set_chunk_status``.

The changes allowed are core.jobs.states.CHUNK_TRANSITIONS. The allowed source states are part of
the UPDATE's own WHERE, not a check on a row read earlier: PostgreSQL re-reads a row it waited
for the lock of, so a chunk that another transaction moved meanwhile (finished by a duplicate
task, say) stays as it is instead of being moved along a change the table does not allow.
"""

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Result, update
from sqlalchemy.orm import Session

from core.jobs.states import ChunkStatus, chunk_predecessors
from storage.models import Chunk


def set_chunk_status(
    session: Session,
    target: ChunkStatus,
    *where: ColumnElement[bool],
    only_from: Collection[ChunkStatus] | None = None,
    values: Mapping[str, Any] | None = None,
    returning: tuple = (),
) -> Result:
    """Change the chunks that match ``where`` to ``target``, with ``values`` for their other
    columns, each only if its status is one the table allows to change to ``target`` (narrowed
    to ``only_from`` when given). The chunks changed are the result's rows of ``returning``
    (columns of Chunk); a chunk in any other state is left as it is.

    Raises ValueError for a call the table forbids (a ``only_from`` state that may not change to
    ``target``): a mistake in the calling code, not in its data."""
    allowed = chunk_predecessors(target)
    if only_from is not None:
        forbidden = set(only_from) - allowed
        if forbidden:
            raise ValueError(
                f"{', '.join(sorted(forbidden))} -> {target}: not a change that "
                "core.jobs.states.CHUNK_TRANSITIONS allows"
            )
        allowed = frozenset(only_from)
    columns = dict(values or {})
    if "status" in columns:
        raise ValueError("the status is the target argument, not one of the values")
    statement = (
        update(Chunk)
        .where(*where, Chunk.status.in_(sorted(allowed)))
        .values(status=target, **columns)
        # The session's loaded chunks get the new values of the rows the database changed
        .execution_options(synchronize_session="fetch")
    )
    if returning:
        statement = statement.returning(*returning)
    return session.execute(statement)
