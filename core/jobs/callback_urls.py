"""Which webhook URLs (and delivery servers) may be called: not, by default, an address inside
the network.

A callback URL is chosen by the client; a server that POSTs wherever it is told would let any
client reach services that only the server can (a metadata endpoint, an admin port on
loopback). Loopback, private, link-local and other non-public addresses are refused unless
the operator allows them (``KQ_WEBHOOK_ALLOW_PRIVATE=true``, for receivers on the same host
or network). The API checks the URL as written; the worker resolves the host name once, just
before it sends, checks every address, and connects to one of those addresses: a second look-up
could answer differently (DNS rebinding) and reach the very service the check refused.

An IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``)
is judged as that IPv4 address: it is where the packets end up.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

HOW_TO_ALLOW = (
    "webhooks to loopback or private addresses are refused; set KQ_WEBHOOK_ALLOW_PRIVATE=true "
    "on the API and the workers to allow them"
)


@dataclass(frozen=True)
class UrlUse:
    """What a checked URL is for, as a refusal names it: the field that gave it, and the
    setting that allows private addresses for that use."""

    field: str
    how_to_allow: str


WEBHOOK = UrlUse("callback_url", HOW_TO_ALLOW)


class CallbackRefused(ValueError):
    """The callback URL may not be called; the message says why and how to allow it."""


class CallbackUnresolved(OSError):
    """The callback URL's host name does not resolve now (perhaps later: worth a retry)."""


_IPV4_BITS = 0xFFFF_FFFF
# IPv6 prefixes whose last 32 bits are an IPv4 address the traffic is translated or tunnelled to
# (RFC 4291 IPv4-compatible, RFC 2765 IPv4-translated, RFC 6052 NAT64 well-known prefix)
_CARRYING_IPV4_IN_LOW_BITS = tuple(
    ipaddress.IPv6Network(prefix) for prefix in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# RFC 8215: NAT64 inside one network, its IPv4 placement up to that network: never public
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in prefix for prefix in _CARRYING_IPV4_IN_LOW_BITS):
        return ipaddress.IPv4Address(int(ip) & _IPV4_BITS)
    return None


def _non_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return True
        ip = _carried_ipv4(ip) or ip
    return not ip.is_global or ip.is_multicast


def written_address_refusal(url: str, use: UrlUse = WEBHOOK) -> str | None:
    """Why ``url`` may not be called, judged from how it is written (no DNS look-up): its host
    is ``localhost`` or a non-public IP address. None: it may be."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{use.field} host {host!r} is loopback: {use.how_to_allow}"
    try:
        refused = _non_public(host)
    except ValueError:
        return None  # a name: resolved and checked by the worker when it sends
    return f"{use.field} address {host} is not public: {use.how_to_allow}" if refused else None


def checked_addresses(
    url: str, *, allow_private: bool = False, use: UrlUse = WEBHOOK
) -> tuple[str, ...]:
    """Every address the host of ``url`` resolves to now, each once, in the resolver's order:
    the only addresses a request to ``url`` may connect to. Unless ``allow_private``,
    CallbackRefused when any of them is not public (a name that answers with a public and a
    private address could be reached at either). CallbackUnresolved (an OSError) when the name
    does not resolve now."""
    if not allow_private:
        written = written_address_refusal(url, use)
        if written:
            raise CallbackRefused(written)
    # Parsed as httpx parses it to send: the name resolved is the one the Host header and TLS
    # will carry (IDNA 2008, not the IDNA 2003 of socket's own encoding)
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise CallbackRefused(f"{use.field} is not valid: {error}") from None
    host = unquote(target.raw_host.decode("ascii"))  # an IPv6 zone id is written %25
    port = target.port or (443 if target.scheme == "https" else 80)
    if not host:
        raise CallbackRefused(f"{use.field} has no host")
    if not 0 < port < 65536:
        raise CallbackRefused(f"{use.field} port {port} is not a TCP port")
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except UnicodeError as error:  # not a valid IDNA name: no retry makes it one
        raise CallbackRefused(f"{use.field} host {host!r} is not valid: {error}") from None
    except OSError as error:
        raise CallbackUnresolved(f"{use.field} host {host!r} does not resolve: {error}") from error
    addresses = tuple(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in infos))
    if not allow_private:
        for address in addresses:
            if _non_public(address):
                raise CallbackRefused(
                    f"{use.field} host {host!r} resolves to {address}: {use.how_to_allow}"
                )
    return addresses
