"""Pronunciations: a server-wide lexicon and per-job entries, applied when text is phonemized.

An entry maps a word to how it is said. In a job's ``pronunciations`` and in the lexicon file
(``KQ_LEXICON_PATH``, ``.toml`` or ``.json``, a table/object of the same entries):

- ``"Hermione": "hɜːmˈaɪəni"``: Kokoro IPA phonemes (characters of the model's vocabulary);
- ``"Nguyen": {"say": "win"}``: a respelling, phonemized like any other text;
- ``"Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": true}``: the long form.

Entries match whole words: a match is not preceded or followed by a letter, digit or an
apostrophe joined to one. Matching ignores case unless the entry is ``case_sensitive``; a
case-sensitive entry is preferred over one that ignores case. A possessive counts as the word:
"Hermione's" is the entry's phonemes plus the possessive ending (z, s or ᵻz after the entry's
last sound; a respelling is phonemized with its "'s"). Job entries win over the server's for the
words they cover: ``Lexicon.overlay``.

phonemize_with_lexicon turns text into one phoneme string for
``Kokoro.create(phonemes, is_phonemes=True)``: the whole text is phonemized as usual and only
the matched words' phonemes are replaced, so every other word keeps exactly the phonemes that
espeak gives it in context (stress by position, "the" before a vowel, a linking r). To find
the matched words in espeak's output, the text is phonemized again with each match replaced by
a placeholder word, the two outputs are aligned word by word, and each match is found among
the differing words by its own phonemes.

Use: the server loads ``load_lexicon(KQ_LEXICON_PATH)`` once (EMPTY_LEXICON without one); the
API checks a job with ``Lexicon.parse(job_pronunciations)`` (LexiconError -> 422) and, without
the model, phonemes with check_phonemes (vocabulary() reads kokoro-onnx's config file only).
The worker phonemizes each chunk with ``phonemize_with_lexicon(text, server.overlay(job),
lambda s: kokoro.tokenizer.phonemize(s, lang), overrides)``; ``overrides`` are the chunk's
core.markup spans (``Speech.overrides``).
"""

import difflib
import importlib.util
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from core.markup import Alias, Override, PhonemeOverride

MAX_ENTRIES = 10_000  # per lexicon: bounds its memory and the time to check it
MAX_WORD_CHARS = 100
MAX_PHONEMES_CHARS = 200
LEXICON_SUFFIXES = (".toml", ".json")
ENTRY_KEYS = frozenset({"phonemes", "say", "case_sensitive"})
# Nonsense words espeak reads as one stable word, used to find a match in its output; the
# first whose phonemes are not already in the text is used
PLACEHOLDERS = ("kabuvo", "zumbaxo", "vimbalo")
# Possessive endings by the entry's last sound, as espeak writes them ("Liz's" -> lˈɪzᵻz)
_SIBILANTS = frozenset("szʃʒʧʤ")
_VOICELESS = frozenset("ptkfθ")
_PHONEME_MARKS = "ˈˌːˑ "  # stress and length marks, skipped to find the last sound
_SPACES = re.compile(r"\s+")
# A word: letters and digits, with apostrophes inside ("O'Brien", "Hermione's") but not at its
# ends, where they are quotes. Underscores and hyphens separate words.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHES = "'’"
_PUNCTUATION = ';:,.!?¡¿—…"«»“”()'  # what espeak's output keeps of the text's punctuation
_BARE_TABLE = str.maketrans("", "", "ˈˌ " + _PUNCTUATION)


