"""The SSML subset of job markup (``markup: "ssml"``): an SSML text read into segments.

One job: reading SSML with expat into core.text.markup_segments' Speech, Break and Boundary
segments, refusing DTDs and entity declarations and locating each error in the job's text. The text
is read as the Unicode text it is: an XML declaration's encoding is ignored. What the
subset holds, and how the segments are used, is described in core.text.markup.
"""

import re
from typing import Literal
from xml.parsers import expat

from core.text.markup_segments import (
    MarkupError,
    Segment,
    SegmentBuilder,
    check_value,
    duration_seconds,
    voice_or_default,
)

# SSML break strengths in seconds: a comma-like pause up to a paragraph-like one
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.8,
                   "x-strong": 1.2}  # fmt: skip
DEFAULT_BREAK_STRENGTH = "medium"  # <break/> with neither time nor strength
PHONEME_ALPHABETS = frozenset({"ipa"})
_BOUNDARIES: dict[str, Literal["sentence", "paragraph"]] = {"p": "paragraph", "s": "sentence"}
# Refused before parsing: a DTD could declare entities that expand exponentially
_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# Matched where the text's leading spaces end: a leading \s* would be tried again from each
# space by a search
_SPEAK_START = re.compile(r"<\?xml|<speak[\s>/]")
_SPEAK_WRAP = ("<speak>", "</speak>")


class _SsmlReader:
    """Streams expat (the parser under xml.etree) events into segments, keeping the position
    of each element for error messages."""

    def __init__(self, source: str, shift: int, length: int, check_voice, check_phonemes):
        # A lone surrogate (never valid UTF-8) is passed on for expat to refuse as a parse error
        self.source = source.encode("utf-8", errors="surrogatepass")
        self.length = length  # of the job's text: a position never lies beyond it
        self.shift = shift  # characters added in front of the job's text (a <speak> wrapper)
        self.check_voice = check_voice
        self.check_phonemes = check_phonemes
        self.out = SegmentBuilder()
        self.voices: list[str | None] = [None]
        self.stack: list[str] = []
        # Inside <sub> or <phoneme>: (element, depth, value, position, collected text)
        self.capture: tuple[str, int, str, int, list[str]] | None = None
        # The text is UTF-8 whatever its XML declaration says: an encoding="..." there names
        # how a file's bytes were written, and this text was decoded already. Without the
        # override expat follows the declaration (a garbled "Café", or an error for UTF-7)
        self.parser = expat.ParserCreate(encoding="utf-8")
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.data
        self.parser.EntityDeclHandler = self.refuse_entity

    def position(self, byte_index: int) -> int:
        chars = len(self.source[: max(byte_index, 0)].decode("utf-8", errors="ignore"))
        return min(max(chars - self.shift, 0), self.length)

    def here(self) -> int:
        # A byte index: handlers raise MarkupError with it and read() converts it to characters
        # only then, as converting costs a pass over the text
        return self.parser.CurrentByteIndex

    def read(self) -> list[Segment]:
        try:
            self.parser.Parse(self.source, True)
        except expat.ExpatError as error:
            reason = expat.ErrorString(error.code)
            open_element = f" (<{self.stack[-1]}> is still open)" if len(self.stack) > 1 else ""
            raise MarkupError(
                f"the SSML does not parse: {reason}{open_element}; check that every element is "
                f"closed and that a literal & or < is written &amp; or &lt;",
                self.position(self.parser.ErrorByteIndex),
            ) from None
        except MarkupError as error:
            raise MarkupError(error.message, self.position(error.position)) from None
        return self.out.finish()

    def refuse_entity(self, *_args) -> None:
        raise MarkupError("entity declarations are not allowed in SSML", self.here())

    def data(self, text: str) -> None:
        if self.capture is not None:
            self.capture[4].append(text)
        else:
            self.out.text(text, self.voices[-1])

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.stack.append(name)
        if self.capture is not None:  # inside <sub>/<phoneme>: only the text counts
            return
        at = self.here()
        if name == "break":
            self.out.pause(self.break_seconds(attrs, at), at)
        elif name == "sub":
            if not attrs.get("alias", "").strip():
                raise MarkupError('<sub> needs the spoken text: <sub alias="...">', at)
            self.capture = (name, len(self.stack), attrs["alias"], at, [])
        elif name == "phoneme":
            self.capture = (name, len(self.stack), self.phoneme_value(attrs, at), at, [])
        elif name == "voice":
            spec = attrs.get("name", "").strip()
            if not spec:
                raise MarkupError('<voice> needs a voice: <voice name="...">', at)
            self.voices.append(
                voice_or_default(self.check_voice, spec, f'<voice name="{spec}">', at)
            )
        elif name in _BOUNDARIES:
            self.out.mark(_BOUNDARIES[name])

    def end(self, name: str) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self.capture is not None:
            element, capture_depth, value, at, texts = self.capture
            if depth != capture_depth:
                return
            self.capture = None
            written = "".join(texts)
            if not written.strip():
                raise MarkupError(
                    f"<{element}> has no written text; put the word it stands for inside, as in "
                    f"<{element} ...>word</{element}>",
                    at,
                )
            if element == "sub":
                self.out.alias(written, value, self.voices[-1])
            else:
                self.out.phoneme(written, value, self.voices[-1])
            return
        if name == "voice":
            self.voices.pop()
        elif name in _BOUNDARIES:
            self.out.mark(_BOUNDARIES[name])

    def phoneme_value(self, attrs: dict[str, str], at: int) -> str:
        alphabet = attrs.get("alphabet", "ipa").strip().lower()
        if alphabet not in PHONEME_ALPHABETS:
            raise MarkupError(
                f"<phoneme> alphabet {alphabet!r} is not supported; write Kokoro IPA with "
                f'alphabet="ipa"',
                at,
            )
        ph = attrs.get("ph", "").strip()
        if not ph:
            raise MarkupError('<phoneme> needs its phonemes: <phoneme ph="...">word</phoneme>', at)
        return check_value(self.check_phonemes, ph, "the phonemes of <phoneme>", at)

    def break_seconds(self, attrs: dict[str, str], at: int) -> float:
        if "time" in attrs:
            return duration_seconds(attrs["time"], "the break time", at)
        strength = attrs.get("strength", DEFAULT_BREAK_STRENGTH).strip().lower()
        if strength not in BREAK_STRENGTHS:
            raise MarkupError(
                f"break strength {strength!r} is not one of {', '.join(BREAK_STRENGTHS)}", at
            )
        return BREAK_STRENGTHS[strength]


def parse_ssml(text: str, check_voice, check_phonemes) -> list[Segment]:
    dtd = _DTD.search(text)
    if dtd:
        raise MarkupError(
            "DTDs and entity declarations are not allowed in SSML; remove the <!DOCTYPE> or "
            "<!ENTITY> and use only the predefined entities (&amp; &lt; &gt; &quot; &apos;)",
            dtd.start(),
        )
    source, shift = text, 0
    if not _SPEAK_START.match(text, len(text) - len(text.lstrip())):
        source = _SPEAK_WRAP[0] + text + _SPEAK_WRAP[1]
        shift = len(_SPEAK_WRAP[0])
    return _SsmlReader(source, shift, len(text), check_voice, check_phonemes).read()
