"""Without API keys the API serves only clients on this machine, however it was started.

``kokoro-queue api --host 0.0.0.0`` refuses to start without keys, but ``uvicorn api.main:app
--host 0.0.0.0`` or a hand-started gunicorn do not go through the CLI; so the app itself turns
away every request from beyond loopback while no key is configured (KQ_API_KEYS or a key in the
database), unless ``KQ_ALLOW_UNAUTHENTICATED=true`` says something in front authenticates.
"""

import threading
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from api.asgi import send_json_error
from api.auth import is_loopback
from core.settings import Settings
from storage.api_keys import any_active_key
from storage.db import session_factory

KEYS_CHECK_TTL_S = 5.0  # a key created with `kokoro-queue keys create` counts within this

REFUSAL = (
    "this server has no API keys, so it serves only clients on its own machine (loopback). "
    "Create a key (`kokoro-queue keys create NAME`) or set KQ_API_KEYS, or set "
    "KQ_ALLOW_UNAUTHENTICATED=true if something in front of the API authenticates clients."
)


class LoopbackOnlyWithoutKeys:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self._keys_seen_at = -KEYS_CHECK_TTL_S
        self._keys = False
        self._lock = threading.Lock()

    def _keys_configured(self) -> bool:
        if self.settings.env_api_keys:
            return True
        now = time.monotonic()
        with self._lock:
            if now - self._keys_seen_at >= KEYS_CHECK_TTL_S:
                with session_factory(self.settings.sqlalchemy_url, readonly=True)() as session:
                    self._keys = any_active_key(session)
                self._keys_seen_at = now
            return self._keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.settings.allow_unauthenticated:
            return await self.app(scope, receive, send)
        client = scope.get("client")
        # No client address: a Unix socket, reachable only on this machine
        if client is None or is_loopback(client[0]) or self._keys_configured():
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await send_json_error(send, 403, REFUSAL)