class LexiconError(ValueError):
    """A lexicon file or a job's pronunciations that cannot be used; the message says why."""


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The phoneme characters Kokoro knows, from kokoro-onnx's config.json, read without
    importing kokoro_onnx (which would load onnxruntime into the API process)."""
    spec = importlib.util.find_spec("kokoro_onnx")
    if spec is None or spec.origin is None:
        raise RuntimeError("kokoro-onnx is not installed; install the project's dependencies")
    config = Path(spec.origin).parent / "config.json"
    with config.open(encoding="utf-8") as file:
        return frozenset(json.load(file)["vocab"])


def check_phonemes(phonemes: str) -> str:
    """The phonemes, stripped; ValueError naming any character Kokoro does not know."""
    phonemes = phonemes.strip()
    if not phonemes:
        raise ValueError("the phonemes are empty; write Kokoro IPA such as hɜːmˈaɪəni")
    if len(phonemes) > MAX_PHONEMES_CHARS:
        raise ValueError(f"the phonemes are longer than {MAX_PHONEMES_CHARS} characters")
    unknown = sorted(set(phonemes) - vocabulary())
    if unknown:
        listed = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in unknown)
        raise ValueError(
            f"{phonemes!r} has characters that are not Kokoro phonemes: {listed}; use only "
            "Kokoro's IPA (as espeak-ng en-us writes it, e.g. ˈ for stress, ɹ for r)"
        )
    return phonemes


@dataclass(frozen=True)
class Pronunciation:
    """How a word is said: ``phonemes`` (Kokoro IPA) or ``say`` (a respelling), never both."""

    phonemes: str | None = None
    say: str | None = None
    case_sensitive: bool = False


def _is_word(word: str) -> bool:
    """Whether a word or phrase starts and ends with a whole word, as matching needs."""
    words = list(_WORD.finditer(word))
    return bool(words) and words[0].start() == 0 and words[-1].end() == len(word)


def _entry(word: object, value: object, source: str) -> tuple[str, Pronunciation]:
    if not isinstance(word, str) or not _is_word(word.strip()):
        raise LexiconError(
            f"{source}: {word!r} is not a word; an entry's word must start and end with a "
            "letter or digit"
        )
    word = _SPACES.sub(" ", word.strip())
    where = f"{source}, entry {word!r}"
    if len(word) > MAX_WORD_CHARS:
        raise LexiconError(f"{where}: a word is at most {MAX_WORD_CHARS} characters")
    if isinstance(value, str):
        value = {"phonemes": value}
    if not isinstance(value, Mapping):
        raise LexiconError(
            f'{where}: give phonemes as a string, or {{"say": "..."}} or '
            f'{{"phonemes": "...", "case_sensitive": true}}'
        )
    extra = sorted(set(value) - ENTRY_KEYS)
    if extra:
        raise LexiconError(
            f"{where}: unknown keys {', '.join(map(str, extra))}; use {', '.join(ENTRY_KEYS)}"
        )
    if ("phonemes" in value) == ("say" in value):
        raise LexiconError(f'{where}: give exactly one of "phonemes" and "say"')
    case_sensitive = value.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise LexiconError(f'{where}: "case_sensitive" must be true or false')
    text = value.get("phonemes", value.get("say"))
    if not isinstance(text, str) or not text.strip():
        raise LexiconError(f"{where}: the pronunciation must be a non-empty string")
    if "say" in value:
        return word, Pronunciation(say=text.strip(), case_sensitive=case_sensitive)
    try:
        phonemes = check_phonemes(text)
    except ValueError as error:
        raise LexiconError(f"{where}: {error}") from None
    return word, Pronunciation(phonemes=phonemes, case_sensitive=case_sensitive)


@dataclass(frozen=True)
class Match:
    """``text[start:end]`` is said as ``pronunciation``; ``possessive`` when it ends in 's."""

    start: int
    end: int
    pronunciation: Pronunciation
    possessive: bool = False


@dataclass(frozen=True)
class Lexicon:
    """Words and their pronunciations, matched as whole words; build one with parse.

    Matching looks words up rather than running one pattern of every entry, so a lexicon of
    thousands of entries costs a dictionary lookup per word (and per phrase length) of text.
    """

    exact: Mapping[str, Pronunciation]  # case-sensitive entries by word
    folded: Mapping[str, Pronunciation]  # the others by casefolded word

    @cached_property
    def _longest(self) -> int:
        """The most words in one entry ("New York City": 3): phrases are tried longest first."""
        return max((len(_WORD.findall(w)) for w in (*self.exact, *self.folded)), default=0)

    @classmethod
    def parse(
        cls, entries: object, source: str = "pronunciations", max_entries: int = MAX_ENTRIES
    ) -> "Lexicon":
        """A lexicon from a job's ``pronunciations`` (or a file's table); LexiconError naming
        the bad entry and the fix. The API may hold a job to fewer entries than a file."""
        if entries is None:
            return cls({}, {})
        if not isinstance(entries, Mapping):
            raise LexiconError(f"{source}: give an object of word: pronunciation entries")
        if len(entries) > max_entries:
            raise LexiconError(f"{source}: at most {max_entries} entries, not {len(entries)}")
        exact: dict[str, Pronunciation] = {}
        folded: dict[str, Pronunciation] = {}
        for word, value in entries.items():
            word, entry = _entry(word, value, source)
            if entry.case_sensitive:
                exact[word] = entry
            else:
                folded[word.casefold()] = entry
        return cls(exact, folded)

    def overlay(self, job: "Lexicon") -> "Lexicon":
        """This (server) lexicon with a job's entries on top: a job entry replaces the
        server's for every spelling it covers (all case forms, unless it is case-sensitive)."""
        exact = {w: e for w, e in self.exact.items() if w.casefold() not in job.folded}
        return Lexicon({**exact, **job.exact}, {**self.folded, **job.folded})

    def lookup(self, word: str) -> Pronunciation | None:
        word = _SPACES.sub(" ", word)
        return self.exact.get(word) or self.folded.get(word.casefold())

    def matches(self, text: str) -> list[Match]:
        """The entries' whole-word occurrences in text, in order, never overlapping; at each
        word the entry of the most words wins ("New York City" over "New York")."""
        if not self._longest:
            return []
        words = list(_WORD.finditer(text))
        found: list[Match] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                match = self._match(text, words[i].start(), words[i + n - 1].end())
                if match is not None:
                    found.append(match)
                    i += n
                    break
            else:
                i += 1
        return found

    def _match(self, text: str, start: int, end: int) -> Match | None:
        phrase = text[start:end]
        entry = self.lookup(phrase)
        if entry is not None:
            return Match(start, end, entry)
        if len(phrase) > 2 and phrase[-2] in _APOSTROPHES and phrase[-1] in "sS":
            entry = self.lookup(phrase[:-2])
            if entry is not None:
                return Match(start, end, entry, possessive=True)
        return None


