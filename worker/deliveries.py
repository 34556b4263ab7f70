"""The ``deliver_book`` task: upload a succeeded job's book to where it goes (Audiobookshelf).

Sent (by name, infra.queue.send_delivery) after the commit that finished the job, once per
target. The task re-reads the job and its delivery settings (the job's own, else its key's:
storage/deliveries.py). 2xx is delivered; connection errors, timeouts, 429 and 5xx are retried
with Celery's retry and exponential backoff up to ``KQ_DELIVER_MAX_RETRIES`` times; any other
answer is final. Every attempt is recorded on the job (``deliveries``); none changes the job's
state or its audio.

The server's address is checked and pinned as a webhook's is (worker/webhooks.py): resolved
once per attempt, refused when it is not public unless ``KQ_DELIVER_ALLOW_PRIVATE``, and
connected to only at the addresses checked. The token is never logged or recorded: every error
text is redacted first.
"""

import logging
from contextlib import ExitStack
from typing import BinaryIO

import httpx

from core.audio.formats import AudioFormat
from core.books.covers import IMAGE_MEDIA_TYPES, image_extension
from core.jobs.callback_urls import CallbackRefused, checked_addresses
from core.publish.audiobookshelf import (
    TARGET,
    URL_USE,
    AudiobookshelfTarget,
    file_name,
    upload_fields,
)
from infra.queue import DELIVER_BOOK
from infra.settings import get_settings
from storage.blob_store import BlobNotFound
from storage.db import transaction
from storage.deliveries import (
    PENDING,
    DeliveryOrder,
    delivery_order,
    record_delivered,
    record_delivery_attempt,
)
from worker.app import app
from worker.tasks import process_store
from worker.webhooks import backoff_s, post_to_checked_addresses, retryable

log = logging.getLogger(__name__)

USER_AGENT = "kokoro-queue-deliveries/1"
# What a refusal most likely means, said so that the operator knows what to fix
HTTP_HINTS = {
    401: "Audiobookshelf refused the token: give the API token of a user who may upload",
    403: "the token's user may not upload: allow uploads for that user in Audiobookshelf",
    404: "Audiobookshelf has no such library or folder: give ids from its GET /api/libraries",
}


def http_error(code: int, reason: str) -> str:
    said = f"HTTP {code} {reason}".strip()
    hint = HTTP_HINTS.get(code)
    return f"{said}: {hint}" if hint else said


class BookMissing(LookupError):
    """The book's audio is not in storage (deleted meanwhile): no retry brings it back."""


def _opened(stack: ExitStack, key: str) -> BinaryIO | None:
    """The stored file ``key`` open for reading until ``stack`` closes (a local copy, for a
    bucket); None when it is not there."""
    try:
        path = stack.enter_context(process_store().local_copy(key))
        return stack.enter_context(path.open("rb"))
    except (BlobNotFound, FileNotFoundError):
        return None


def upload_book(
    shelf: AudiobookshelfTarget,
    order: DeliveryOrder,
    addresses: tuple[str, ...],
    timeout_s: float,
) -> tuple[int, str, str | None]:
    """POST the book's audio (and cover) to the server's upload API at one of ``addresses``;
    (status code, reason, Retry-After). The files are streamed from disk, with the form's
    length sent up front."""
    fmt = AudioFormat(order.format)
    title = order.title or f"kokoro-queue {order.job_id}"
    series = (order.book_info or {}).get("series")
    fields = upload_fields(
        shelf,
        title=title,
        author=order.author,
        series=series if isinstance(series, str) and series.strip() else None,
    )
    with ExitStack() as stack:
        audio = _opened(stack, order.audio_key)
        if audio is None:
            raise BookMissing(f"the book's audio {order.audio_key} is missing from storage")
        files = [("file0", (file_name(title, fmt.extension), audio, fmt.media_type))]
        extension = image_extension(order.cover_key) if order.cover_key else None
        cover = _opened(stack, order.cover_key) if extension else None
        if cover is not None:
            files.append(
                ("file1", (file_name("cover", extension), cover, IMAGE_MEDIA_TYPES[extension]))
            )
        elif extension:
            log.warning("job %s: its cover is missing from storage; sent without", order.job_id)
        form = httpx.Request("POST", shelf.upload_url, data=fields, files=files)
        headers = {
            "Authorization": f"Bearer {shelf.token}",
            "User-Agent": USER_AGENT,
            "Content-Type": form.headers["Content-Type"],
        }
        if "Content-Length" in form.headers:
            headers["Content-Length"] = form.headers["Content-Length"]
        return post_to_checked_addresses(
            shelf.upload_url, addresses, content=form.stream, headers=headers, timeout_s=timeout_s
        )


def _record(job_id: str, target: str, error: str, *, final: bool) -> int:
    with transaction(get_settings().sqlalchemy_url) as session:
        return record_delivery_attempt(session, job_id, target, error, final=final)


@app.task(name=DELIVER_BOOK, bind=True, max_retries=get_settings().deliver_max_retries)
def deliver_book(self, job_id: str, target: str) -> str:
    settings = get_settings()
    with transaction(settings.sqlalchemy_url) as session:
        order = delivery_order(session, job_id, target)
    if order is None:
        return "skipped"  # deleted meanwhile, or no such delivery
    if order.status != PENDING:
        return f"already {order.status}"  # the same delivery sent twice
    if target != TARGET:
        _record(job_id, target, f"not sent: no such delivery target {target!r}", final=True)
        return "unknown target"
    try:
        shelf = AudiobookshelfTarget.from_settings(order.settings)
    except ValueError as error:
        _record(job_id, target, f"not sent: {error}", final=True)
        return "no settings"
    retry_after = None
    try:
        addresses = checked_addresses(
            shelf.upload_url, allow_private=settings.deliver_allow_private, use=URL_USE
        )
        code, reason, retry_after = upload_book(shelf, order, addresses, settings.deliver_timeout_s)
    except CallbackRefused as refusal:
        _record(job_id, target, shelf.redacted(f"not sent: {refusal}"), final=True)
        return "refused"
    except Exception as exc:  # recorded on the job, and retried when transient
        error = f"{type(exc).__name__}: {exc}"
        # Connection refused, DNS, timeouts, TLS, a storage hiccup: worth another try; a URL
        # httpx rejects, or a book missing from storage (BookMissing), is not
        again = isinstance(exc, httpx.TransportError | OSError) and not isinstance(
            exc, httpx.UnsupportedProtocol
        )
    else:
        if 200 <= code < 300:
            with transaction(settings.sqlalchemy_url) as session:
                record_delivered(session, job_id, target)
            return "delivered"
        error, again = http_error(code, reason), retryable(code)
    error = shelf.redacted(error)
    retries = self.request.retries
    if again and retries < self.max_retries:
        _record(job_id, target, f"{error} (will retry)", final=False)
        log.info("delivery of job %s to %s: %s; retry %d", job_id, target, error, retries + 1)
        raise self.retry(countdown=backoff_s(retries, retry_after))
    attempts = _record(job_id, target, error, final=True)
    log.warning(
        "delivery of job %s to %s failed after %d attempts: %s", job_id, target, attempts, error
    )
    return "failed"
