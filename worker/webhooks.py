"""The ``deliver_webhook`` task: POST a finished job's signed event to its callback_url.

Sent (by name, core.queue.send_webhook) after the commit that finished the job. The task
re-reads the job, so the event says what the database says. 2xx is delivered; connection
errors, timeouts, 429 and 5xx are retried with exponential backoff up to
``KQ_WEBHOOK_MAX_RETRIES`` times; any other answer is final. Every attempt is recorded on the
job. An attempt holds a worker slot for at most about ``KQ_WEBHOOK_TIMEOUT_S`` per phase
(connect, send, first byte); chunk tasks never wait on it.
"""

import logging
import random

import httpx

from core.callback_urls import resolved_address_refusal
from core.queue import DELIVER_WEBHOOK, visibility_timeout_s
from core.settings import get_settings
from core.states import JobStatus
from core.webhooks import (
    build_payload,
    delivery_id,
    encode_body,
    event_name,
    signed_headers,
)
from storage.db import transaction
from storage.job_queries import get_job
from storage.jobs import record_webhook_attempt, record_webhook_delivered
from worker.app import app

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 600.0


def backoff_s(retries: int, retry_after: str | None = None) -> float:
    """Seconds before retry number ``retries + 1``: 2, 4, 8, ... with jitter, at least the
    receiver's Retry-After (in seconds), capped below the broker's visibility timeout (a task
    waiting longer for its countdown would be delivered a second time)."""
    cap = min(BACKOFF_MAX_S, visibility_timeout_s(get_settings()) / 2)
    delay = BACKOFF_BASE_S * 2**retries * random.uniform(0.8, 1.2)
    if retry_after and retry_after.strip().isdigit():
        delay = max(delay, float(retry_after))
    return min(delay, cap)


def retryable(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


@app.task(name=DELIVER_WEBHOOK, bind=True, max_retries=get_settings().webhook_max_retries)
def deliver_webhook(self, job_id: str, status: str) -> str:
    """``status`` is what the sender saw; the event is built from the job row as it is now."""
    settings = get_settings()
    with transaction(settings.sqlalchemy_url) as session:
        job = get_job(session, job_id)
        if job is None or not job.callback_url:
            return "skipped"  # deleted meanwhile
        if job.callback_delivered_at is not None:
            return "already delivered"  # the same event sent twice
        if not JobStatus(job.status).finished:
            log.warning("webhook of job %s sent while it is %s; not sent", job_id, job.status)
            return "unfinished"
        event = event_name(job.status)
        url = job.callback_url
        payload = build_payload(
            job_id=job.id,
            event=event,
            status=job.status,
            audio_seconds=job.audio_seconds,
            error=job.error,
            finished_at=job.finished_at,
            title=job.title,
        )
        if not settings.webhook_secret:
            # The API refuses callback_url without a secret; this worker lacks the setting
            record_webhook_attempt(
                session, job_id, "not sent: KQ_WEBHOOK_SECRET is not set on the worker"
            )
            return "no secret"
        refusal = None if settings.webhook_allow_private else resolved_address_refusal(url)
        if refusal:
            record_webhook_attempt(session, job_id, f"not sent: {refusal}")
            return "refused"
    body = encode_body(payload)
    # Signed per attempt: the timestamp is the attempt's, the delivery id the event's
    secret = settings.webhook_secret.get_secret_value()
    headers = signed_headers(secret, event, delivery_id(job_id, event), body)
    retry_after = None
    try:
        # Streamed and closed unread: only the status matters, however big the answer
        with httpx.stream(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
        ) as response:
            code, reason = response.status_code, response.reason_phrase
            retry_after = response.headers.get("retry-after")
    except Exception as exc:  # recorded on the job, and retried when transient
        error = f"{type(exc).__name__}: {exc}"[:1000]
        # Connection refused, DNS, timeouts, TLS: worth another try; a URL httpx rejects is not
        again = isinstance(exc, httpx.TransportError) and not isinstance(
            exc, httpx.UnsupportedProtocol
        )
    else:
        if 200 <= code < 300:
            with transaction(settings.sqlalchemy_url) as session:
                record_webhook_delivered(session, job_id)
            return "delivered"
        error, again = f"HTTP {code} {reason}".strip(), retryable(code)
    retries = self.request.retries
    if again and retries < self.max_retries:
        with transaction(settings.sqlalchemy_url) as session:
            record_webhook_attempt(session, job_id, f"{error} (will retry)")
        log.info("webhook of job %s: %s; retry %d", job_id, error, retries + 1)
        raise self.retry(countdown=backoff_s(retries, retry_after))
    with transaction(settings.sqlalchemy_url) as session:
        attempts = record_webhook_attempt(session, job_id, error)
    log.warning("webhook of job %s not delivered after %d attempts: %s", job_id, attempts, error)
    return "failed"
