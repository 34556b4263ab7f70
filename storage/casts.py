"""Casts saved by name (PUT /v1/casts/{name}): each key's own, for the books of a series."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.models import SavedCast

# Saved casts a key may keep
MAX_SAVED_CASTS = 200


class TooManyCasts(ValueError):
    """A new cast past MAX_SAVED_CASTS for its key."""


def save_cast(session: Session, owner: str, name: str, voices: dict) -> tuple[SavedCast, bool]:
    """Store ``voices`` as ``name`` (replacing one of that name); the row and whether it is
    new. TooManyCasts for a new one past MAX_SAVED_CASTS."""
    row = session.get(SavedCast, (owner, name))
    now = utcnow()
    if row is not None:
        row.voices, row.updated_at = voices, now
        return row, False
    kept = session.scalars(select(SavedCast.name).where(SavedCast.owner == owner)).all()
    if len(kept) >= MAX_SAVED_CASTS:
        raise TooManyCasts(f"a key keeps at most {MAX_SAVED_CASTS} casts: delete one first")
    row = SavedCast(owner=owner, name=name, voices=voices, created_at=now, updated_at=now)
    session.add(row)
    return row, True


def saved_cast(session: Session, owner: str, name: str) -> SavedCast | None:
    return session.get(SavedCast, (owner, name))


def saved_casts(session: Session, owner: str) -> list[SavedCast]:
    return list(
        session.scalars(select(SavedCast).where(SavedCast.owner == owner).order_by(SavedCast.name))
    )


def delete_cast(session: Session, owner: str, name: str) -> bool:
    row = session.get(SavedCast, (owner, name))
    if row is None:
        return False
    session.delete(row)
    return True
