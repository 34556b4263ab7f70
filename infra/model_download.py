"""Fetching official model and voices files over HTTP: resumable, hash-checked, atomic.

Each file is written to ``NAME.part`` next to its final place. A ``.part`` left by a cut
connection is resumed with a ``Range`` request; only a file whose size and sha256 are the
expected ones is renamed to its final name, so the service never sees a partial or wrong file.

The expected files are data (``KnownFile``): the CLI passes the published ones of
``infra.model_files``, tests their own.
"""

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx

from infra.model_files import KnownFile, mismatch, sha256_of

PART_SUFFIX = ".part"
# Connecting fails fast when offline; a slow mirror may pause a while between blocks
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# A server that does not honour a Range request, or answers one with another range, is asked
# once more for the whole file
ATTEMPTS = 2

# Called as bytes arrive: the file, and how many of its bytes are on disk so far
Progress = Callable[[KnownFile, int], None]


class DownloadError(RuntimeError):
    """A download that did not end with a verified file; the message says what to do."""


class ReleaseUnreachable(DownloadError):
    """The server could not be reached at all: offline, DNS, refused, timed out."""


def part_path(models_dir: Path, known: KnownFile) -> Path:
    return models_dir / (known.name + PART_SUFFIX)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _unreachable(base_url: str, error: Exception) -> ReleaseUnreachable:
    return ReleaseUnreachable(
        f"could not reach {base_url} ({_one_line(error)}). Set KQ_MODEL_BASE_URL to a mirror "
        "that serves the same files, or copy kokoro-v1.0.onnx and voices-v1.0.bin to this "
        "machine by other means and set KOKORO_MODEL_PATH and KOKORO_VOICES_PATH to them."
    )


def _range_start(content_range: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header."""
    unit, _, rest = (content_range or "").partition(" ")
    start = rest.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _served_size(response: httpx.Response) -> int | None:
    """The whole file's size as the server tells it, when it does."""
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
    else:
        total = response.headers.get("content-length", "")
    return int(total) if total.isdigit() else None


def _not_published(known: KnownFile, base_url: str, found: str) -> DownloadError:
    return DownloadError(
        f"{known.name} from {base_url} is not the published file ({found}, expected "
        f"{known.size:,} bytes with sha256 {known.sha256}); nothing was kept. Check "
        "KQ_MODEL_BASE_URL and run again."
    )


def _fetch(
    client: httpx.Client, base_url: str, known: KnownFile, part: Path, progress: Progress | None
) -> None:
    """Bring ``part`` to the file's full size, resuming what is there."""
    url = f"{base_url.rstrip('/')}/{known.name}"
    for _ in range(ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        if have > known.size:  # not a prefix of this file
            part.unlink()
            have = 0
        if have == known.size:
            return
        # identity: a range of compressed bytes would not be a range of the file
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        answered = False
        try:
            with client.stream("GET", url, headers=headers) as response:
                answered = True
                start = _range_start(response.headers.get("content-range"))
                if (have and response.status_code == 416) or (
                    response.status_code == 206 and start != have
                ):
                    part.unlink(missing_ok=True)
                    continue
                if response.status_code not in (200, 206):
                    raise DownloadError(
                        f"{url} answered HTTP {response.status_code}. Set KQ_MODEL_BASE_URL to "
                        f"where {known.name} is served (the default is the kokoro-onnx release)."
                    )
                served = _served_size(response)
                if served is not None and served != known.size:  # refused before it is fetched
                    part.unlink(missing_ok=True)
                    raise _not_published(known, base_url, f"{served:,} bytes")
                # 206: the rest of the file; 200: all of it, from the start
                done = have if response.status_code == 206 else 0
                with part.open("ab" if done else "wb") as out:
                    # blocks as they arrive, not re-chunked: whatever came before a cut is kept
                    for block in response.iter_bytes():
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(known, done)
                        if done > known.size:
                            break  # not this file; the check below deletes it
                    out.flush()
                    os.fsync(out.fileno())
            return
        except httpx.InvalidURL as error:
            raise DownloadError(
                f"KQ_MODEL_BASE_URL {base_url!r} is not a URL ({_one_line(error)})."
            ) from error
        except httpx.TransportError as error:
            if not answered:
                raise _unreachable(base_url, error) from error
            have = part.stat().st_size if part.exists() else 0
            raise DownloadError(
                f"the download of {known.name} stopped after {have:,} of {known.size:,} bytes "
                f"({_one_line(error)}); run the same command again to resume it from {part}."
            ) from error
    raise DownloadError(
        f"{url} does not answer range requests consistently; delete {part} and run again."
    )


def _install(part: Path, target: Path, known: KnownFile, base_url: str) -> None:
    """Rename a verified ``part`` to ``target``; delete it when it is not the expected file."""
    size = part.stat().st_size
    if size < known.size:  # the server ended the body early without saying so
        raise DownloadError(
            f"the download of {known.name} stopped after {size:,} of {known.size:,} bytes; "
            f"run the same command again to resume it from {part}."
        )
    digest = sha256_of(part) if size == known.size else None
    if digest != known.sha256:
        part.unlink()
        raise _not_published(known, base_url, f"sha256 {digest}" if digest else f"{size:,} bytes")
    os.replace(part, target)  # atomic: the final name only ever holds the verified file


def download_file(
    client: httpx.Client,
    base_url: str,
    known: KnownFile,
    models_dir: Path,
    progress: Progress | None = None,
) -> bool:
    """Install ``known`` in ``models_dir``; False when the right file was already there."""
    target = models_dir / known.name
    if target.exists() and mismatch(target, known) is None:
        return False
    models_dir.mkdir(parents=True, exist_ok=True)
    part = part_path(models_dir, known)
    _fetch(client, base_url, known, part, progress)
    _install(part, target, known, base_url)
    return True


def download_files(
    base_url: str,
    files: Iterable[KnownFile],
    models_dir: Path,
    progress: Progress | None = None,
    timeout: httpx.Timeout = TIMEOUT,
) -> Iterator[tuple[KnownFile, bool]]:
    """Install each file in turn, yielding it and whether it was fetched (False: already there).

    Raises DownloadError (ReleaseUnreachable when offline) with a one-line message.
    """
    with httpx.Client(follow_redirects=True, timeout=timeout) as client:
        for known in files:
            yield known, download_file(client, base_url, known, models_dir, progress)
