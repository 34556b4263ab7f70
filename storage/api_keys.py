"""API keys kept in the database (``kokoro-queue keys ...``), stored only as hashes."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.models import ApiKey

KEY_PREFIX = "kq_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    key: str  # shown once; only its hash is stored


def create_key(
    session: Session,
    name: str,
    *,
    max_queued_jobs: int | None = None,
    max_text_chars: int | None = None,
) -> CreatedKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        id=uuid.uuid4().hex,
        name=name,
        key_hash=hash_key(key),
        prefix=key[:10],
        max_queued_jobs=max_queued_jobs,
        max_text_chars=max_text_chars,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return CreatedKey(row, key)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def key_by_id_or_prefix(session: Session, id_or_prefix: str) -> ApiKey | None:
    """The key with this id, or the one key whose shown prefix this is; None when there is no
    such one key (a prefix two keys share names neither)."""
    matches = list(
        session.scalars(
            select(ApiKey).where((ApiKey.id == id_or_prefix) | (ApiKey.prefix == id_or_prefix))
        )
    )
    return matches[0] if len(matches) == 1 else None


def revoke_key(session: Session, id_or_prefix: str) -> ApiKey | None:
    """Revoke the key with this id, or the one key whose shown prefix this is."""
    key = key_by_id_or_prefix(session, id_or_prefix)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def active_key(session: Session, key: str) -> ApiKey | None:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    return row if row is not None and row.revoked_at is None else None


def any_active_key(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(ApiKey.revoked_at.is_(None)))))
