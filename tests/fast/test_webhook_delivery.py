"""The ``deliver_webhook`` task against local receivers, with the resolver stubbed: the worker
connects to the address it checked (a second, different DNS answer is never used), keeps the
Host header and TLS name of the URL, and a receiver's Retry-After, however odd, never stops the
retries. On a SQLite file through the storage functions; the task runs in-process (Celery's
eager ``apply``), no broker."""

import datetime as dt
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from celery.exceptions import Retry
from sqlalchemy import update

from core.jobs.states import JobStatus
from infra.settings import Settings
from storage.db import session_factory, transaction
from storage.migrate import upgrade
from storage.models import Job
from tests.support.fast import store_job
from worker import webhooks
from worker.webhooks import (
    BACKOFF_BASE_S,
    backoff_s,
    deliver_webhook,
    post_to_checked_addresses,
    retry_after_s,
)

PUBLIC = "93.184.215.14"  # a global address: passes the check; never actually connected to


@dataclass
class Receiver:
    """A local HTTP(S) server that records each request and answers ``status`` with
    ``headers``."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)  # TLS SNI, per handshake

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(dict(self.headers))
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)  # encoded as latin-1: "\xb2" is one byte
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


class Resolver:
    """``socket.getaddrinfo`` for made-up names: each look-up of a name gets its next answer
    (the last one repeats), an address or a tuple of them; other hosts (the IP literals a
    connection resolves) resolve as usual."""

    def __init__(self, answers: dict[str, list[str | tuple[str, ...]]]) -> None:
        self.answers = answers
        self.lookups: dict[str, int] = dict.fromkeys(answers, 0)
        self.real = socket.getaddrinfo

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        answers = self.answers[name]
        answer = answers[min(self.lookups[name], len(answers) - 1)]
        self.lookups[name] += 1
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 0, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))
            for address in ((answer,) if isinstance(answer, str) else answer)
        ]


@pytest.fixture
def resolve(monkeypatch):
    """Installs a Resolver for the names given."""

    def install(answers: dict[str, list[str]]) -> Resolver:
        resolver = Resolver(answers)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install


@pytest.fixture
def connections(monkeypatch) -> list[tuple]:
    """Every address a TCP connection is opened to; PUBLIC refuses at once (this test never
    reaches out of the machine)."""
    opened = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(tuple(address[:2]))
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused (test stand-in)")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kq.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def worker_settings(tmp_path, migrated, monkeypatch):
    """Installs the worker's settings; call with the overrides of one test."""

    def install(**overrides) -> Settings:
        shutil.copy(migrated, tmp_path / "kq.db")
        settings = Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'kq.db'}",
            redis_url="redis://127.0.0.1:1/0",  # never reached
            webhook_secret="webhook-test-secret",
            webhook_timeout_s=5.0,
            **overrides,
        )
        monkeypatch.setattr(webhooks, "get_settings", lambda: settings)
        return settings

    return install


def cancelled_job(settings: Settings, callback_url: str) -> str:
    job, _ = store_job(settings, callback=callback_url)
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(status=JobStatus.CANCELLED, finished_at=dt.datetime.now(dt.UTC))
        )
    return job.id


def callback_of(settings: Settings, job_id: str) -> tuple[int, str | None, bool]:
    with session_factory(settings.sqlalchemy_url)() as session:
        job = session.get(Job, job_id)
        return job.callback_attempts, job.callback_error, job.callback_delivered_at is not None


def deliver(job_id: str):
    """One attempt, as a worker runs it (request.retries 0); the EagerResult."""
    return deliver_webhook.apply(args=(job_id, JobStatus.CANCELLED))


@pytest.fixture
def retries(monkeypatch) -> list[float]:
    """The countdown of each retry the task asks for. Not run: an eager task's retry would run
    at once, again and again."""
    countdowns = []

    def retry(countdown=None, **kwargs):
        countdowns.append(countdown)
        return Retry(when=countdown)

    monkeypatch.setattr(deliver_webhook, "retry", retry)
    return countdowns


