"""What both readers of job markup (the tags reader in core.text.markup, the SSML reader in
core.text.ssml) build and check: the segment types (Speech, Break, Boundary) and their phoneme
overrides and aliases, the builder that merges text into segments, the value checks, and the
stored form of a chunk's overrides. How markup is read and what the segments mean is described
in core.text.markup, which re-exports all of this: import from there.

A module of its own so that imports run one way: core.text.markup imports core.text.ssml, and both
import this.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

MAX_PAUSE_SECONDS = 10.0
DEFAULT_VOICE_NAMES = frozenset({"default"})  # [voice:default] / <voice name="default">

# Possessive, and never starting inside a run of spaces or digits: linear however it is used
# (a tag's value can be megabytes of spaces or digits)
_DURATION = re.compile(
    r"(?<![\s\d.])\s*+(?P<number>\d++(?:\.\d*+)?|\.\d++)\s*+(?P<unit>ms|s)\s*+", re.IGNORECASE
)


class MarkupError(ValueError):
    """Markup that cannot be read; ``position`` is the 0-based offset in the job's text."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position})")
        self.message = message
        self.position = position

    def __reduce__(self):  # so that it survives pickling (a Celery result, a process pool)
        return type(self), (self.message, self.position)


@dataclass(frozen=True)
class PhonemeOverride:
    """``written[start:end]`` is spoken with these Kokoro IPA phonemes."""

    start: int
    end: int
    phonemes: str


@dataclass(frozen=True)
class Alias:
    """``written[start:end]`` is shown but ``say`` is spoken instead (as normal text)."""

    start: int
    end: int
    say: str


Override = PhonemeOverride | Alias


@dataclass(frozen=True)
class Speech:
    written: str
    voice: str | None  # canonical voice spec; None means the job's voice
    phonemes: tuple[PhonemeOverride, ...] = ()
    aliases: tuple[Alias, ...] = ()

    @property
    def overrides(self) -> tuple[Override, ...]:
        """Phoneme overrides and aliases together, in text order (they never overlap)."""
        return tuple(sorted((*self.phonemes, *self.aliases), key=lambda o: o.start))

    def cut(self, start: int, end: int) -> "Speech":
        """The segment for ``written[start:end]``, spans re-based to it. A span the cut
        crosses is left out: its word is then read plainly rather than half overridden."""

        def inside(spans):
            return tuple(
                replace(s, start=s.start - start, end=s.end - start)
                for s in spans
                if start <= s.start and s.end <= end
            )

        return Speech(self.written[start:end], self.voice, inside(self.phonemes),
                      inside(self.aliases))  # fmt: skip


@dataclass(frozen=True)
class Break:
    seconds: float
    # Where its tag or element starts in the job's text, for an error about the silence it
    # adds up to (core/text/chunk_plan.py caps it); None where the reader does not say
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Boundary:
    kind: Literal["sentence", "paragraph"]


Segment = Speech | Break | Boundary


@dataclass
class SegmentBuilder:
    """Collects segments for the tags reader and core.text.ssml, merging consecutive text of one
    voice into one Speech."""

    segments: list[Segment] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    length: int = 0
    voice: str | None = None
    phonemes: list[PhonemeOverride] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    has_words: bool = False  # the text collected so far is not only whitespace
    boundary: Literal["sentence", "paragraph"] | None = None
    last: int | None = None  # index of the last segment that is not a Break

    def text(self, text: str, voice: str | None) -> None:
        if not text:
            return
        if voice != self.voice and self.length:
            self._flush_speech()
        if text.strip() and not self.has_words:
            self._flush_boundary()
            self.has_words = True
        self.voice = voice
        self.written.append(text)
        self.length += len(text)

    def phoneme(self, text: str, phonemes: str, voice: str | None) -> None:
        self.text(text, voice)
        self.phonemes.append(PhonemeOverride(self.length - len(text), self.length, phonemes))

    def alias(self, text: str, say: str, voice: str | None) -> None:
        self.text(text, voice)
        self.aliases.append(Alias(self.length - len(text), self.length, say))

    def pause(self, seconds: float, position: int | None = None) -> None:
        self._flush_speech()
        self._flush_boundary()
        self.segments.append(Break(seconds, position))

    def mark(self, kind: Literal["sentence", "paragraph"]) -> None:
        self._flush_speech()
        if self.boundary != "paragraph":  # a paragraph end is also a sentence end
            self.boundary = kind

    def finish(self) -> list[Segment]:
        self._flush_speech()
        return self.segments

    def _flush_boundary(self) -> None:
        # No boundary before the first text, none after the last, and one between two texts
        # even with breaks between them (the stronger, a paragraph, if both were marked)
        kind, self.boundary = self.boundary, None
        if kind is None or self.last is None:
            return
        if not isinstance(self.segments[self.last], Boundary):
            self.last = len(self.segments)
            self.segments.append(Boundary(kind))
        elif kind == "paragraph":
            self.segments[self.last] = Boundary(kind)

    def _flush_speech(self) -> None:
        if self.has_words:
            written = "".join(self.written)
            self.last = len(self.segments)
            self.segments.append(
                Speech(written, self.voice, tuple(self.phonemes), tuple(self.aliases))
            )
        self.written, self.length, self.phonemes, self.aliases = [], 0, [], []
        self.has_words = False


def check_value(callback: Callable[[str], str] | None, value: str, what: str, position: int) -> str:
    """``callback(value)``, its ValueError raised as a MarkupError at ``position``."""
    if callback is None:
        return value
    try:
        return callback(value)
    except ValueError as error:
        raise MarkupError(f"{what}: {error}", position) from None


def voice_or_default(check_voice, spec: str, what: str, at: int) -> str | None:
    """The canonical voice of a tag or element; None for the job's own voice."""
    return None if spec.lower() in DEFAULT_VOICE_NAMES else check_value(check_voice, spec, what, at)


def duration_seconds(value: str, where: str, position: int) -> float:
    """The seconds of a pause or break time such as "1.5s" or "500ms", at most MAX_PAUSE_SECONDS."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise MarkupError(
            f"{where} {value.strip()!r} is not a duration; write seconds or milliseconds with "
            f"their unit, as in 1.5s or 500ms",
            position,
        )
    seconds = float(match["number"]) / (1000 if match["unit"].lower() == "ms" else 1)
    if seconds > MAX_PAUSE_SECONDS:
        raise MarkupError(
            f"{where} {value.strip()!r} is longer than the {MAX_PAUSE_SECONDS:g} s a pause may "
            f"last; use several pauses or a shorter one",
            position,
        )
    return seconds


def overrides_to_json(overrides: Iterable[Override]) -> list[dict] | None:
    """A chunk's overrides as stored in its row (None: it has none)."""
    rows = [
        {"start": o.start, "end": o.end, "phonemes": o.phonemes}
        if isinstance(o, PhonemeOverride)
        else {"start": o.start, "end": o.end, "say": o.say}
        for o in overrides
    ]
    return rows or None


def overrides_from_json(rows: list[dict] | None) -> tuple[Override, ...]:
    """The overrides ``overrides_to_json`` stored."""
    return tuple(
        PhonemeOverride(r["start"], r["end"], r["phonemes"])
        if "phonemes" in r
        else Alias(r["start"], r["end"], r["say"])
        for r in rows or ()
    )
