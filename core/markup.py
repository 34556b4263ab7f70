"""Inline markup in job text: pauses, voice changes and pronunciations, only when a job asks.

A job's ``markup`` option says how its text is read:

- ``"none"`` (the default): plain text, never interpreted, so book text full of brackets and
  angle brackets is read as written. The result is one Speech segment holding the text as is.
- ``"tags"``: square-bracket tags. ``[pause:1.5s]`` / ``[pause:500ms]`` is silence (0 to
  MAX_PAUSE_SECONDS; the pauses of one gap add up, and core/chunk_plan.py caps their sum and
  the job's); ``[voice:name]`` or ``[voice:a:0.7,b:0.3]`` speaks from there on with that
  voice or blend, ``[voice]`` / ``[voice:default]`` returns to the job's voice; ``[word](/ipa/)``
  speaks that occurrence of ``word`` with the Kokoro IPA phonemes between the slashes. Anything
  else in square brackets is plain text.
- ``"ssml"``: an SSML subset, read by core.ssml. ``<speak>`` (optional around the whole text),
  ``<break time="500ms"/>`` or ``time="2s"`` or
  ``strength="none|x-weak|weak|medium|strong|x-strong"``,
  ``<sub alias="spoken">written</sub>``, ``<phoneme alphabet="ipa" ph="...">word</phoneme>``,
  ``<voice name="...">...</voice>`` (nested; the outer voice comes back after it), ``<p>`` and
  ``<s>`` (paragraph and sentence boundaries). Any other element is read as its text content;
  entities (``&amp;``, ``&#233;``) are decoded. DTDs and entity declarations are refused.

parse_markup returns segments in order: Speech (text to say with one voice), Break (silence) and
Boundary (a sentence or paragraph end that the worker should cut a chunk at). ``Speech.written``
is the text with the markup removed, which is what subtitles show; its phoneme overrides and
aliases are spans of ``written``. Consecutive text with the same voice is one Speech; Speech
that is only whitespace is dropped.

Use: the API validates a job with ``parse_markup(text, mode, check_voice=lambda spec:
canonical_voice(spec, voices), check_phonemes=core.lexicon.check_phonemes)`` and answers
a MarkupError with 422 and its ``position``. The worker parses the same way, speaks each Speech
with ``speech.voice or job.voice``, cuts a Speech into chunks with ``speech.cut(start, end)``
(spans re-based to the chunk), phonemizes a chunk with
``core.pronunciation.phonemize_with_lexicon(chunk.written, lexicon, phonemize,
chunk.overrides)``, inserts a Break's silence, and ends a chunk at a Boundary with the pause of
a sentence or paragraph end. Pure: callbacks say which voices and phonemes are valid.

This module holds the segment types, the builder and value checks both readers share, the
tags reader and parse_markup; the SSML reader is core.ssml.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

MARKUP_MODES = ("none", "tags", "ssml")
MAX_PAUSE_SECONDS = 10.0
DEFAULT_VOICE_NAMES = frozenset({"default"})  # [voice:default] / <voice name="default">

# The word-phoneme form comes first so that "[voice](/vˈɔɪs/)" is a pronunciation, not a tag.
# Tag names are case-insensitive; a tag's value runs to the first "]".
_TAG = re.compile(
    r"\[(?P<word>[^\[\]]+)\]\(/(?P<ipa>[^/()]*)/\)"
    r"|\[(?i:pause)\s*:(?P<pause>[^\[\]]*)\]"
    r"|\[(?i:voice)(?:\s*:(?P<voice>[^\[\]]*))?\]"
)
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
    # adds up to (core/chunk_plan.py caps it); None where the reader does not say
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Boundary:
    kind: Literal["sentence", "paragraph"]


Segment = Speech | Break | Boundary


@dataclass
class SegmentBuilder:
    """Collects segments for the tags reader and core.ssml, merging consecutive text of one
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


def _parse_tags(text, check_voice, check_phonemes) -> list[Segment]:
    out = SegmentBuilder()
    voice: str | None = None
    done = 0
    for match in _TAG.finditer(text):
        out.text(text[done : match.start()], voice)
        done = match.end()
        at = match.start()
        if match["word"] is not None:
            ipa = match["ipa"].strip()
            if not ipa:
                raise MarkupError(
                    f"the pronunciation of {match['word']!r} is empty; put Kokoro IPA phonemes "
                    f"between the slashes, as in [{match['word']}](/wˈɜːd/)",
                    at,
                )
            ipa = check_value(check_phonemes, ipa, f"the phonemes of {match['word']!r}", at)
            out.phoneme(match["word"], ipa, voice)
        elif match["pause"] is not None:
            out.pause(duration_seconds(match["pause"], "the pause", at), at)
        else:
            spec = (match["voice"] or "default").strip()
            voice = voice_or_default(check_voice, spec, f"[voice:{spec}]", at)
    out.text(text[done:], voice)
    return out.finish()


def parse_markup(
    text: str,
    mode: str,
    *,
    check_voice: Callable[[str], str],
    check_phonemes: Callable[[str], str] | None = None,
) -> list[Segment]:
    """The segments of ``text`` read in ``mode`` (one of MARKUP_MODES).

    ``check_voice(spec)`` returns the canonical voice spec or raises ValueError saying what is
    wrong (e.g. ``lambda s: canonical_voice(s, voices)``); ``check_phonemes(ipa)``, when given,
    returns the phonemes to use or raises ValueError (e.g. core.lexicon.check_phonemes).
    Raises MarkupError (a ValueError with ``position``) for markup that cannot be read, and
    ValueError for an unknown mode.
    """
    if mode == "none":
        return [Speech(text, None)]
    if mode == "tags":
        return _parse_tags(text, check_voice, check_phonemes)
    if mode == "ssml":
        # Imported here, not at the top: core.ssml builds on this module's segments and checks
        from core.ssml import parse_ssml

        return parse_ssml(text, check_voice, check_phonemes)
    raise ValueError(f"unknown markup mode {mode!r}; use one of {', '.join(MARKUP_MODES)}")