# Finding: a DNS answer that changes between the check and the connection (rebinding)


def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_loopback(
    worker_settings, resolve, connections, receiver, monkeypatch
):
    settings = worker_settings()
    monkeypatch.setattr(deliver_webhook, "max_retries", 0)  # one attempt, its result final
    receiver.status = 418  # what the job's owner would read back from the job
    resolver = resolve({"rebind.test": [PUBLIC, "127.0.0.1"]})
    job_id = cancelled_job(settings, f"http://rebind.test:{receiver.port}/hook")

    assert deliver(job_id).get() == "failed"
    assert receiver.requests == []  # the loopback service was not reached
    assert resolver.lookups["rebind.test"] == 1  # resolved once, for the check and the send
    assert connections == [(PUBLIC, receiver.port)]  # the checked address, nothing else
    attempts, error, delivered = callback_of(settings, job_id)
    assert (attempts, delivered) == (1, False)
    assert error.startswith("ConnectError") and "418" not in error


def test_a_private_receiver_allowed_by_the_operator_is_reached_at_the_resolved_address(
    worker_settings, resolve, connections, receiver
):
    settings = worker_settings(webhook_allow_private=True)
    resolver = resolve({"hooks.test": ["127.0.0.1"]})
    job_id = cancelled_job(settings, f"http://hooks.test:{receiver.port}/hook?x=1")

    assert deliver(job_id).get() == "delivered"
    (request,) = receiver.requests
    assert request["Host"] == f"hooks.test:{receiver.port}"  # the URL's name, not the IP
    assert request["X-KQ-Event"] == "job.cancelled"
    assert resolver.lookups["hooks.test"] == 1
    assert connections == [("127.0.0.1", receiver.port)]
    assert callback_of(settings, job_id) == (1, None, True)


def test_a_name_with_a_private_address_among_its_answers_is_not_sent_to(
    worker_settings, resolve, connections, receiver
):
    settings = worker_settings()
    resolve({"mixed.test": [(PUBLIC, "127.0.0.1")]})  # a connection could go to either
    job_id = cancelled_job(settings, f"http://mixed.test:{receiver.port}/hook")

    assert deliver(job_id).get() == "refused"
    assert receiver.requests == [] and connections == []
    attempts, error, _ = callback_of(settings, job_id)
    assert attempts == 1 and "resolves to 127.0.0.1" in error
    assert "KQ_WEBHOOK_ALLOW_PRIVATE=true" in error


def test_the_next_checked_address_is_tried_when_one_refuses(
    worker_settings, resolve, connections, receiver
):
    settings = worker_settings(webhook_allow_private=True)
    resolve({"two.test": [(PUBLIC, "127.0.0.1")]})
    job_id = cancelled_job(settings, f"http://two.test:{receiver.port}/hook")

    assert deliver(job_id).get() == "delivered"
    assert connections == [(PUBLIC, receiver.port), ("127.0.0.1", receiver.port)]
    assert receiver.requests[0]["Host"] == f"two.test:{receiver.port}"


def test_a_name_that_does_not_resolve_is_retried(
    worker_settings, monkeypatch, connections, retries
):
    settings = worker_settings()

    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    job_id = cancelled_job(settings, "https://nowhere.test/hook")

    assert deliver(job_id).state == "RETRY" and len(retries) == 1
    attempts, error, _ = callback_of(settings, job_id)
    assert attempts == 1 and "nowhere.test" in error and error.endswith("(will retry)")
    assert connections == []


# TLS: the certificate is checked against the URL's host name, not the address connected to


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for hooks.test (and no IP address): (cert, key) files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_receiver(certificate) -> Iterator[Receiver]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    running = Receiver(tls=context).start()
    yield running
    running.stop()


