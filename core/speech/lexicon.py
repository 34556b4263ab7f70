"""Pronunciation entries and lexicons: what a word is said as, read, checked and matched.

An entry maps a word to how it is said. In a job's ``pronunciations`` and in the lexicon file
(``KQ_LEXICON_PATH``, ``.toml`` or ``.json``, a table/object of the same entries):

- ``"Hermione": "hɜːmˈaɪəni"``: Kokoro IPA phonemes (characters of the model's vocabulary);
- ``"Nguyen": {"say": "win"}``: a respelling, phonemized like any other text;
- ``"Reading": {"phonemes": "ɹˈɛdɪŋ", "case_sensitive": true}``: the long form.

Entries match whole words: a match is not preceded or followed by a letter, digit or an
apostrophe joined to one. Matching ignores case unless the entry is ``case_sensitive``; a
case-sensitive entry is preferred over one that ignores case. A possessive counts as the word
(``Match.possessive``). Job entries win over the server's for the words they cover:
``Lexicon.overlay``.

Use: the server loads ``load_lexicon(KQ_LEXICON_PATH)`` once (EMPTY_LEXICON without one); the
API checks a job with ``Lexicon.parse(job_pronunciations)`` (LexiconError -> 422) and, without
the model, phonemes with check_phonemes (vocabulary() reads kokoro-onnx's config file only).
core.speech.pronunciation says the matched words in the phonemized text.
"""

import importlib.util
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

MAX_ENTRIES = 10_000  # per lexicon: bounds its memory and the time to check it
MAX_WORD_CHARS = 100
# Words in one entry: "New York City" is 3. Matching tries each word of the text as the start of
# every entry that begins with it, so a phrase's length bounds the work per word of text
MAX_PHRASE_WORDS = 10
MAX_PHONEMES_CHARS = 200
LEXICON_SUFFIXES = (".toml", ".json")
ENTRY_KEYS = frozenset({"phonemes", "say", "case_sensitive"})
_SPACES = re.compile(r"\s+")
# A word: letters and digits, with apostrophes inside ("O'Brien", "Hermione's") but not at its
# ends, where they are quotes. Underscores and hyphens separate words.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHES = "'’"
_HEAD = re.compile(r"[^\W_]+")  # letters and digits, as in _WORD
_FOLDED_HEAD = re.compile(r"[^\W_ι]+")


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
    if len(_WORD.findall(word)) > MAX_PHRASE_WORDS:
        raise LexiconError(
            f"{where}: a phrase is at most {MAX_PHRASE_WORDS} words; give its words or shorter "
            "phrases as entries of their own"
        )
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


def _head(text: str, folded: bool = False) -> str:
    """The letters and digits ``text`` starts with: "new" of "new york", "o" of "o'brien".
    Said of an entry's key and of a word of text (casefolded alike), they agree wherever the
    two can match, so matching tries a word of text only as the start of the entries of its
    head. A casefolded head also ends at "ι": casefolding turns a combining ypogegrammeni, which
    separates words, into that letter, and a key keeps no trace of which it was."""
    head = (_FOLDED_HEAD if folded else _HEAD).match(text)
    return head.group() if head else ""


