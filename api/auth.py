"""Who is calling: API keys, the owner their jobs are stored under, and their limits."""

import hashlib
import ipaddress
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import unauthorized
from infra.settings import Settings
from storage.api_keys import active_key, any_active_key
from storage.db import session_factory
from storage.models import ApiKey

ANONYMOUS = ""  # the owner of every job while the server has no keys
LOOPBACK_NAMES = {"localhost", "ip6-localhost"}
# How long "no key in the database" holds: a key created with `kokoro-queue keys create` on a
# keyless server is required from at most this long after
KEYS_CHECK_TTL_S = 1.0


@dataclass(frozen=True)
class Principal:
    owner: str
    name: str
    max_queued_jobs: int
    max_text_chars: int


def env_key_owner(key: str) -> str:
    # Stable across restarts and independent of the key's position in KQ_API_KEYS
    return "env:" + hashlib.sha256(key.encode()).hexdigest()[:24]


# Declares the scheme in OpenAPI; the checks below are ours, so missing credentials are not
# an automatic 403
bearer = HTTPBearer(auto_error=False, description="An API key, when the server has keys")


class KeysInDatabase:
    """Whether the database holds an active API key, read at most once a ``KEYS_CHECK_TTL_S``:
    a keyless server asks it on every request, which would otherwise cost a query and a
    thread each. A key sent with a request is always looked up afresh (a revoked key fails at
    once); only the first key created on a keyless server takes up to the TTL to count."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._answer = False
        self._read_at = -KEYS_CHECK_TTL_S

    def _read(self) -> bool:
        with session_factory(self.database_url, readonly=True)() as session:
            return any_active_key(session)

    async def any_active(self) -> bool:
        now = time.monotonic()
        if now - self._read_at >= KEYS_CHECK_TTL_S:
            self._answer = await run_in_threadpool(self._read)
            self._read_at = now
        return self._answer


def _key_row(database_url: str, key: str) -> ApiKey | None:
    with session_factory(database_url, readonly=True)() as session:
        return active_key(session, key)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's key. A server without keys serves everyone as one anonymous client and
    ignores any key sent (clients such as OpenAI's SDK always send one). Async: the usual
    keyless request reads no database and needs no thread; a key sent is looked up in one."""
    settings: Settings = request.app.state.settings
    env_keys = settings.env_api_keys
    key = credentials.credentials if credentials is not None else None
    if key and key in env_keys:
        return Principal(
            env_key_owner(key),
            env_keys[key],
            settings.max_queued_jobs_per_key,
            settings.max_text_chars,
        )
    row = await run_in_threadpool(_key_row, settings.sqlalchemy_url, key) if key else None
    if row is not None:
        return Principal(
            row.id,
            row.name,
            row.max_queued_jobs or settings.max_queued_jobs_per_key,
            min(row.max_text_chars or settings.max_text_chars, settings.max_text_chars),
        )
    if not env_keys and not await request.app.state.keys_in_database.any_active():
        return Principal(
            ANONYMOUS, "anonymous", settings.max_queued_jobs_per_key, settings.max_text_chars
        )
    if request.headers.get("authorization") is None:
        raise unauthorized("this server needs an API key: send `Authorization: Bearer <key>`")
    if not key:
        raise unauthorized("the Authorization header must be `Bearer <key>`")
    raise unauthorized("unknown or revoked API key")


def is_loopback(host: str) -> bool:
    """Whether a client address (as the ASGI server gives it: the peer, or with uvicorn's proxy
    headers the client its trusted proxy names in X-Forwarded-For) is this machine's."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # A dual-stack socket (listening on "::") gives IPv4 peers as ::ffff:a.b.c.d
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


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
