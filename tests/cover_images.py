"""Small real cover images for tests: a PNG written by hand, a JPEG encoded by FFmpeg."""

import struct
import zlib
from fractions import Fraction

import av
import numpy as np


def png_image(width: int = 8, height: int = 12, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A PNG of one colour (8-bit RGB, unfiltered rows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_image(width: int = 16, height: int = 16, grey: int = 180) -> bytes:
    """A baseline JPEG of one shade, as FFmpeg's MJPEG encoder writes one frame."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    pixels = np.full((height, width, 3), grey, np.uint8)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)])
