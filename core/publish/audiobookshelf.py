"""A finished book as an upload to Audiobookshelf: ``POST {server}/api/upload`` with
``Authorization: Bearer {token}`` and a multipart form of the book's ``title``, ``author`` and
``series``, the ``library`` and ``folder`` ids, and its files (the audio, then the cover).
Audiobookshelf puts the files in ``<folder>/<author>/<series>/<title>/`` and scans them in.

Pure: what the form holds and how its files are named; the worker sends it
(worker/deliveries.py).
"""

from dataclasses import dataclass

from core.jobs.callback_urls import UrlUse

TARGET = "audiobookshelf"
UPLOAD_PATH = "/api/upload"
# Characters that are not allowed, or mean a directory, in the file names of the systems
# Audiobookshelf runs on
_UNSAFE_IN_NAMES = str.maketrans(
    {c: "_" for c in '/\\:*?"<>|'} | {c: None for c in map(chr, range(32))}
)
MAX_NAME_CHARS = 120
SHOWN_SECRET = "***"
# How a refused server URL is named, and how to allow one on the LAN (core/jobs/callback_urls.py)
URL_USE = UrlUse(
    "deliver.audiobookshelf.url",
    "delivery to loopback or private addresses is refused; set KQ_DELIVER_ALLOW_PRIVATE=true "
    "on the API and the workers to allow it (an Audiobookshelf server on the LAN)",
)


@dataclass(frozen=True)
class AudiobookshelfTarget:
    """Where books go: the server's URL, the API token of a user who may upload, and the ids of
    the library and of its folder the books are put in."""

    url: str
    token: str
    library: str
    folder: str

    @classmethod
    def from_settings(cls, settings: dict) -> "AudiobookshelfTarget":
        """From stored settings ({"url", "token", "library", "folder"}); ValueError naming
        what is missing."""
        missing = [
            name
            for name in ("url", "token", "library", "folder")
            if not isinstance(settings.get(name), str) or not settings[name]
        ]
        if missing:
            raise ValueError(f"audiobookshelf delivery settings lack {', '.join(missing)}")
        return cls(settings["url"], settings["token"], settings["library"], settings["folder"])

    @property
    def upload_url(self) -> str:
        # The server may live under a path (https://example.com/audiobookshelf)
        return self.url.rstrip("/") + UPLOAD_PATH

    def redacted(self, text: str) -> str:
        """``text`` (an error message, say) with the token replaced: it is never shown."""
        return text.replace(self.token, SHOWN_SECRET) if self.token else text


def upload_fields(
    target: AudiobookshelfTarget, *, title: str, author: str | None, series: str | None
) -> dict[str, str]:
    """The form's text fields; author and series only when known (Audiobookshelf then files the
    book directly under the folder, or under its author)."""
    fields = {"title": title, "library": target.library, "folder": target.folder}
    if author:
        fields["author"] = author
    if series:
        fields["series"] = series
    return fields


def file_name(stem: str, extension: str, fallback: str = "audiobook") -> str:
    """A file name for an uploaded file: ``stem`` without characters file systems refuse or read
    as directories, shortened, with ``extension`` (Audiobookshelf knows files by it)."""
    safe = stem.translate(_UNSAFE_IN_NAMES).strip(" .")[:MAX_NAME_CHARS].strip(" .")
    return f"{safe or fallback}.{extension}"
