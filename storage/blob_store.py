"""What the API and the workers need of audio storage: the ``BlobStore`` interface, its errors,
and the keys a job's audio is stored under. ``storage/blobs.py`` has the local directory and
the factory; ``storage/s3.py`` the bucket.

Keys are relative paths like ``chunks/<id>/000012.flac``. A reader never sees a partly
written blob: it either finds the previous version, or the complete new one.
"""

import hashlib
import json
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath

READ_BLOCK = 256 * 1024


class BlobNotFound(KeyError):
    pass


class StorageError(OSError):
    """Audio could not be written or read: disk full, no permission, a path that is not a
    directory; a bucket that does not exist, refuses the credentials or cannot be reached.
    An OSError, so the tasks retry it like any other I/O error before they give up."""


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

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A file on local disk holding ``key`` for the block: the stored file itself where
        there is one, else a temporary copy streamed from the store (and removed after)."""
        path = self.local_path(key)
        if path is not None:
            yield path
            return
        with tempfile.NamedTemporaryFile(suffix=PurePosixPath(key).suffix) as copy:
            for block in self.read(key):
                copy.write(block)
            copy.flush()
            yield Path(copy.name)

    def download_url(self, key: str, *, media_type: str, disposition: str) -> str | None:
        """A URL a client may fetch the blob from itself (presigned, answering with these
        Content-Type and Content-Disposition headers), else None: pass the bytes through."""
        return None


def chunk_key(job_id: str, index: int) -> str:
    """Where the job that made a chunk keeps its audio: outside the job's own prefix, since a
    later job or revision may reuse it (the rows that refer to it say when it may go)."""
    # Deterministic: a re-run of the same chunk overwrites, never duplicates
    return f"{made_chunks_prefix(job_id)}/{index:06d}.flac"


def made_chunks_prefix(job_id: str) -> str:
    """Where the chunks a job made lie (some maybe held by later jobs too)."""
    return f"chunks/{job_id}"


def job_audio_key(job_id: str, extension: str) -> str:
    return f"jobs/{job_id}/audio.{extension}"


def chapter_audio_key(job_id: str, chapter: int, extension: str) -> str:
    return f"jobs/{job_id}/chapters/{chapter:04d}.{extension}"


def part_audio_key(job_id: str, chapter: int, number: int, extension: str) -> str:
    # Deterministic, like a chunk's: a part encoded twice is the same file
    return f"{parts_prefix(job_id)}/{chapter:04d}-{number:04d}.{extension}"


def parts_prefix(job_id: str) -> str:
    """Where a job's encoded parts lie: outside its own prefix, since a revision whose chapter
    did not change joins the same parts (kept after the join where the job's audio may be
    reused, removed with the last job that refers to them)."""
    return f"parts/{job_id}"


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}"


def sample_key(
    files_id: str,
    voice: str,
    lang: str,
    text: str,
    speed: float,
    extension: str,
    phonemes: str | None = None,
) -> str:
    """Where a voice sample is kept: one key per everything that shapes its sound, under the
    fingerprint of the model and voices files (infra.model_files.files_in_use_id), so other
    files never serve an old sample and the old ones lie under one prefix."""
    shaped = (
        [voice, lang, text, speed] if phonemes is None else [voice, lang, text, speed, phonemes]
    )
    said = json.dumps(shaped, ensure_ascii=False)
    return f"samples/{files_id}/{hashlib.sha256(said.encode()).hexdigest()[:32]}.{extension}"
