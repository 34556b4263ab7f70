"""The ``deliver_webhook`` task: POST a finished job's signed event to its callback_url.

Sent (by name, infra.queue.send_webhook) after the commit that finished the job. The task
re-reads the job, so the event says what the database says. 2xx is delivered; connection
errors, timeouts, 429 and 5xx are retried with exponential backoff up to
``KQ_WEBHOOK_MAX_RETRIES`` times; any other answer is final. Every attempt is recorded on the
job. An attempt holds a worker slot for at most about ``KQ_WEBHOOK_TIMEOUT_S`` per phase
(connect, send, first byte); chunk tasks never wait on it.

The host name is resolved once per attempt; the addresses are checked (core.jobs.callback_urls) and
the connection goes to one of them, with the URL's name kept for the Host header and for TLS
(SNI and the certificate check): a second look-up could answer with an address the check would
have refused (DNS rebinding).
"""

import logging
import random
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

import httpx
from celery.utils.time import get_exponential_backoff_interval

from core.jobs.callback_urls import CallbackRefused, checked_addresses
from core.jobs.states import JobStatus
from core.jobs.webhooks import (
    build_payload,
    delivery_id,
    encode_body,
    event_name,
    signed_headers,
)
from infra.queue import DELIVER_WEBHOOK, visibility_timeout_s
from infra.settings import get_settings
from storage.db import transaction
from storage.job_queries import get_job
from storage.jobs import record_webhook_attempt, record_webhook_delivered
from worker.app import app

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 600.0
# Retry-After delta-seconds of more digits are past any cap: taken as unbounded, not converted
# (the receiver chooses the length; int() refuses more than 4300 digits)
_RETRY_AFTER_MAX_DIGITS = 9
# Addresses of one host tried in one attempt, each only when the previous one could not be
# connected to: bounds an attempt whatever the resolver answers
MAX_ADDRESSES_TRIED = 4


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """The seconds a receiver's ``Retry-After`` asks for: delta-seconds (ASCII digits) or an
    HTTP-date (one already past: 0). None for anything else, which leaves the normal backoff."""
    if value is None:
        return None
    value = value.strip()
    # ASCII only: str.isdigit() alone also accepts "²", which int() and float() refuse
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        return float(digits) if len(digits) <= _RETRY_AFTER_MAX_DIGITS else float("inf")
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, the zone unsaid
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_s(retries: int, retry_after: str | None = None) -> float:
    """Seconds before retry number ``retries + 1``: Celery's exponential backoff (2, 4, 8, ...)
    with jitter, at least the receiver's Retry-After when it can be read, capped below the
    broker's visibility timeout (a task waiting longer for its countdown would be delivered a
    second time). The countdown is this task's own, not ``autoretry_for``'s, because of the
    receiver's Retry-After."""
    cap = min(BACKOFF_MAX_S, visibility_timeout_s(get_settings()) / 2)
    exponential = get_exponential_backoff_interval(
        BACKOFF_BASE_S, retries, BACKOFF_MAX_S, full_jitter=False
    )
    delay = exponential * random.uniform(0.8, 1.2)
    asked = retry_after_s(retry_after)
    if asked is not None:
        delay = max(delay, asked)
    return min(delay, cap)


@lru_cache
def _default_tls() -> ssl.SSLContext:
    # httpx's default verification (certifi, or SSL_CERT_FILE / SSL_CERT_DIR when set), made
    # once: the client below does not read the environment, for the proxies' sake
    return httpx.create_ssl_context()


def post_to_checked_addresses(
    url: str,
    addresses: tuple[str, ...],
    *,
    content: bytes,
    headers: dict[str, str],
    timeout_s: float,
    verify: ssl.SSLContext | None = None,
) -> tuple[int, str, str | None]:
    """POST ``content`` to ``url`` over a connection to one of ``addresses`` (checked ones),
    never to another answer of the resolver. They are tried in order, the next only when a
    connection to one could not be made (nothing was sent). The URL's host name stays the
    Host header and, for https, the TLS server name that the certificate is checked against.
    Returns (status code, reason phrase, Retry-After); httpx's errors are raised.

    Proxy settings of the environment are not used: through a proxy, the proxy would resolve
    the name again and connect wherever it answers."""
    target = httpx.URL(url)
    if not addresses:
        raise httpx.ConnectError(f"no address to connect to for {target.host!r}")
    host_header = target.netloc.decode("ascii")  # with the port when it is not the default
    server_name = target.raw_host.decode("ascii")  # IDNA-encoded, as TLS wants it
    error: httpx.ConnectError | None = None
    with httpx.Client(
        verify=verify or _default_tls(),
        trust_env=False,
        timeout=timeout_s,
        follow_redirects=False,
    ) as client:
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                # Streamed and closed unread: only the status matters, however big the answer
                with client.stream(
                    "POST",
                    target.copy_with(host=address),
                    content=content,
                    headers={**headers, "Host": host_header},
                    extensions={"sni_hostname": server_name},
                ) as response:
                    retry_after = response.headers.get("retry-after")
                    return response.status_code, response.reason_phrase, retry_after
            except httpx.ConnectError as refused:
                error = refused
    raise error


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
    body = encode_body(payload)
    # Signed per attempt: the timestamp is the attempt's, the delivery id the event's
    secret = settings.webhook_secret.get_secret_value()
    headers = signed_headers(secret, event, delivery_id(job_id, event), body)
    retry_after = None
    try:
        addresses = checked_addresses(url, allow_private=settings.webhook_allow_private)
        code, reason, retry_after = post_to_checked_addresses(
            url, addresses, content=body, headers=headers, timeout_s=settings.webhook_timeout_s
        )
    except CallbackRefused as refusal:
        with transaction(settings.sqlalchemy_url) as session:
            record_webhook_attempt(session, job_id, f"not sent: {refusal}")
        return "refused"
    except Exception as exc:  # recorded on the job, and retried when transient
        error = f"{type(exc).__name__}: {exc}"[:1000]
        # Connection refused, DNS, timeouts, TLS: worth another try; a URL httpx rejects is not
        again = isinstance(exc, httpx.TransportError | OSError) and not isinstance(
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
