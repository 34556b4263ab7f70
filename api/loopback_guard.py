"""Without API keys the API serves only clients on this machine, however it was started.

``kokoro-queue api --host 0.0.0.0`` refuses to start without keys, but ``uvicorn api.main:app
--host 0.0.0.0`` or a hand-started gunicorn do not go through the CLI; so the app itself turns
away every request from beyond loopback while no key is configured (KQ_API_KEYS or a key in the
database), unless ``KQ_ALLOW_UNAUTHENTICATED=true`` says something in front authenticates.

A loopback address alone does not make a request this machine's user's own, since the browser
they use runs here too. So, still without keys, it also refuses:

- a Host that is not a loopback name, the host it listens on or a name of KQ_ALLOWED_HOSTS: a
  page of another site that had its own name resolve to 127.0.0.1 (DNS rebinding) would read
  and delete every job as its own origin;
- a request another site's page sends (Origin not one of those hosts, or
  ``Sec-Fetch-Site: cross-site`` other than a link followed to a page): forms and fetches of
  any page reach 127.0.0.1 and would submit or cancel;
- a request a proxy forwards (Forwarded, X-Forwarded-*, X-Real-IP, Via) unless it names the
  client and every client it names is on loopback: behind a proxy on this machine every client
  is a loopback peer, and "a proxy for someone it does not name" is exactly the case that
  cannot be told apart from the world (docs/deployment.md, "Behind a reverse proxy").

With keys none of this applies: a browser never sends a key by itself, so a request with one
was meant by whoever holds it, wherever it comes from.
"""

import ipaddress
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import is_loopback
from api.errors import error_response
from infra.settings import Settings

REFUSAL = (
    "this server has no API keys, so it serves only clients on its own machine (loopback). "
    "Create a key (`kokoro-queue keys create NAME`) or set KQ_API_KEYS, or set "
    "KQ_ALLOW_UNAUTHENTICATED=true if something in front of the API authenticates clients."
)
_KEYS_OR = "or create a key (`kokoro-queue keys create NAME`) or set KQ_API_KEYS"

# Headers a proxy adds: those that name the client it forwards, and those that only show it is
# there. Lower case, as ASGI gives them.
CLIENT_HEADERS = (b"x-forwarded-for", b"x-real-ip")
PROXY_HEADERS = (b"forwarded", b"via", b"x-forwarded-host", b"x-forwarded-proto",
                 b"x-forwarded-port", b"x-forwarded-server", *CLIENT_HEADERS)  # fmt: skip
SHOWN_CHARS = 100  # of a header value quoted back in a refusal


