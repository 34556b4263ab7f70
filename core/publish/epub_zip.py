"""An EPUB's zip container: ``mimetype`` first and stored (uncompressed, no extra field), so a
reader can tell what the file is from its first bytes; then the documents, deflated; then the
audio and images, stored (they are compressed already), each copied in from blocks, so a book
of any length passes through in constant memory.

Pure: it writes to the file object it is given, which must be seekable (each stored entry's
sizes and checksum are written back into its header once it is copied).
"""

import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from core.publish.epub3 import EPUB_MEDIA_TYPE

# A member past this needs ZIP64 headers, which must be chosen before its first byte
_ZIP64_FROM = zipfile.ZIP64_LIMIT


@dataclass(frozen=True)
class StreamedFile:
    """A member copied in from blocks: ``open`` gives them, ``size`` is their total."""

    path: str
    size: int
    open: Callable[[], Iterator[bytes]]


def _entry(path: str, when: datetime, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when.timetuple()[:6])
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    return info


def write_epub(
    target: BinaryIO,
    documents: Iterable[tuple[str, bytes]],
    media: Iterable[StreamedFile],
    modified: datetime,
) -> None:
    """The EPUB of ``documents`` (path, bytes) and ``media`` into ``target``. Raises ValueError
    when a medium's blocks do not add up to its size (it changed while being copied)."""
    when = max(modified, datetime(1980, 1, 1, tzinfo=modified.tzinfo))  # zip's first year
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        archive.writestr(_entry("mimetype", when, zipfile.ZIP_STORED), EPUB_MEDIA_TYPE)
        for path, data in documents:
            archive.writestr(_entry(path, when, zipfile.ZIP_DEFLATED), data)
        for item in media:
            info = _entry(item.path, when, zipfile.ZIP_STORED)
            info.file_size = item.size
            copied = 0
            with archive.open(info, "w", force_zip64=item.size >= _ZIP64_FROM) as member:
                for block in item.open():
                    member.write(block)
                    copied += len(block)
            if copied != item.size:
                raise ValueError(
                    f"{item.path}: expected {item.size} bytes, copied {copied}; it changed "
                    "while the EPUB was written"
                )
