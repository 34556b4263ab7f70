"""Webhooks do not reach into the network unless the operator allows it."""

import socket

import pytest

from core.jobs.callback_urls import (
    CallbackRefused,
    CallbackUnresolved,
    checked_addresses,
    written_address_refusal,
)

NON_PUBLIC_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data",  # a cloud metadata endpoint
    "http://[::1]:9000/hook",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
]

# IPv6 spellings of IPv4 addresses: judged as the IPv4 address they carry
IPV4_IN_IPV6 = {
    "64:ff9b::7f00:1": "127.0.0.1",  # NAT64, well-known prefix
    "64:ff9b::a9fe:a9fe": "169.254.169.254",
    "2002:c0a8:101::": "192.168.1.1",  # 6to4
    "2002:a00:1::1": "10.0.0.1",
    "::7f00:1": "127.0.0.1",  # IPv4-compatible
    "::a00:8": "10.0.0.8",
    "::ffff:127.0.0.1": "127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1": "127.0.0.1",  # IPv4-translated
    "64:ff9b:1::808:808": None,  # NAT64 inside one network: never public
}


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
def test_non_public_addresses_are_refused_with_the_setting_that_allows_them(url):
    refusal = written_address_refusal(url)
    assert refusal is not None and "KQ_WEBHOOK_ALLOW_PRIVATE=true" in refusal
    with pytest.raises(CallbackRefused) as refused:
        checked_addresses(url)
    assert str(refused.value) == refusal


@pytest.mark.parametrize("address", IPV4_IN_IPV6)
def test_ipv6_spellings_of_non_public_ipv4_addresses_are_refused(address, monkeypatch):
    assert "is not public" in written_address_refusal(f"http://[{address}]:8080/hook")

    def resolve(host, port, proto=0):
        return [(socket.AF_INET6, socket.SOCK_STREAM, proto, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(CallbackRefused, match=f"resolves to {address}: "):
        checked_addresses("https://hooks.example.com/kq")


@pytest.mark.parametrize(
    "address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111"]
)
def test_ipv6_spellings_of_public_ipv4_addresses_pass(address):
    assert written_address_refusal(f"http://[{address}]/hook") is None


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "https://hooks.example.com/kq"])
def test_public_addresses_and_names_pass_as_written(url):
    assert written_address_refusal(url) is None


def answering(answers: dict[str, tuple[str, ...]]):
    def resolve(host, port, proto=0):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, proto, "", (address, port))
            for address in answers[host]
        ]

    return resolve


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        answering(
            {
                "hooks.example.com": ("93.184.215.14", "93.184.215.14", "93.184.215.15"),
                "intranet.example.com": ("10.0.0.8",),
                "both.example.com": ("93.184.215.14", "10.0.0.9"),
            }
        ),
    )
    # The addresses a request may go to, each once, in the resolver's order
    assert checked_addresses("https://hooks.example.com/kq") == ("93.184.215.14", "93.184.215.15")
    for host, address in (("intranet", "10.0.0.8"), ("both", "10.0.0.9")):
        with pytest.raises(CallbackRefused) as refused:
            checked_addresses(f"https://{host}.example.com/kq")
        assert f"resolves to {address}" in str(refused.value)
        assert "KQ_WEBHOOK_ALLOW_PRIVATE" in str(refused.value)
    # The operator allows them: the same addresses, unjudged
    assert checked_addresses("https://both.example.com/kq", allow_private=True) == (
        "93.184.215.14",
        "10.0.0.9",
    )


def test_a_name_that_does_not_resolve_says_which(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(CallbackUnresolved, match="'nowhere.example.com' does not resolve"):
        checked_addresses("https://nowhere.example.com/kq")
