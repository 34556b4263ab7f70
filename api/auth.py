"""Who is calling: API keys, the owner their jobs are stored under, and their limits."""

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.settings import Settings
from storage.api_keys import active_key, any_active_key
from storage.db import session_factory

ANONYMOUS = ""  # the owner of every job while the server has no keys
LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


@dataclass(frozen=True)
class Principal:
    owner: str
    name: str
    max_queued_jobs: int
    max_text_chars: int


def env_key_owner(key: str) -> str:
    # Stable across restarts and independent of the key's position in KQ_API_KEYS
    return "env:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


# Declares the scheme in OpenAPI; the checks below are ours, so missing credentials are not
# an automatic 403
bearer = HTTPBearer(auto_error=False, description="An API key, when the server has keys")


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    settings: Settings = request.app.state.settings
    env_keys = settings.env_api_keys
    header = request.headers.get("authorization")
    with session_factory(settings.sqlalchemy_url, readonly=True)() as session:
        if header is None:
            if env_keys or any_active_key(session):
                raise _unauthorized(
                    "this server needs an API key: send `Authorization: Bearer <key>`"
                )
            return Principal(
                ANONYMOUS, "anonymous", settings.max_queued_jobs_per_key, settings.max_text_chars
            )
        if credentials is None or not credentials.credentials:
            raise _unauthorized("the Authorization header must be `Bearer <key>`")
        key = credentials.credentials
        if key in env_keys:
            return Principal(
                env_key_owner(key),
                env_keys[key],
                settings.max_queued_jobs_per_key,
                settings.max_text_chars,
            )
        row = active_key(session, key)
    if row is None:
        raise _unauthorized("unknown or revoked API key")
    return Principal(
        row.id,
        row.name,
        row.max_queued_jobs or settings.max_queued_jobs_per_key,
        min(row.max_text_chars or settings.max_text_chars, settings.max_text_chars),
    )


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class UnsafeBind(RuntimeError):
    pass


def check_bind(settings: Settings, host: str, keys_in_database: bool) -> None:
    """Refuse to listen beyond loopback with no API keys, unless told explicitly."""
    if is_loopback(host) or settings.env_api_keys or keys_in_database:
        return
    if settings.allow_unauthenticated:
        return
    raise UnsafeBind(
        f"refusing to listen on {host} without API keys: anyone who can reach it could read "
        "and delete every job. Create a key (`kokoro-queue keys create NAME`) or set "
        "KQ_API_KEYS, or set KQ_ALLOW_UNAUTHENTICATED=true if something in front of the API "
        "authenticates clients."
    )
