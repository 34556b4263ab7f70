"""Cover images: which are accepted (JPEG and PNG, known by their first bytes, not by what a
name or a header claims) and how large; and the data: URL a JSON body carries one in."""

import base64
import binascii
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_COVER_BYTES = 5 * 1024 * 1024  # a print-quality cover is 1 to 3 MB
# Media type -> (the image's first bytes, the extension it is stored under)
COVER_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff", "jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
}
# The longest base64 text of an image of MAX_COVER_BYTES, and a data: URL's header
MAX_COVER_TEXT_CHARS = 4 * -(-MAX_COVER_BYTES // 3) + 100
# Extension -> media type: a stored cover is known by its key's extension
IMAGE_MEDIA_TYPES = {extension: media_type for media_type, (_, extension) in COVER_TYPES.items()}
_DATA_URL = "data:"
_BASE64 = ";base64,"


class CoverError(ValueError):
    """Not a cover this service takes; ``too_large`` when only its size is wrong."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class CoverImage:
    data: bytes
    media_type: str

    @property
    def extension(self) -> str:
        return COVER_TYPES[self.media_type][1]


def image_extension(key: str) -> str | None:
    """The extension of a stored cover (its key's); None for a file that is not one."""
    extension = PurePosixPath(key).suffix.lower().lstrip(".")
    return extension if extension in IMAGE_MEDIA_TYPES else None


def image_type(data: bytes) -> str | None:
    """The media type of a JPEG or PNG by its first bytes; None for anything else."""
    for media_type, (magic, _) in COVER_TYPES.items():
        if data.startswith(magic):
            return media_type
    return None


def checked_cover(data: bytes, what: str = "the cover") -> CoverImage:
    """``data`` as a cover, else CoverError saying what to send instead."""
    if len(data) > MAX_COVER_BYTES:
        raise CoverError(
            f"{what} has {len(data):,} bytes; the most a cover may have is {MAX_COVER_BYTES:,}: "
            "send a smaller image (1,600 pixels high is plenty)",
            too_large=True,
        )
    media_type = image_type(data)
    if media_type is None:
        raise CoverError(f"{what} is not a JPEG or PNG image: send one of those")
    return CoverImage(data, media_type)


def decoded_cover(text: str) -> CoverImage:
    """A cover given as text: a data: URL (``data:image/jpeg;base64,...``) or bare base64."""
    if len(text) > MAX_COVER_TEXT_CHARS:
        raise CoverError(
            f"the cover's text has {len(text):,} characters, more than an image of "
            f"{MAX_COVER_BYTES:,} bytes takes: send a smaller image",
            too_large=True,
        )
    encoded = text.strip()
    if encoded.startswith(_DATA_URL):
        header, separator, encoded = encoded.partition(",")
        if not separator or not (header + ",").endswith(_BASE64):
            raise CoverError("a cover's data: URL must be base64: data:image/jpeg;base64,...")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CoverError(
            "the cover is neither a data: URL nor base64 text; send the image as "
            "data:image/jpeg;base64,... (or as a `cover` file in a multipart form)"
        ) from error
    return checked_cover(data)


def data_url(cover: CoverImage) -> str:
    return f"{_DATA_URL}{cover.media_type}{_BASE64}{base64.b64encode(cover.data).decode()}"
