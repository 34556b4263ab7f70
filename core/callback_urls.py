"""Which webhook URLs may be called: not, by default, an address inside the network.

A callback URL is chosen by the client; a server that POSTs wherever it is told would let any
client reach services that only the server can (a metadata endpoint, an admin port on
loopback). Loopback, private, link-local and other non-public addresses are refused unless
the operator allows them (``KQ_WEBHOOK_ALLOW_PRIVATE=true``, for receivers on the same host
or network). The API checks the URL as written; the worker checks every address the host
name resolves to just before it sends.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

HOW_TO_ALLOW = (
    "webhooks to loopback or private addresses are refused; set KQ_WEBHOOK_ALLOW_PRIVATE=true "
    "on the API and the workers to allow them"
)


def _non_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    return not ip.is_global or ip.is_multicast


def written_address_refusal(url: str) -> str | None:
    """Why ``url`` may not be called, judged from how it is written (no DNS look-up): its host
    is ``localhost`` or a non-public IP address. None: it may be."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"callback_url host {host!r} is loopback: {HOW_TO_ALLOW}"
    try:
        refused = _non_public(host)
    except ValueError:
        return None  # a name: resolved and checked by the worker when it sends
    return f"callback_url address {host} is not public: {HOW_TO_ALLOW}" if refused else None


def resolved_address_refusal(url: str) -> str | None:
    """Why ``url`` may not be called now: any address its host resolves to is not public.
    A host that does not resolve is left to the request itself to fail (and be retried)."""
    written = written_address_refusal(url)
    if written:
        return written
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    for *_, sockaddr in infos:
        if _non_public(str(sockaddr[0])):
            return f"callback_url host {parts.hostname!r} resolves to {sockaddr[0]}: {HOW_TO_ALLOW}"
    return None
