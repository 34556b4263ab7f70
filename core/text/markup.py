"""Inline markup in job text: pauses, voice changes and pronunciations, only when a job asks.

A job's ``markup`` option says how its text is read:

- ``"none"`` (the default): plain text, never interpreted, so book text full of brackets and
  angle brackets is read as written. The result is one Speech segment holding the text as is.
- ``"tags"``: square-bracket tags. ``[pause:1.5s]`` / ``[pause:500ms]`` is silence (0 to
  MAX_PAUSE_SECONDS; the pauses of one gap add up, and core/text/chunk_plan.py caps their sum and
  the job's); ``[voice:name]`` or ``[voice:a:0.7,b:0.3]`` speaks from there on with that
  voice or blend, ``[voice]`` / ``[voice:default]`` returns to the job's voice; ``[word](/ipa/)``
  speaks that occurrence of ``word`` with the Kokoro IPA phonemes between the slashes. Anything
  else in square brackets is plain text.
- ``"ssml"``: an SSML subset, read by core.text.ssml. ``<speak>`` (optional around the whole text),
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
canonical_voice(spec, voices), check_phonemes=core.speech.lexicon.check_phonemes)`` and answers
a MarkupError with 422 and its ``position``. The worker parses the same way, speaks each Speech
with ``speech.voice or job.voice``, cuts a Speech into chunks with ``speech.cut(start, end)``
(spans re-based to the chunk), phonemizes a chunk with
``core.speech.pronunciation.phonemize_with_lexicon(chunk.written, lexicon, phonemize,
chunk.overrides)``, inserts a Break's silence, and ends a chunk at a Boundary with the pause of
a sentence or paragraph end. Pure: callbacks say which voices and phonemes are valid.

This module holds the tags reader and parse_markup; the SSML reader is core.text.ssml; the segment
types, the builder and the value checks both readers share are core.text.markup_segments
(re-exported here, so that users of markup import this module only).
"""

import re
from collections.abc import Callable

from core.text.markup_segments import (
    DEFAULT_VOICE_NAMES,
    MAX_PAUSE_SECONDS,
    Alias,
    Boundary,
    Break,
    MarkupError,
    Override,
    PhonemeOverride,
    Segment,
    SegmentBuilder,
    Speech,
    check_value,
    duration_seconds,
    overrides_from_json,
    overrides_to_json,
    voice_or_default,
)
from core.text.ssml import parse_ssml

__all__ = [
    "DEFAULT_VOICE_NAMES",
    "MARKUP_MODES",
    "MAX_PAUSE_SECONDS",
    "Alias",
    "Boundary",
    "Break",
    "MarkupError",
    "Override",
    "PhonemeOverride",
    "Segment",
    "SegmentBuilder",
    "Speech",
    "check_value",
    "duration_seconds",
    "overrides_from_json",
    "overrides_to_json",
    "parse_markup",
    "voice_or_default",
]

MARKUP_MODES = ("none", "tags", "ssml")

# The word-phoneme form comes first so that "[voice](/vˈɔɪs/)" is a pronunciation, not a tag.
# Tag names are case-insensitive; a tag's value runs to the first "]".
_TAG = re.compile(
    r"\[(?P<word>[^\[\]]+)\]\(/(?P<ipa>[^/()]*)/\)"
    r"|\[(?i:pause)\s*:(?P<pause>[^\[\]]*)\]"
    r"|\[(?i:voice)(?:\s*:(?P<voice>[^\[\]]*))?\]"
)


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
    returns the phonemes to use or raises ValueError (e.g. core.speech.lexicon.check_phonemes).
    Raises MarkupError (a ValueError with ``position``) for markup that cannot be read, and
    ValueError for an unknown mode.
    """
    if mode == "none":
        return [Speech(text, None)]
    if mode == "tags":
        return _parse_tags(text, check_voice, check_phonemes)
    if mode == "ssml":
        return parse_ssml(text, check_voice, check_phonemes)
    raise ValueError(f"unknown markup mode {mode!r}; use one of {', '.join(MARKUP_MODES)}")
