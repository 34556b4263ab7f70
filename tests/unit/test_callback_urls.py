"""Webhooks do not reach into the network unless the operator allows it."""

import pytest

from core.callback_urls import resolved_address_refusal, written_address_refusal


@pytest.mark.parametrize(
    "url",
    [
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
    ],
)
def test_non_public_addresses_are_refused_with_the_setting_that_allows_them(url):
    refusal = written_address_refusal(url)
    assert refusal is not None and "KQ_WEBHOOK_ALLOW_PRIVATE=true" in refusal
    assert resolved_address_refusal(url) == refusal


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "https://hooks.example.com/kq"])
def test_public_addresses_and_names_pass_as_written(url):
    assert written_address_refusal(url) is None


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending(monkeypatch):
    import socket

    answers = {"hooks.example.com": "93.184.215.14", "intranet.example.com": "10.0.0.8"}

    def resolve(host, port, proto=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, proto, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert resolved_address_refusal("https://hooks.example.com/kq") is None
    refusal = resolved_address_refusal("https://intranet.example.com/kq")
    assert "resolves to 10.0.0.8" in refusal and "KQ_WEBHOOK_ALLOW_PRIVATE" in refusal
