"""Webhook events: the JSON body, its HMAC-SHA256 signature, and how a receiver verifies it.

Pure functions, shared by the worker (which sends) and receivers (and tests) that verify.

A delivery is ``POST <callback_url>`` with a JSON body and these headers:

- ``X-KQ-Event``: ``job.succeeded``, ``job.failed`` or ``job.cancelled``
- ``X-KQ-Delivery``: one id per event, the same on every retry, so a receiver can drop repeats
- ``X-KQ-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``; the
  timestamp is signed too, so a receiver can refuse old (replayed) deliveries
"""

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime

from core.jobs.states import JobStatus

SIGNATURE_HEADER = "X-KQ-Signature"
EVENT_HEADER = "X-KQ-Event"
DELIVERY_HEADER = "X-KQ-Delivery"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300

EVENTS = {
    JobStatus.SUCCEEDED: "job.succeeded",
    JobStatus.FAILED: "job.failed",
    JobStatus.CANCELLED: "job.cancelled",
}

# Delivery ids are derived, not random: the same event always gets the same id, also when it is
# sent twice (e.g. a redelivered task), so receivers dedupe on it
_DELIVERY_NAMESPACE = uuid.UUID("5d3c1e52-7b8f-4f0e-9a4c-2f6e1b9d8a70")


def event_name(status: str) -> str:
    """The event of a finished job's status; ValueError for an unfinished one."""
    try:
        return EVENTS[JobStatus(status)]
    except (KeyError, ValueError) as error:
        raise ValueError(f"no webhook event for job status {status!r}") from error


def delivery_id(job_id: str, event: str) -> str:
    return uuid.uuid5(_DELIVERY_NAMESPACE, f"{job_id}:{event}").hex


def build_payload(
    *,
    job_id: str,
    event: str,
    status: str,
    audio_seconds: float | None,
    error: str | None,
    finished_at: datetime | None,
    title: str | None = None,
) -> dict:
    links = {"self": f"/v1/jobs/{job_id}"}
    if status == JobStatus.SUCCEEDED:
        links["audio"] = f"/v1/jobs/{job_id}/audio"
    return {
        "id": delivery_id(job_id, event),
        "event": event,
        "job": {
            "id": job_id,
            "status": status,
            "title": title,
            "audio_seconds": audio_seconds,
            "error": error,
            "finished_at": finished_at.isoformat() if finished_at else None,
            "links": links,
        },
    }


def encode_body(payload: dict) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-KQ-Signature`` value for ``body`` at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SIGNATURE_VERSION}={_digest(secret, t, body)}"


def signed_headers(secret: str, event: str, delivery: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "kokoro-queue-webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery,
        SIGNATURE_HEADER: sign(secret, body),
    }


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (the ``X-KQ-Signature`` value) signs exactly ``body`` with ``secret``
    and its timestamp is within ``tolerance_s`` of ``now``. Pass the raw body bytes as
    received, before any JSON parsing. Several ``v1=`` entries are accepted (any may match)."""
    if not header or not secret:
        return False
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == SIGNATURE_VERSION:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
