"""Bounded stream decoding for pdfminer.six.

pdfminer decodes a PDF stream whole and without a limit: a 10 MB upload of Flate, LZW or
RunLength streams could unpack to gigabytes before the first page is read. Its decoders are
replaced here (module attributes of pdfminer.pdftypes, which ``PDFStream.decode`` calls by
name) with ones that count what they produce against the allowance of the PDF being read in
this thread (``decoding_allowance``), and stop with ``DecodedTooMuch`` past it. Outside an
allowance they decode as pdfminer's own do, linearly.
"""

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

from pdfminer import pdftypes
from pdfminer.lzw import LZWDecoder

_RUN_END = 128  # RunLengthDecode's end-of-data length byte


class DecodedTooMuch(Exception):
    """The streams of the PDF being read unpacked to more than its allowance."""


class _Allowance(threading.local):
    bytes_left: int | None = None


_allowance = _Allowance()


@contextmanager
def decoding_allowance(max_bytes: int) -> Iterator[None]:
    """While this lasts, the streams this thread decodes may unpack to ``max_bytes`` in all;
    then the allowance before it, if any, holds again."""
    before = _allowance.bytes_left
    _allowance.bytes_left = max_bytes
    try:
        yield
    finally:
        _allowance.bytes_left = before


def _room() -> int | None:
    """How many more bytes may be decoded, or None outside an allowance."""
    return _allowance.bytes_left


def _spend(size: int) -> None:
    if _allowance.bytes_left is not None:
        _allowance.bytes_left -= size
        if _allowance.bytes_left < 0:
            raise DecodedTooMuch


def _inflate(data: bytes) -> bytes:
    """zlib-decompress ``data``, never holding more than the allowance left (plus one byte, to
    know it was passed). A cut or corrupted stream gives what came before the damage, as
    pdfminer's fallback for one does; a stream that is not zlib at all raises zlib.error."""
    room = _room()
    inflater = zlib.decompressobj()
    if room is None:
        return inflater.decompress(data) + inflater.flush()
    out = inflater.decompress(data, room + 1)
    _spend(len(out))
    return out


class _BoundedZlib:
    """What pdfminer.pdftypes uses of the zlib module."""

    error = zlib.error

    @staticmethod
    def decompress(data: bytes) -> bytes:
        return _inflate(data)


def _lenient_inflate(data: bytes) -> bytes:
    # pdfminer's own fallback feeds the stream a byte at a time and copies what it has made
    # for each: quadratic in the stream
    try:
        return _inflate(data)
    except zlib.error:
        return b""


def _lzw(data: bytes) -> bytes:
    pieces = []
    for piece in LZWDecoder(BytesIO(data)).run():
        _spend(len(piece))
        pieces.append(piece)
    return b"".join(pieces)


def _run_length(data: bytes) -> bytes:
    out = bytearray()
    at = 0
    while at < len(data) and data[at] != _RUN_END:
        length = data[at]
        if length < _RUN_END:  # the next length + 1 bytes as they are
            piece = data[at + 1 : at + 2 + length]
            at += 2 + length
        else:  # the next byte, 257 - length times
            piece = data[at + 1 : at + 2] * (257 - length)
            at += 2
        _spend(len(piece))
        out += piece
    return bytes(out)


pdftypes.zlib = _BoundedZlib  # type: ignore[assignment]
pdftypes.decompress_corrupted = _lenient_inflate
pdftypes.lzwdecode = _lzw
pdftypes.rldecode = _run_length