@dataclass(frozen=True)
class Lexicon:
    """Words and their pronunciations, matched as whole words; build one with parse.

    Matching looks words up rather than running one pattern of every entry: a word of text is
    tried only as the start of the entries that begin as it does, each phrase length at most
    once, so a lexicon of thousands of entries costs about a dictionary lookup per word of
    text, and an entry of many words at most MAX_PHRASE_WORDS lookups per word.
    """

    exact: Mapping[str, Pronunciation]  # case-sensitive entries by word
    folded: Mapping[str, Pronunciation]  # the others by casefolded word

    @cached_property
    def _longest(self) -> int:
        """The most words in one entry ("New York City": 3): phrases are tried longest first.
        Each "ι" of a casefolded key may have been a combining ypogegrammeni of the text, which
        separates words there ("Aͅb" is two words, its key "aιb" one)."""
        return max(
            (
                *(len(_WORD.findall(w)) for w in self.exact),
                *(len(_WORD.findall(w)) + w.count("ι") for w in self.folded),
            ),
            default=0,
        )

    @cached_property
    def _heads(self) -> tuple[frozenset[str], frozenset[str]]:
        """The heads (_head) of the exact entries, and of the casefolded ones."""
        return (
            frozenset(_head(word) for word in self.exact),
            frozenset(_head(word, folded=True) for word in self.folded),
        )

    @cached_property
    def _longest_chars(self) -> int:
        """The longest key: a phrase of text longer than this (and an 's) matches nothing."""
        return max(map(len, (*self.exact, *self.folded)), default=0)

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
        return self._lookup(_SPACES.sub(" ", word))

    def _lookup(self, phrase: str) -> Pronunciation | None:
        """The entry of a phrase whose spaces are already single."""
        return self.exact.get(phrase) or self.folded.get(phrase.casefold())

    def matches(self, text: str) -> list[Match]:
        """The entries' whole-word occurrences in text, in order, never overlapping; at each
        word the entry of the most words wins ("New York City" over "New York")."""
        if not self._longest:
            return []
        words = [(w.start(), w.end()) for w in _WORD.finditer(text)]
        gaps: dict[int, str] = {}  # the text after word k, its spaces single
        exact_heads, folded_heads = self._heads
        found: list[Match] = []
        i = 0
        while i < len(words):
            word = text[words[i][0] : words[i][1]]
            if _head(word) in exact_heads or _head(word.casefold(), folded=True) in folded_heads:
                match, taken = self._longest_match(text, words, gaps, i)
                if match is not None:
                    found.append(match)
                    i += taken
                    continue
            i += 1
        return found

    def _longest_match(
        self, text: str, words: list[tuple[int, int]], gaps: dict[int, str], i: int
    ) -> tuple[Match | None, int]:
        """The entry of the most words that starts at word ``i``, and its number of words.

        The phrases from word ``i`` are built a word at a time, with single spaces as entries
        have them, up to the longest entry's words and characters: a word of text costs at
        most MAX_PHRASE_WORDS lookups of phrases no longer than the longest entry, and each gap
        between words is read once (``gaps``) however many phrases it is part of."""
        longest = self._longest_chars + 2  # + an 's
        phrases: list[str] = []
        phrase = ""
        for k in range(i, min(i + self._longest, len(words))):
            if k > i:
                if k - 1 not in gaps:
                    gaps[k - 1] = _SPACES.sub(" ", text[words[k - 1][1] : words[k][0]])
                if len(phrase) + len(gaps[k - 1]) >= longest:  # and a word of 1 or more
                    break
                phrase += gaps[k - 1]
            phrase += text[words[k][0] : words[k][1]]
            if len(phrase) > longest:
                break
            phrases.append(phrase)
        start = words[i][0]
        for n in range(len(phrases), 0, -1):
            phrase, end = phrases[n - 1], words[i + n - 1][1]
            entry = self._lookup(phrase)
            if entry is not None:
                return Match(start, end, entry), n
            if len(phrase) > 2 and phrase[-2] in _APOSTROPHES and phrase[-1] in "sS":
                entry = self._lookup(phrase[:-2])
                if entry is not None:
                    return Match(start, end, entry, possessive=True), n
        return None, 0


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


@lru_cache(maxsize=4)
def _lexicon_file(path: str, modified_ns: int) -> Lexicon:
    return load_lexicon(path)


def server_lexicon(path: Path | None) -> Lexicon:
    """The server's lexicon (KQ_LEXICON_PATH), read again when the file changes."""
    if path is None:
        return EMPTY_LEXICON
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        modified = -1  # load_lexicon says what is wrong with it
    return _lexicon_file(str(path), modified)


def job_lexicon(path: Path | None, entries: dict | None) -> Lexicon:
    """What a job's words are said as: its own pronunciations over the server's lexicon."""
    server = server_lexicon(path)
    return server.overlay(Lexicon.parse(entries)) if entries else server
