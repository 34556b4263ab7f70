"""Audio blob stores: a local directory (``LocalBlobStore``) or an S3-compatible bucket
(``storage.s3.S3BlobStore``), both behind ``BlobStore``; ``blob_store(settings)`` makes the
configured one.

Keys are relative paths like ``jobs/<id>/chunks/00012.wav``. A reader never sees a partly
written blob: it either finds the previous version, or the complete new one (a directory
writes a temp file, fsyncs and renames it; a bucket uploads a finished file in one PUT).
"""

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


class BlobNotFound(KeyError):
    pass


class StorageError(OSError):
    """Audio could not be written or read: disk full, no permission, a path that is not a
    directory; a bucket that does not exist, refuses the credentials or cannot be reached.
    An OSError, so the tasks retry it like any other I/O error before they give up."""


def _storage_error(key: str, root: Path, error: OSError) -> StorageError:
    reason = error.strerror or str(error)
    return StorageError(
        f"cannot write audio {key!r} to storage {root}: {reason}; check free space and "
        "permissions of the storage directory (KQ_AUDIO_DIR)"
    )


READ_BLOCK = 256 * 1024


def check_key(key: str) -> str:
    """``key`` if it is a relative path that stays inside the store, else ValueError."""
    if not key or key.startswith("/") or ".." in PurePosixPath(key).parts:
        raise ValueError(f"blob key {key!r} escapes the store")
    return key


class BlobStore(ABC):
    """What the API and the workers need of audio storage."""

    @abstractmethod
    def writer(self, key: str, suffix: str = "") -> AbstractContextManager[Path]:
        """A local temporary path to write ``key`` to; it becomes ``key``, whole, only if the
        block succeeds. I/O errors (the block's own writes too) raise ``StorageError``."""

    def put(self, key: str, data: bytes) -> int:
        with self.writer(key) as tmp:
            tmp.write_bytes(data)
        return len(data)

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The blob's bytes; ``BlobNotFound`` if there is none."""

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` up to (not including) ``end`` (default: the end) in blocks."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; ``BlobNotFound`` if there is none."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Remove the blob ``prefix`` and every blob under ``prefix/``. Best effort, as it only
        removes audio nobody will read (a failed, cancelled or deleted job's): what cannot be
        removed is logged, not raised."""

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` where the store is a local directory, else None."""
        return None

    def download_url(self, key: str, *, media_type: str, disposition: str) -> str | None:
        """A URL a client may fetch the blob from itself (presigned, answering with these
        Content-Type and Content-Disposition headers), else None: pass the bytes through."""
        return None


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def local_path(self, key: str) -> Path:
        return self.path(key)

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"blob key {key!r} escapes the store")
        return path

    @contextmanager
    def writer(self, key: str, suffix: str = "") -> Iterator[Path]:
        """A temporary path to write ``key`` to; it becomes ``key`` only if the block succeeds."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=f"{suffix}.tmp"
            )
            os.close(fd)
        except OSError as error:
            raise _storage_error(key, self.root, error) from error
        tmp = Path(tmp_name)
        try:
            yield tmp
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except StorageError:
            raise
        except OSError as error:  # the block's own writes too: a full disk shows up there
            raise _storage_error(key, self.root, error) from error
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            f = self.path(key).open("rb")  # now: a missing blob raises here, not on first next()
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error
        return _blocks(f, start, end)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def delete_prefix(self, prefix: str) -> None:
        path = self.path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _blocks(f, start: int, end: int | None) -> Iterator[bytes]:
    with f:
        f.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            block = f.read(READ_BLOCK if left is None else min(READ_BLOCK, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block


def blob_store(settings: "Settings") -> BlobStore:
    """The store the settings configure: a bucket with ``KQ_STORAGE_URL=s3://...``, else the
    local directory (``KQ_AUDIO_DIR``, default ``DATA_DIR/audio``)."""
    location = settings.s3_location
    if location is None:
        return LocalBlobStore(settings.storage_dir)
    from storage.s3 import S3BlobStore  # boto3 only where a bucket is configured

    bucket, prefix = location
    return S3BlobStore(
        bucket,
        prefix,
        endpoint_url=settings.s3_endpoint_url,
        addressing_style=settings.s3_addressing_style,
        presigned_downloads=settings.s3_presigned_downloads,
        presigned_expiry_s=settings.s3_presigned_expiry_s,
    )


def chunk_key(job_id: str, index: int) -> str:
    # Deterministic: a re-run of the same chunk overwrites, never duplicates
    return f"jobs/{job_id}/chunks/{index:06d}.flac"


def job_audio_key(job_id: str, extension: str) -> str:
    return f"jobs/{job_id}/audio.{extension}"


def chapter_audio_key(job_id: str, chapter: int, extension: str) -> str:
    return f"jobs/{job_id}/chapters/{chapter:04d}.{extension}"


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}"
