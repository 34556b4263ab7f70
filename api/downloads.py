"""Audio files out of the blob store, one way for every download route.

A local store answers with Starlette's ``FileResponse`` (which serves ``Range`` itself). A bucket
answers with a redirect to a presigned URL where configured (``KQ_S3_PRESIGNED_DOWNLOADS``),
else streams the object through, serving ``Range`` the way ``FileResponse`` does: ``200`` whole,
``206`` one range (``Content-Range``) or several (``multipart/byteranges``), ``400`` for a
malformed header and ``416`` for a range beyond the end (``Content-Range: bytes */size``).
"""

import logging
import secrets
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import status
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from api.errors import missing, service_unavailable
from storage.blob_store import BlobNotFound, BlobStore, StorageError

log = logging.getLogger(__name__)

MAX_RANGES = 100  # more ranges than this: the whole file, as FileResponse does


class MalformedRange(ValueError):
    pass


class RangeNotSatisfiable(ValueError):
    pass


def attachment(filename: str) -> str:
    """Content-Disposition of a download named ``filename``, as ``FileResponse`` writes it."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def byte_ranges(header: str, size: int) -> list[tuple[int, int]]:
    """[start, end) ranges of a ``Range`` header, sorted and merged where several overlap; []
    means the whole file. Parsed as ``FileResponse`` parses them, so that both stores agree."""
    units, equals, spec = header.partition("=")
    if not equals:
        raise MalformedRange("Malformed range header.")
    if units.strip().lower() != "bytes":
        raise MalformedRange("Only support bytes range")
    if spec.count(",") + 1 > MAX_RANGES:
        return []
    ranges = []
    for part in (p.strip() for p in spec.split(",")):
        if not part or part == "-" or "-" not in part:
            continue
        first, _, last = (p.strip() for p in part.partition("-"))
        try:
            start = int(first) if first else max(size - int(last), 0)
            end = int(last) + 1 if first and last and int(last) < size else size
        except ValueError:
            continue
        ranges.append((start, end))
    if not ranges:
        raise MalformedRange("Range header: range must be requested")
    if any(not 0 <= start < size for start, _ in ranges):
        raise RangeNotSatisfiable(size)
    if any(start >= end for start, end in ranges):
        raise MalformedRange("Range header: start must be less than end")
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def audio_download(
    store: BlobStore,
    key: str,
    media_type: str,
    filename: str,
    range_header: str | None = None,
    if_range: str | None = None,
) -> Response:
    """The response to a download of blob ``key`` as ``filename``."""
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=media_type, filename=filename)
    disposition = attachment(filename)
    try:
        url = store.download_url(key, media_type=media_type, disposition=disposition)
        if url is not None:
            return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
        size = store.size(key)
        headers = {"Accept-Ranges": "bytes", "Content-Disposition": disposition}
        # An If-Range validator cannot be checked here (no ETag is served): the whole file, as
        # RFC 9110 allows
        ranges = byte_ranges(range_header, size) if range_header and not if_range else []
        if not ranges:
            headers["Content-Length"] = str(size)
            return StreamingResponse(store.read(key), media_type=media_type, headers=headers)
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
            headers["Content-Length"] = str(end - start)
            return StreamingResponse(
                store.read(key, start, end),
                status_code=status.HTTP_206_PARTIAL_CONTENT,
                media_type=media_type,
                headers=headers,
            )
        boundary = secrets.token_hex(13)
        length, body = _multipart(store, key, ranges, size, media_type, boundary)
        headers["Content-Length"] = str(length)
        return StreamingResponse(
            body,
            status_code=status.HTTP_206_PARTIAL_CONTENT,
            media_type=f"multipart/byteranges; boundary={boundary}",
            headers=headers,
        )
    except MalformedRange as error:
        return PlainTextResponse(str(error), status_code=status.HTTP_400_BAD_REQUEST)
    except RangeNotSatisfiable as error:
        return PlainTextResponse(
            status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
            headers={"Content-Range": f"bytes */{error.args[0]}"},
        )
    except BlobNotFound as error:
        log.error("audio %s is missing from storage %s", key, store)
        raise missing("the audio file is missing from storage") from error
    except StorageError as error:
        log.error("download of %s failed: %s", key, error)
        raise service_unavailable(
            "audio storage is unavailable; try again later", retry_after_s=5
        ) from error


def _multipart(
    store: BlobStore,
    key: str,
    ranges: list[tuple[int, int]],
    size: int,
    media_type: str,
    boundary: str,
) -> tuple[int, Iterator[bytes]]:
    """Length and body of a multipart/byteranges answer: each range with its own headers."""

    def head(start: int, end: int) -> bytes:
        return (
            f"--{boundary}\r\nContent-Type: {media_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode("latin-1")

    closing = f"--{boundary}--".encode("latin-1")
    length = sum(len(head(s, e)) + (e - s) + 2 for s, e in ranges) + len(closing)

    def body() -> Iterator[bytes]:
        for start, end in ranges:
            yield head(start, end)
            yield from store.read(key, start, end)
            yield b"\r\n"
        yield closing

    return length, body()
