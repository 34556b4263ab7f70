"""The audio format table: the one place a format's extension, media type, codec or bit rate is
written, and what the service derives from it."""

import re
from pathlib import Path

import pytest

from core.audio.formats import (
    FORMATS,
    LOSSY_BIT_RATE,
    AudioFormat,
    SampleFormat,
    StreamFormat,
    media_types,
)

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "core" / "audio" / "formats.py"
PACKAGES = ("api", "core", "infra", "worker", "storage", "cli")
SOURCES = [
    *(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")),
    *(ROOT / "api" / "static").rglob("*.js"),
]


def _quoted(word: str) -> re.Pattern:
    return re.compile(rf"""["'`]{re.escape(word)}["'`]""")


def _facts() -> dict[str, re.Pattern]:
    """Each fact of the table as it would be written elsewhere: a quoted media type, codec or
    muxer, the bit rate as a number."""
    facts = {f"bit rate {LOSSY_BIT_RATE}": re.compile(r"\b64[_,]?000\b")}
    for spec in FORMATS.values():
        facts[spec.media_type] = _quoted(spec.media_type)
        for name in (spec.codec, spec.muxer):
            if name and name not in FORMATS:  # "flac", "mp3", "wav" are names as well
                facts[name] = _quoted(name)
    return facts


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_format_fact_is_written_outside_the_table(source):
    if source == TABLE:
        return
    text = source.read_text(encoding="utf-8")
    strays = [fact for fact, pattern in _facts().items() if pattern.search(text)]
    assert not strays, f"{source.relative_to(ROOT)} writes {strays}: read core/audio/formats.py"


def test_the_enums_are_the_uses_of_the_table():
    assert [f.value for f in AudioFormat] == [n for n, f in FORMATS.items() if f.job]
    assert [f.value for f in StreamFormat] == [n for n, f in FORMATS.items() if f.stream]
    assert [f.value for f in SampleFormat] == [n for n, f in FORMATS.items() if f.sample]
    assert AudioFormat.OPUS.extension == "ogg" and AudioFormat.OPUS.media_type == "audio/ogg"


def test_every_stream_is_kept_as_a_job_format():
    kept = {fmt.value: fmt.job_format.value for fmt in StreamFormat}
    assert kept == {"wav": "wav", "pcm": "wav", "flac": "flac", "mp3": "mp3", "opus": "opus",
                    "aac": "m4b"}  # fmt: skip
    assert all(fmt.job_format in AudioFormat for fmt in StreamFormat)


def test_lossy_formats_have_a_bit_rate_and_codec():
    for spec in FORMATS.values():
        if spec.lossy:
            assert spec.codec and spec.bit_rate == LOSSY_BIT_RATE
    assert media_types("sample") == ["audio/mpeg", "audio/ogg", "audio/wav"]