EMPTY_LEXICON = Lexicon({}, {})


def load_lexicon(path: str | Path) -> Lexicon:
    """The lexicon in a ``.toml`` or ``.json`` file; LexiconError saying what to fix."""
    path = Path(path)
    if path.suffix.lower() not in LEXICON_SUFFIXES:
        raise LexiconError(
            f"lexicon {path}: the file must end in {' or '.join(LEXICON_SUFFIXES)}, which says "
            "how it is read"
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LexiconError(
            f"lexicon {path} cannot be read ({error.strerror}); check KQ_LEXICON_PATH"
        ) from None
    try:
        text = raw.decode("utf-8")
        entries = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except UnicodeDecodeError as error:
        raise LexiconError(f"lexicon {path} is not UTF-8 (byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise LexiconError(f"lexicon {path} is not valid TOML: {error}") from None
    except json.JSONDecodeError as error:
        raise LexiconError(
            f"lexicon {path} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None
    return Lexicon.parse(entries, source=f"lexicon {path}")


def possessive_ending(phonemes: str) -> str:
    """The 's ending after these phonemes: ᵻz after a sibilant, s after a voiceless sound."""
    last = phonemes.rstrip(_PHONEME_MARKS)[-1:]
    if last in _SIBILANTS:
        return "ᵻz"
    return "s" if last in _VOICELESS else "z"


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    phonemes: str


def _replacements(
    text: str, lexicon: Lexicon, overrides: Sequence[Override], phonemize: Callable[[str], str]
) -> list[_Replacement]:
    """Every span of text to replace, with its phonemes: explicit overrides first, then the
    lexicon's matches that do not overlap one."""
    spans: list[_Replacement] = []
    done = 0
    for override in sorted(overrides, key=lambda o: o.start):
        if not done <= override.start < override.end <= len(text):
            raise ValueError(
                f"override {override} lies outside the text of {len(text)} characters or "
                "overlaps another; give spans of this text, as Speech.cut re-bases them"
            )
        done = override.end
        if isinstance(override, PhonemeOverride):
            spans.append(_Replacement(override.start, override.end, override.phonemes))
        elif isinstance(override, Alias):
            spans.append(_Replacement(override.start, override.end, phonemize(override.say)))
    taken = sorted((s.start, s.end) for s in spans)
    for match in lexicon.matches(text):
        if any(start < match.end and match.start < end for start, end in taken):
            continue
        entry = match.pronunciation
        if entry.say is not None:
            phonemes = phonemize(entry.say + ("'s" if match.possessive else ""))
        else:
            phonemes = entry.phonemes or ""
            if match.possessive:
                phonemes += possessive_ending(phonemes)
        spans.append(_Replacement(match.start, match.end, phonemes))
    return sorted((s for s in spans if s.phonemes.strip()), key=lambda s: s.start)


def _with_placeholder(text: str, spans: list[_Replacement], placeholder: str) -> str:
    parts, done = [], 0
    for span in spans:
        parts += [text[done : span.start], placeholder]
        done = span.end
    return "".join([*parts, text[done:]])


def _bare(phonemes: str) -> str:
    """Phonemes without stress marks, punctuation or spaces, to compare words said apart and
    in context (espeak lowers the stress of some words by position: ɡˈoʊɪŋ / ɡˌoʊɪŋ)."""
    return phonemes.translate(_BARE_TABLE)


def _find(plain: list[str], alone: str, start: int) -> tuple[int, int] | None:
    """Where in plain, from word ``start`` on, the words of ``alone`` are (stress aside)."""
    size, target = len(alone.split()), _bare(alone)
    for a in range(start, len(plain) - size + 1):
        if target and _bare(" ".join(plain[a : a + size])) == target:
            return a, a + size
    return None


def _place(
    marked: list[str], plain: list[str], mark: str, spans: list[tuple[str, str]]
) -> list[str]:
    """The words of one region where plain and marked differ, with the region's placeholders
    in marked standing for ``spans`` (their phonemes, and their text phonemized alone).

    Where plain has a span's text said as it is alone, those words are replaced, keeping the
    punctuation espeak attached, and all the other words are plain's. Otherwise, for a single
    placeholder with word counts that agree, plain's words left and right of its place are
    kept and the placeholder's word is replaced with whatever espeak joined to it (the rest of
    a hyphenated word). Else the neighbours are taken as said next to the placeholders:
    changed, but none lost.
    """
    out: list[str] = []
    cursor = 0
    for phonemes, alone in spans:
        found = _find(plain, alone, cursor)
        if found is None:
            break
        a, b = found
        lead = plain[a][: len(plain[a]) - len(plain[a].lstrip(_PUNCTUATION))]
        trail = plain[b - 1][len(plain[b - 1].rstrip(_PUNCTUATION)) :]
        out += [*plain[cursor:a], lead + phonemes + trail]
        cursor = b
    else:
        return out + plain[cursor:]
    words = " ".join(marked)
    for phonemes, _alone in spans:
        words = words.replace(mark, phonemes, 1)
    if len(spans) == 1:
        k = next(i for i, word in enumerate(marked) if mark in word)
        right = len(marked) - k - 1
        if len(plain) == len(marked) + len(spans[0][1].split()) - 1:
            return [*plain[:k], marked[k].replace(mark, spans[0][0]), *plain[len(plain) - right :]]
    return words.split()


def _splice(plain: str, marked: str, mark: str, spans: list[tuple[str, str]]) -> str | None:
    """plain's phonemes with each placeholder of ``marked`` replaced by its span's phonemes
    (``spans``: phonemes and the span's text phonemized alone, in text order), or None when
    the placeholders cannot be placed.

    The two outputs are aligned word by word; words that are the same in both are plain's, and
    each region where they differ is spliced by _place.
    """
    plain_words, marked_words = plain.split(), marked.split()
    matcher = difflib.SequenceMatcher(None, marked_words, plain_words, autojunk=False)
    out: list[str] = []
    placed = 0
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        region = marked_words[i1:i2]
        count = sum(word.count(mark) for word in region)
        if placed + count > len(spans):
            return None
        if count == 0:  # equal, or a neighbour espeak said differently next to the placeholder
            out += plain_words[j1:j2]
        else:
            out += _place(region, plain_words[j1:j2], mark, spans[placed : placed + count])
        placed += count
    return " ".join(out) if placed == len(spans) else None


def _split_phonemize(text: str, spans: list[_Replacement], phonemize) -> str:
    """Fallback: the text between spans phonemized piece by piece. Neighbours may then lose
    some context (a stress, "the" before a vowel), but every span gets its phonemes; a span
    inside a word stays joined to the rest of it."""
    parts: list[str] = []
    done = 0
    for span in spans:
        parts.append(phonemize(text[done : span.start]) if text[done : span.start].strip() else "")
        parts.append("" if text[span.start - 1 : span.start].isalnum() else " ")
        parts.append(span.phonemes)
        parts.append("" if text[span.end : span.end + 1].isalnum() else " ")
        done = span.end
    parts.append(phonemize(text[done:]) if text[done:].strip() else "")
    return " ".join("".join(parts).split())


def phonemize_with_lexicon(
    text: str,
    lexicon: Lexicon,
    phonemize: Callable[[str], str],
    overrides: Sequence[Override] = (),
) -> str:
    """One phoneme string for ``text``, with the lexicon's words and the explicit overrides
    (spans of ``text``, e.g. ``Speech.overrides`` from core.markup) said as given.

    ``phonemize`` turns plain text into phonemes (the worker passes kokoro-onnx's
    ``tokenizer.phonemize(text, lang)``, after any text normalization). Text without matches
    or overrides is phonemized as a whole, exactly as without a lexicon.
    """
    phonemize = lru_cache(maxsize=None)(phonemize)  # a word may be looked up several times
    spans = _replacements(text, lexicon, overrides, phonemize)
    plain = phonemize(text)
    if not spans:
        return plain
    for placeholder in PLACEHOLDERS:
        mark = phonemize(placeholder)
        if not mark or mark in plain or any(mark in s.phonemes for s in spans):
            continue
        marked = phonemize(_with_placeholder(text, spans, placeholder))
        pairs = [(span.phonemes, phonemize(text[span.start : span.end])) for span in spans]
        spliced = _splice(plain, marked, mark, pairs)
        if spliced is not None:
            return spliced
        break
    return _split_phonemize(text, spans, phonemize)