def trusting(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_https_goes_to_the_checked_address_with_the_urls_name_for_sni_and_the_certificate(
    tls_receiver, certificate, connections
):
    url = f"https://hooks.test:{tls_receiver.port}/hook"
    code, _, _ = post_to_checked_addresses(
        url,
        ("127.0.0.1",),
        content=b"{}",
        headers={"Content-Type": "application/json"},
        timeout_s=5,
        verify=trusting(certificate),
    )
    assert code == 200
    assert tls_receiver.server_names == ["hooks.test"]
    assert tls_receiver.requests[0]["Host"] == f"hooks.test:{tls_receiver.port}"
    assert connections == [("127.0.0.1", tls_receiver.port)]


def test_https_to_a_name_the_certificate_does_not_cover_fails_its_check(
    tls_receiver, certificate, connections
):
    url = f"https://other.test:{tls_receiver.port}/hook"
    # Checked against the URL's name (the certificate names neither other.test nor the address)
    with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
        post_to_checked_addresses(
            url,
            ("127.0.0.1",),
            content=b"{}",
            headers={},
            timeout_s=5,
            verify=trusting(certificate),
        )
    assert tls_receiver.requests == []
    assert tls_receiver.server_names == ["other.test"]


# Finding: a receiver's Retry-After that is not a number of seconds


def test_a_retry_after_of_a_non_ascii_digit_still_retries_with_the_normal_backoff(
    worker_settings, resolve, receiver, retries
):
    settings = worker_settings(webhook_allow_private=True)
    resolve({"hooks.test": ["127.0.0.1"]})
    receiver.status, receiver.headers = 503, {"Retry-After": "\xb2"}  # "²".isdigit() is True
    job_id = cancelled_job(settings, f"http://hooks.test:{receiver.port}/hook")

    assert deliver(job_id).state == "RETRY"
    (countdown,) = retries
    assert 0.8 * BACKOFF_BASE_S <= countdown <= 1.2 * BACKOFF_BASE_S
    attempts, error, _ = callback_of(settings, job_id)
    assert (attempts, error) == (1, "HTTP 503 Service Unavailable (will retry)")


def test_a_retry_after_in_seconds_is_waited_for(worker_settings, resolve, receiver, retries):
    settings = worker_settings(webhook_allow_private=True)
    resolve({"hooks.test": ["127.0.0.1"]})
    receiver.status, receiver.headers = 429, {"Retry-After": "45"}
    job_id = cancelled_job(settings, f"http://hooks.test:{receiver.port}/hook")

    assert deliver(job_id).state == "RETRY" and retries == [45]


NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        (" 7 ", 7),
        ("0", 0),
        ("0" * 20 + "5", 5),
        (format_datetime(NOW + dt.timedelta(seconds=90), usegmt=True), 90),
        ("Thu, 01 Jan 2026 12:00:30 -0000", 30),  # no zone: UTC
        ("Thursday, 01-Jan-26 12:01:00 GMT", 60),  # the obsolete RFC 850 form
        (format_datetime(NOW - dt.timedelta(hours=1), usegmt=True), 0),  # already past
    ],
)
def test_retry_after_is_delta_seconds_or_an_http_date(value, seconds):
    assert retry_after_s(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [None, "", " ", "\xb2", "1\xb2", "\u0663", "1e3", "1.5", "-5", "+5", "0x10", "soon",
     "Mon, 99 Foo 2026", "Sun, 06 Nov 1994 08:49:37 +9999", "31 Dec 99999 1:1:1"],
)  # fmt: skip
def test_any_other_retry_after_is_ignored(value):
    assert retry_after_s(value, now=NOW) is None


def test_a_huge_retry_after_is_capped():
    cap = backoff_s(0, "999999")
    assert cap < 999999
    assert backoff_s(0, "9" * 5000) == cap  # more digits than int() would take
    assert backoff_s(0, "Fri, 31 Dec 9999 23:59:59 GMT") == cap


@pytest.mark.parametrize("value", ["\xb2", "nonsense", None])
def test_backoff_ignores_a_retry_after_it_cannot_read(value):
    delays = [backoff_s(2, value) for _ in range(20)]
    assert all(0.8 * 8 <= d <= 1.2 * 8 for d in delays)
