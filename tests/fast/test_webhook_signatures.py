"""Webhook signatures: what verifies and what does not."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest

from core.jobs.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    build_payload,
    delivery_id,
    encode_body,
    event_name,
    sign,
    signed_headers,
    verify_signature,
)

SECRET = "s3cret-for-tests"
BODY = b'{"event":"job.succeeded","job":{"id":"abc"}}'


def test_a_fresh_signature_verifies():
    assert verify_signature(SECRET, sign(SECRET, BODY), BODY)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify_signature(SECRET, header, BODY, now=1_700_000_000)


@pytest.mark.parametrize(
    "body",
    [BODY.replace(b"abc", b"abd"), BODY + b" ", BODY[:-1], b""],
    ids=["changed", "appended", "truncated", "empty"],
)
def test_a_tampered_body_fails(body):
    assert not verify_signature(SECRET, sign(SECRET, BODY), body)


def test_a_wrong_secret_fails():
    header = sign(SECRET, BODY)
    assert not verify_signature("another-secret", header, BODY)
    assert not verify_signature(SECRET, sign("another-secret", BODY), BODY)
    assert not verify_signature("", header, BODY)


def test_a_timestamp_outside_the_tolerance_fails():
    now = time.time()
    old = sign(SECRET, BODY, timestamp=int(now) - 301)
    future = sign(SECRET, BODY, timestamp=int(now) + 301)
    recent = sign(SECRET, BODY, timestamp=int(now) - 299)
    assert not verify_signature(SECRET, old, BODY, tolerance_s=300, now=now)
    assert not verify_signature(SECRET, future, BODY, tolerance_s=300, now=now)
    assert verify_signature(SECRET, recent, BODY, tolerance_s=300, now=now)
    # A wider window accepts the old one
    assert verify_signature(SECRET, old, BODY, tolerance_s=3600, now=now)


def test_a_changed_timestamp_fails():
    # The timestamp is signed: moving it forward to pass the tolerance breaks the signature
    header = sign(SECRET, BODY, timestamp=1_000)
    forged = header.replace("t=1000", f"t={int(time.time())}")
    assert not verify_signature(SECRET, forged, BODY)


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", "t=abc,v1=00", "v1=00", f"t={int(time.time())}", "t=1,v0=00"],
    # ids that do not change with the clock: parallel workers must collect the same tests
    ids=["none", "empty", "garbage", "bad-time", "no-time", "no-signature", "old-scheme"],
)
def test_malformed_headers_fail(header):
    assert not verify_signature(SECRET, header, BODY)


def test_any_of_several_signatures_may_match():
    # Receivers rotating secrets, or a sender listing more than one
    now = int(time.time())
    good = sign(SECRET, BODY, timestamp=now).split(",")[1]
    assert verify_signature(SECRET, f"t={now},v1={'0' * 64},{good}", BODY)


def test_headers_and_payload_of_an_event():
    finished = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    payload = build_payload(
        job_id="a" * 32,
        event="job.succeeded",
        status="succeeded",
        audio_seconds=1.5,
        error=None,
        finished_at=finished,
        title="T",
    )
    body = encode_body(payload)
    assert json.loads(body) == {
        "id": delivery_id("a" * 32, "job.succeeded"),
        "event": "job.succeeded",
        "job": {
            "id": "a" * 32,
            "status": "succeeded",
            "title": "T",
            "audio_seconds": 1.5,
            "error": None,
            "finished_at": "2026-01-02T03:04:05+00:00",
            "links": {"self": f"/v1/jobs/{'a' * 32}", "audio": f"/v1/jobs/{'a' * 32}/audio"},
        },
    }
    headers = signed_headers(SECRET, "job.succeeded", payload["id"], body)
    assert headers[EVENT_HEADER] == "job.succeeded"
    assert headers[DELIVERY_HEADER] == payload["id"]
    assert verify_signature(SECRET, headers[SIGNATURE_HEADER], body)


def test_failed_jobs_link_no_audio():
    payload = build_payload(
        job_id="b" * 32,
        event="job.failed",
        status="failed",
        audio_seconds=None,
        error="chunk 0 failed",
        finished_at=None,
    )
    assert payload["job"]["links"] == {"self": f"/v1/jobs/{'b' * 32}"}
    assert payload["job"]["error"] == "chunk 0 failed"


def test_delivery_ids_are_stable_per_event_and_differ_between_events():
    job = "c" * 32
    assert delivery_id(job, "job.succeeded") == delivery_id(job, "job.succeeded")
    assert delivery_id(job, "job.succeeded") != delivery_id(job, "job.failed")
    assert delivery_id(job, "job.succeeded") != delivery_id("d" * 32, "job.succeeded")


def test_events_exist_only_for_finished_states():
    assert [event_name(s) for s in ("succeeded", "failed", "cancelled")] == [
        "job.succeeded",
        "job.failed",
        "job.cancelled",
    ]
    for unfinished in ("queued", "running", "nonsense"):
        with pytest.raises(ValueError):
            event_name(unfinished)
