"""Audio in a local directory (``LocalBlobStore``), and ``blob_store(settings)``, which makes the
configured store: that directory or an S3-compatible bucket (``storage/s3.py``).

A directory writes a temp file, fsyncs and renames it, so a reader sees the previous blob or
the complete new one.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.settings import Settings
from storage.blob_store import READ_BLOCK, BlobNotFound, BlobStore, StorageError


def _storage_error(key: str, root: Path, error: OSError) -> StorageError:
    reason = error.strerror or str(error)
    return StorageError(
        f"cannot write audio {key!r} to storage {root}: {reason}; check free space and "
        "permissions of the storage directory (KQ_AUDIO_DIR)"
    )


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


def blob_store(settings: Settings) -> BlobStore:
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
