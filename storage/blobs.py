"""Audio blob store: a directory with atomic writes (temp file, fsync, rename).

Keys are relative paths like ``jobs/<id>/chunks/00012.wav``. A reader never sees a partly
written file: it either finds the previous version, or the complete new one.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class BlobNotFound(KeyError):
    pass


class StorageError(OSError):
    """Audio could not be written: disk full, no permission, a path that is not a directory.
    An OSError, so the tasks retry it like any other I/O error before they give up."""


def _storage_error(key: str, root: Path, error: OSError) -> StorageError:
    reason = error.strerror or str(error)
    return StorageError(
        f"cannot write audio {key!r} to storage {root}: {reason}; check free space and "
        "permissions of the storage directory (KQ_AUDIO_DIR)"
    )


class LocalBlobStore:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

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

    def put(self, key: str, data: bytes) -> int:
        with self.writer(key) as tmp:
            tmp.write_bytes(data)
        return len(data)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

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


def chunk_key(job_id: str, index: int) -> str:
    # Deterministic: a re-run of the same chunk overwrites, never duplicates
    return f"jobs/{job_id}/chunks/{index:06d}.flac"


def job_audio_key(job_id: str, extension: str) -> str:
    return f"jobs/{job_id}/audio.{extension}"


def chapter_audio_key(job_id: str, chapter: int, extension: str) -> str:
    return f"jobs/{job_id}/chapters/{chapter:04d}.{extension}"


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}"