class AllowedHosts:
    """The names a keyless server answers to: loopback names and addresses (any port), the
    host it listens on and KQ_ALLOWED_HOSTS ("name" or "*.domain" for the names under it).
    ``*.localhost`` is loopback by definition (RFC 6761): no one can register a name there to
    rebind, and browsers resolve it to loopback themselves."""

    def __init__(self, settings: Settings):
        entries = [e.strip().lower() for e in (settings.allowed_hosts or "").split(",")]
        entries.append(_bare(settings.host.strip().lower()))
        self.names = {e for e in entries if e and not e.startswith("*.")}
        self.suffixes = tuple(e[1:] for e in entries if e.startswith("*.") and len(e) > 2)

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a name or address without port or brackets) is one of them."""
        host = host.lower()
        if host == "localhost" or host.endswith(".localhost") or host in self.names:
            return True
        if host.endswith(self.suffixes) and not host.startswith("."):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return is_loopback(host) or any(_same_address(address, name) for name in self.names)


def _same_address(address, name: str) -> bool:
    try:
        return ipaddress.ip_address(name) == address
    except ValueError:
        return False


def _bare(host: str) -> str:
    """An IPv6 address without its brackets; anything else as it is."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def host_of(authority: str) -> str:
    """The host of a Host header value (``name``, ``name:port``, ``[v6]:port``), lower case;
    a value that is none of these comes back whole, and no allowed host is like it."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        return authority[1:end] if end > 0 else authority
    if authority.count(":") == 1:
        return authority.partition(":")[0]
    return authority  # a name, or an IPv6 address without brackets or port


def node_address(node: str) -> str:
    """The address of a forwarded node (X-Forwarded-For, ``Forwarded: for=``): as a Host
    value, quoted or not; ``unknown`` and ``_hidden`` come back as they are."""
    return host_of(node.strip().strip('"'))


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "...")


def _forwarded_pairs(value: str) -> list[tuple[str, str]]:
    """The parameters of a Forwarded header (RFC 7239): ``for=...;host=..., for=...``."""
    pairs = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, equals, content = pair.partition("=")
            if equals:
                pairs.append((name.strip().lower(), content.strip().strip('"')))
    return pairs


class LoopbackOnlyWithoutKeys:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.hosts = AllowedHosts(settings)

    async def _keys_configured(self, scope: Scope) -> bool:
        if self.settings.env_api_keys:
            return True
        return await scope["app"].state.keys_in_database.any_active()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.settings.allow_unauthenticated:
            return await self.app(scope, receive, send)
        # Keys are looked up only for a request that would be refused without them: the
        # usual request from this machine reads no database here
        refusal = self.refusal(scope)
        if refusal is None or await self._keys_configured(scope):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await error_response(403, refusal)(scope, receive, send)

    def refusal(self, scope: Scope) -> str | None:
        """Why a server without keys refuses this request; None: it serves it."""
        client = scope.get("client")
        # No client address: a Unix socket, reachable only on this machine
        if client is not None and not is_loopback(client[0]):
            return REFUSAL
        headers: dict[bytes, list[str]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name, []).append(value.decode("latin-1"))
        return (
            self._proxy_refusal(headers)
            or self._host_refusal(headers)
            or self._cross_site_refusal(scope, headers)
        )

    def _host_refusal(self, headers: dict[bytes, list[str]]) -> str | None:
        # No Host at all (HTTP/1.0) or an empty one: no browser sends that, so no rebound name
        for value in headers.get(b"host", []):
            if value.strip() and not self.hosts.allows(host_of(value)):
                return (
                    f"this server has no API keys, so it answers only requests addressed to "
                    f"this machine by a loopback name (localhost, 127.0.0.1, [::1]), the host "
                    f"it listens on or a name of KQ_ALLOWED_HOSTS; Host {_shown(value)} is "
                    "none of these (a page of another site reaching this machine through DNS "
                    "rebinding would send it). Open the API as http://localhost:PORT, add the "
                    f"name to KQ_ALLOWED_HOSTS if you reach it by that name, {_KEYS_OR}."
                )
        return None

    def _cross_site_refusal(self, scope: Scope, headers: dict[bytes, list[str]]) -> str | None:
        origins = headers.get(b"origin", [])
        for origin in origins:
            if not self._origin_allowed(origin):
                return _cross_site(f"Origin {_shown(origin)}")
        if headers.get(b"sec-fetch-site", [""])[-1].strip().lower() != "cross-site":
            return None
        method = scope.get("method", "GET")
        mode = headers.get(b"sec-fetch-mode", [""])[-1].strip().lower()
        dest = headers.get(b"sec-fetch-dest", ["document"])[-1].strip().lower()
        # A link of another site followed to a page here is fine: it cannot send a body nor
        # read the answer. Whatever else a page of another site sends is refused: forms,
        # fetches and <audio>/<img> loads (a sample is ordered by a GET)
        followed_link = mode == "navigate" and dest == "document"
        if scope["type"] == "http" and method in ("GET", "HEAD") and followed_link:
            return None
        return _cross_site("Sec-Fetch-Site: cross-site")

    def _origin_allowed(self, origin: str) -> bool:
        """Pages of a loopback name or of an allowed host: the web app served here, or the
        user's own pages on this machine. ``null`` (a file, a sandboxed frame) is none."""
        try:
            host = urlsplit(origin.strip()).hostname
        except ValueError:
            return False
        return host is not None and self.hosts.allows(host)

    def _proxy_refusal(self, headers: dict[bytes, list[str]]) -> str | None:
        if not any(name in headers for name in PROXY_HEADERS):
            return None
        clients: list[str] = []
        forwarded_hosts = list(headers.get(b"x-forwarded-host", []))
        for value in headers.get(b"x-forwarded-for", []):
            clients += value.split(",")
        clients += headers.get(b"x-real-ip", [])
        for value in headers.get(b"forwarded", []):
            for name, content in _forwarded_pairs(value):
                if name == "for":
                    clients.append(content)
                elif name == "host":
                    forwarded_hosts.append(content)
        if not clients:
            return _proxied(
                "came through a proxy that does not say for which client (no X-Forwarded-For, "
                "Forwarded: for= or X-Real-IP)"
            )
        for client in clients:
            if not is_loopback(node_address(client)):
                return _proxied(f"came through a proxy for the client {_shown(client.strip())}")
        for host in forwarded_hosts:
            for each in host.split(","):
                if not self.hosts.allows(host_of(each)):
                    return _proxied(
                        f"came through a proxy for the host {_shown(each.strip())}, which is "
                        "not a loopback name nor a name of KQ_ALLOWED_HOSTS"
                    )
        return None


def _cross_site(what: str) -> str:
    return (
        f"this server has no API keys, so it refuses what a page of another site sends "
        f"({what}): any page open in a browser on this machine could otherwise submit, cancel "
        "and delete jobs. Use the web app at this server's own address or a client without a "
        f"browser (curl, kokoro-queue), add the page's host to KQ_ALLOWED_HOSTS, {_KEYS_OR}."
    )


def _proxied(what: str) -> str:
    return (
        f"this server has no API keys, so it serves only clients on its own machine, and this "
        f"request {what}. A proxy must name the client it forwards (X-Forwarded-For or "
        f"Forwarded: for=) and forward only clients on this machine without keys; {_KEYS_OR} "
        "(docs/deployment.md, behind a reverse proxy)."
    )
