"""Webhooks: a job's callback_url gets a signed POST from a real worker when the job ends,
retried on 5xx, not on other 4xx, recorded on the job; bad callback URLs change nothing."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from core.jobs.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify_signature
from storage.models import Chunk, Job
from tests.support.stack import (
    ROOT,
    free_port,
    running_stack,
    stack_env,
    stop_process,
    wait_for,
)

SECRET = "webhook-test-secret-0123456789"
SHORT_TEXT = "Hello there. This short job tells a receiver when it is done."
# Long enough that the cancel always comes before the job could finish
LONG_TEXT = "\n\n".join(
    f"Paragraph {n}. The quick brown fox jumps over the lazy dog, again and again, "
    "while the webhook receiver waits patiently for news of this job."
    for n in range(40)
)


def row_counts(database_url: str) -> tuple[int, int]:
    """Jobs and chunks in the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as db:
            return tuple(db.scalar(select(func.count()).select_from(t)) for t in (Job, Chunk))
    finally:
        engine.dispose()


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A real HTTP server on loopback. Paths under /flaky/ answer 500 to their first request
    and 200 after; under /gone/ always 410; anything else 200."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.deliveries.append(Delivery(self.path, dict(self.headers), body))
                    seen = sum(d.path == self.path for d in receiver.deliveries)
                if self.path.startswith("/gone/"):
                    code = 410
                elif self.path.startswith("/flaky/") and seen == 1:
                    code = 500
                else:
                    code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def at(self, path: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(scope="module")
def hook_stack(tmp_path_factory, redis_url, database_url):
    # The receiver listens on loopback, which only an operator's say-so allows
    with running_stack(
        tmp_path_factory.mktemp("webhooks"),
        redis_url,
        database_url,
        KQ_WEBHOOK_SECRET=SECRET,
        KQ_WEBHOOK_ALLOW_PRIVATE="true",
    ) as running:
        yield running


def job_callback(http: httpx.Client, job_id: str) -> dict:
    response = http.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()["callback"]


def test_succeeded_event_is_signed_retried_and_recorded(hook_stack, receiver):
    url = receiver.url("/flaky/succeeded")
    with hook_stack.client() as http:
        response = http.post("/v1/jobs", json={"text": SHORT_TEXT, "callback_url": url})
        assert response.status_code == 202, response.text
        created = response.json()
        assert created["callback_url"] == url
        assert created["callback"] == {"attempts": 0, "delivered_at": None, "error": None}
        job = hook_stack.wait_for_job(created["id"], timeout_s=300)
        assert job["status"] == "succeeded"

        # The first delivery got 500; the retry (about 2 s later) got 200
        first, retry = wait_for(
            lambda: (d := receiver.at("/flaky/succeeded")) and len(d) >= 2 and d,
            120,
            "the webhook and its retry",
        )
        callback = wait_for(
            lambda: (c := job_callback(http, job["id"]))["delivered_at"] and c,
            30,
            "the delivery to be recorded",
        )
    assert len(receiver.at("/flaky/succeeded")) == 2
    assert callback["attempts"] == 2
    assert callback["error"] is None

    assert first.headers[DELIVERY_HEADER] == retry.headers[DELIVERY_HEADER]
    assert first.body == retry.body
    for delivery in (first, retry):
        assert delivery.headers[EVENT_HEADER] == "job.succeeded"
        assert delivery.headers["Content-Type"] == "application/json"
        signature = delivery.headers[SIGNATURE_HEADER]
        assert verify_signature(SECRET, signature, delivery.body)
        assert not verify_signature("a-wrong-secret", signature, delivery.body)
        assert not verify_signature(SECRET, signature, delivery.body.replace(b"succeeded", b"x"))

    payload = retry.payload
    assert payload["event"] == "job.succeeded"
    assert payload["id"] == retry.headers[DELIVERY_HEADER]
    assert payload["job"]["id"] == job["id"]
    assert payload["job"]["status"] == "succeeded"
    assert payload["job"]["audio_seconds"] > 0
    assert payload["job"]["audio_seconds"] == pytest.approx(job["audio_seconds"])
    assert payload["job"]["finished_at"] is not None
    assert payload["job"]["links"]["audio"] == f"/v1/jobs/{job['id']}/audio"


def test_cancelling_a_multipart_job_sends_job_cancelled(hook_stack, receiver):
    url = receiver.url("/ok/cancelled")
    with hook_stack.client() as http:
        response = http.post(
            "/v1/jobs",
            files={"file": ("long.txt", LONG_TEXT.encode(), "text/plain")},
            data={"callback_url": url},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        assert response.json()["callback_url"] == url
        cancelled = http.post(f"/v1/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text

        (delivery,) = wait_for(lambda: receiver.at("/ok/cancelled"), 60, "the cancel webhook")
        callback = wait_for(
            lambda: (c := job_callback(http, job_id))["delivered_at"] and c,
            30,
            "the delivery to be recorded",
        )
    assert delivery.headers[EVENT_HEADER] == "job.cancelled"
    assert verify_signature(SECRET, delivery.headers[SIGNATURE_HEADER], delivery.body)
    assert delivery.payload["event"] == "job.cancelled"
    assert delivery.payload["job"]["id"] == job_id
    assert delivery.payload["job"]["status"] == "cancelled"
    assert "audio" not in delivery.payload["job"]["links"]
    assert callback["attempts"] == 1 and callback["error"] is None


def test_batch_jobs_have_their_own_callback_and_4xx_is_not_retried(hook_stack, receiver):
    url = receiver.url("/gone/batch")
    jobs = [{"text": SHORT_TEXT, "callback_url": url}, {"text": "No callback for this one."}]
    with hook_stack.client() as http:
        response = http.post("/v1/batches", json={"jobs": jobs})
        assert response.status_code == 202, response.text
        with_hook, without = response.json()["jobs"]
        assert with_hook["callback_url"] == url
        assert without["callback_url"] is None and without["callback"] is None
        for job in (with_hook, without):
            assert hook_stack.wait_for_job(job["id"])["status"] == "succeeded"

        callback = wait_for(
            lambda: (c := job_callback(http, with_hook["id"]))["error"] and c,
            60,
            "the refused delivery to be recorded",
        )
        assert callback == {"attempts": 1, "delivered_at": None, "error": "HTTP 410 Gone"}
        # No retry: the first backoff is about 2 s
        with pytest.raises(AssertionError):
            wait_for(lambda: len(receiver.at("/gone/batch")) > 1, 6, "a retry")
        assert job_callback(http, with_hook["id"]) == callback
    (delivery,) = receiver.at("/gone/batch")
    assert delivery.payload["job"]["id"] == with_hook["id"]
    assert all(without["id"] not in d.body.decode() for d in receiver.deliveries)


BAD_CALLBACKS = {
    "ftp scheme": "ftp://x",
    "not a url": "not a url",
    "relative": "/hook",
    "too long": "https://example.com/" + "a" * 2000,
    "not a string": 12,
}


@pytest.mark.parametrize("callback_url", BAD_CALLBACKS.values(), ids=BAD_CALLBACKS.keys())
def test_bad_callback_urls_are_rejected(hook_stack, callback_url):
    before = row_counts(hook_stack.database_url)
    body = {"text": SHORT_TEXT, "callback_url": callback_url}
    with hook_stack.client() as http:
        single = http.post("/v1/jobs", json=body)
        batch = http.post("/v1/batches", json={"jobs": [{"text": SHORT_TEXT}, body]})
        form = http.post(
            "/v1/jobs",
            files={"file": ("a.txt", SHORT_TEXT.encode(), "text/plain")},
            data={"callback_url": str(callback_url)},
        )
    for response in (single, batch, form):
        assert response.status_code == 422, response.text
        assert "callback_url" in response.text
    assert row_counts(hook_stack.database_url) == before


def test_callback_url_without_a_secret_is_rejected(tmp_path, redis_url, database_url):
    """A server without KQ_WEBHOOK_SECRET never sends unsigned webhooks: it refuses the job.
    (Only the API process runs: nothing reaches a worker.)"""
    from storage.migrate import upgrade

    upgrade(database_url)
    port = free_port()
    env = stack_env(tmp_path, redis_url, database_url, "kq-test-nosecret", port)
    env.pop("KQ_WEBHOOK_SECRET", None)
    api = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api"],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "api.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def up():
            assert api.poll() is None, f"the API exited, see {tmp_path / 'api.log'}"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
            except httpx.HTTPError:
                return False

        wait_for(up, 60, "the API to answer")
        before = row_counts(database_url)
        body = {"text": SHORT_TEXT, "callback_url": "https://example.com/hook"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            single = http.post("/v1/jobs", json=body)
            batch = http.post("/v1/batches", json={"jobs": [body]})
        for response in (single, batch):
            assert response.status_code == 422, response.text
            assert "KQ_WEBHOOK_SECRET" in response.json()["detail"]
        assert row_counts(database_url) == before
    finally:
        stop_process(api)
