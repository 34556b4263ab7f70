"""Speech tags: the narration that says who speaks ("said Elizabeth", "the old man replied",
"she answered", "Then Jane spoke:").

A tag after a quote starts right after it: a speech verb and its subject in either order
("said Mr. Darcy", "Mr. Darcy said", "he said, smiling"). A tag before a quote is the clause
that leads into it, ending with a colon or a comma or with the verb itself ("Elizabeth said:",
"Alice replied, rather shyly,", "then said"); its subject is the one right before the verb, else
the clause's first person. Every look is a window of at most TAG_WINDOW characters, so each
quote costs the same on any text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.cast.lexicon import (
    ABBREVIATIONS,
    DETERMINERS,
    GROUP_PRONOUNS,
    NAME_PARTICLES,
    NARRATION_VERBS,
    NOT_NAMES,
    PERSON_NOUNS,
    POSSESSIVES,
    PREPOSITIONS,
    PRONOUNS,
    SPEECH_PHRASES,
    SPEECH_VERBS,
    SUBJECT_PRONOUNS,
    TAG_ADVERBS,
    TITLES,
    VOICE_NOUNS,
    word_set,
)

# A word: letters, with apostrophes inside ("don't", "Scrooge’s", "o'clock")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# How far a tag may reach from its quote, in characters
TAG_WINDOW = 160
# How far back a clause that leads into a quote is read
LEAD_WINDOW = 300
# Adjectives that may stand before a name in a tag ("said little Amy")
NAME_ADJECTIVES = word_set(
    "little old young poor dear good big fat tall small wise brave stately plump"
)
# Words that end a description ("an elderly rabbit at the gap", "the owner of that name")
_DESCRIPTION_STOPS = (
    PREPOSITIONS
    | NARRATION_VERBS
    | SPEECH_VERBS
    | TAG_ADVERBS
    | DETERMINERS
    | POSSESSIVES
    | PRONOUNS
    | word_set("who whom which that as and but or so not again")
)
_MAX_DESCRIPTION_WORDS = 3
_MAX_NAME_WORDS = 5


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def capitalized(self) -> bool:
        return self.text[0].isupper() and not (len(self.text) > 1 and self.text.isupper())


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a tag names: kind is "name" ("Mr. Darcy", "the Hatter"), "pronoun" ("he", "I"),
    "description" ("his wife", "the old man") or "voice" ("a cheerful voice": nobody)."""

    kind: str
    text: str
    start: int
    end: int
    head: str  # a name as written, a pronoun or the description's noun, lower case

    @property
    def possessive(self) -> bool:
        return self.text.endswith(("'s", "’s"))


@dataclass(frozen=True, slots=True)
class Tag:
    subject: Subject
    verb: str
    start: int
    end: int


def words_in(text: str, start: int, stop: int) -> list[Word]:
    return [Word(m.start(), m.end(), m.group()) for m in WORD.finditer(text, start, stop)]


def possessive_base(word: str) -> str:
    """ "Scrooge’s" -> "Scrooge"; other words as they are."""
    if len(word) > 2 and word[-2] in "'’" and word[-1] in "sS":
        return word[:-2]
    return word


def _joined(text: str, left: Word, right: Word) -> bool:
    """Whether two words of a name follow each other: a space, or a title's full stop."""
    gap = text[left.end : right.start]
    if gap == " ":
        return True
    return gap == ". " and left.lower in ABBREVIATIONS


def _spaced(text: str, left: Word, right: Word) -> bool:
    gap = text[left.end : right.start]
    return len(gap) <= 3 and gap.isspace()


def name_run(text: str, words: list[Word], i: int) -> int:
    """The index after the capitalized name that starts at words[i] (i when none): titles,
    capitalized words and lower-case particles between them; it ends at a possessive."""
    j = i
    while j < len(words) and j - i < _MAX_NAME_WORDS:
        word = words[j]
        if j > i and not _joined(text, words[j - 1], word):
            break
        if word.capitalized:
            j += 1
            if possessive_base(word.text) != word.text:
                break
            continue
        if (
            j > i
            and word.lower in NAME_PARTICLES
            and j + 1 < len(words)
            and words[j + 1].capitalized
            and _joined(text, word, words[j + 1])
        ):
            j += 1
            continue
        break
    return j


def _name_subject(text: str, words: list[Word], i: int, first: int) -> tuple[Subject, int] | None:
    """A capitalized name at words[i] (words[first] is where the subject's text starts: an
    article or adjective before the name); a name ending in 's followed by a noun is a
    description ("Scrooge’s nephew")."""
    end = name_run(text, words, i)
    if end == i:
        return None
    # "Finally Tom", "Then Jane": the adverb that opens the sentence is no part of the name
    bare = first == i
    while bare and end - i > 1 and words[i].lower in NOT_NAMES and words[i].lower not in TITLES:
        i += 1
    if bare:
        first = i
    names = words[i:end]
    if len(names) == 1 and names[0].lower in NOT_NAMES and names[0].lower not in TITLES:
        return None
    participle = names[0].lower.endswith(("ed", "ing"))
    if len(names) == 1 and participle and text[names[0].end : names[0].end + 1] == ",":
        return None  # "Halted, he peered": a participle that opens the sentence
    if names[-1].lower in NOT_NAMES and names[-1].lower not in TITLES:
        return None  # "Merry Christmas"
    last = names[-1]
    if possessive_base(last.text) != last.text:
        if end < len(words) and _spaced(text, last, words[end]) and words[end].text.islower():
            noun = words[end]
            phrase = text[words[first].start : noun.end]
            return Subject("description", phrase, words[first].start, noun.end, noun.lower), end + 1
        return None
    phrase = text[words[first].start : last.end]
    name = text[names[0].start : last.end]
    return Subject("name", phrase, words[first].start, last.end, name), end


def subject_at(text: str, words: list[Word], i: int) -> tuple[Subject, int] | None:
    """The subject that starts at words[i], and the index of the word after it."""
    if i >= len(words):
        return None
    word = words[i]
    low = word.lower
    if low in SUBJECT_PRONOUNS or low in GROUP_PRONOUNS or word.text == "I":
        kind = "pronoun"
        return Subject(kind, word.text, word.start, word.end, low), i + 1
    if word.capitalized and low not in DETERMINERS and low not in POSSESSIVES:
        return _name_subject(text, words, i, i)
    if (
        low in NAME_ADJECTIVES
        and i + 1 < len(words)
        and words[i + 1].capitalized
        and _spaced(text, word, words[i + 1])
    ):
        return _name_subject(text, words, i + 1, i)  # "little Amy"
    j = i
    if low == "one" and i + 2 < len(words) and words[i + 1].lower == "of":
        j = i + 2  # "one of the gentlemen"
        if words[j].lower not in DETERMINERS and words[j].lower not in POSSESSIVES:
            return None
    elif low not in DETERMINERS and low not in POSSESSIVES:
        return None
    k = j + 1
    nouns: list[Word] = []
    while k < len(words) and len(nouns) < _MAX_DESCRIPTION_WORDS:
        if not _spaced(text, words[k - 1], words[k]):
            break
        nxt = words[k]
        if nxt.capitalized:
            # "the March Hare", "the unsympathetic Marilla": a name after the article
            found = _name_subject(text, words, k, i)
            return found
        if nxt.lower in _DESCRIPTION_STOPS:
            break
        if nxt.lower.endswith(("ly", "ed")) and len(nxt.text) > 3:
            # "an elderly rabbit", "the tired man": an adjective when a noun follows, else an
            # adverb or a verb ("the stationmaster whistled")
            following = words[k + 1] if k + 1 < len(words) else None
            if (
                following is None
                or not _spaced(text, nxt, following)
                or not following.text.islower()
                or following.lower in _DESCRIPTION_STOPS
                or following.lower.endswith("ly")
            ):
                break
        nouns.append(nxt)
        k += 1
    if not nouns:
        return None
    head = possessive_base(nouns[-1].lower)
    kind = "voice" if head in VOICE_NOUNS else "description"
    phrase = text[word.start : nouns[-1].end]
    return Subject(kind, phrase, word.start, nouns[-1].end, head), k


def speech_verb(words: list[Word], i: int) -> tuple[str, int] | None:
    """The speech verb at words[i] ("said", "went on") and the index after it."""
    if i >= len(words) or not words[i].text.islower():
        return None
    low = words[i].text
    if i + 1 < len(words) and (low, words[i + 1].lower) in SPEECH_PHRASES:
        return f"{low} {words[i + 1].lower}", i + 2
    if low in SPEECH_VERBS:
        return low, i + 1
    return None


def _is_adverb(word: Word) -> bool:
    return word.text.islower() and (word.text.endswith("ly") or word.text in TAG_ADVERBS)


def tag_after(text: str, pos: int, stop: int) -> Tag | None:
    """The speech tag that starts at pos (after a quote), within [pos, stop)."""
    start = pos
    while start < stop and text[start].isspace():
        start += 1
    if start < stop and text[start] in ",—–":
        start += 1
        while start < stop and text[start].isspace():
            start += 1
    words = words_in(text, start, min(stop, start + TAG_WINDOW))
    if not words or words[0].start != start:
        return None
    verb = speech_verb(words, 0)
    if verb is None and _is_adverb(words[0]) and len(words) > 1 and _spaced(text, *words[:2]):
        verb = speech_verb(words, 1)  # "reluctantly faltered the owner"
    if verb is not None:
        name, after = verb
        if after < len(words) and _spaced(text, words[after - 1], words[after]):
            found = subject_at(text, words, after)
            if found is not None:
                subject, _ = found
                return Tag(subject, name, start, subject.end)
        return None
    found = subject_at(text, words, 0)
    if found is None:
        return None
    subject, k = found
    if subject.possessive:
        return None
    for _ in range(3):
        if k >= len(words) or not _spaced(text, words[k - 1], words[k]):
            return None
        verb = speech_verb(words, k)
        if verb is not None:
            return Tag(subject, verb[0], start, words[verb[1] - 1].end)
        if not _is_adverb(words[k]):
            return None
        k += 1
    return None


def _clause_start(text: str, lo: int, end: int) -> int:
    """Where the sentence (or clause after a semicolon) that ends at ``end`` begins."""
    at = end - 1
    while at > lo:
        char = text[at - 1]
        ends = char in ";!?" or (char == "." and not after_abbreviation(text, lo, at - 1))
        if ends and text[at].isspace():
            return at
        at -= 1
    return lo


def after_abbreviation(text: str, lo: int, dot: int) -> bool:
    start = dot
    while start > lo and text[start - 1].isalpha():
        start -= 1
    word = text[start:dot].lower()
    return word in ABBREVIATIONS or len(word) == 1


def _first_person_in(text: str, words: list[Word], stop: int) -> Subject | None:
    """The clause's first subject before words[stop]: a pronoun, a name or a person."""
    i = 0
    while i < stop:
        word = words[i]
        previous = words[i - 1].lower if i else ""
        if word.lower == "it" or previous in PREPOSITIONS:
            i += 1
            continue
        found = subject_at(text, words, i)
        if found is not None:
            subject, after = found
            person = subject.kind in ("pronoun", "name") or subject.head in PERSON_NOUNS
            if person and not subject.possessive and after <= stop:
                return subject
        i += 1
    return None


def tag_before(text: str, lo: int, pos: int, colon_only: bool = False) -> Tag | None:
    """The clause in [lo, pos) that leads into the quote at pos, as a tag (``colon_only``: only
    a clause that ends with a colon, as one that leads into the next paragraph)."""
    end = pos
    while end > lo and text[end - 1].isspace():
        end -= 1
    if end - 1 > lo and text[end - 1] in "—–" and text[end - 2] in ":,":
        end -= 1  # "as he replied:—"
    if end <= lo or (colon_only and text[end - 1] != ":"):
        return None
    floor = max(lo, end - LEAD_WINDOW)
    start = _clause_start(text, floor, end)
    words = words_in(text, start, end)
    if not words:
        return None
    leads = text[end - 1] in ":,"
    last_verb = None
    for i, _ in enumerate(words):
        if speech_verb(words, i) is not None:
            last_verb = i
    if last_verb is None:
        return None
    verb, after = speech_verb(words, last_verb)  # type: ignore[misc]
    if not leads and not (after == len(words) and words[-1].end == end):
        return None
    # "said Scrooge," between two quotes: the verb first, its subject after it
    if after < len(words):
        found = subject_at(text, words, after)
        if found is not None and found[0].kind != "voice":
            rest = words[found[1] :]
            if len(rest) <= 2 and all(_is_adverb(word) for word in rest):
                return Tag(found[0], verb, words[0].start, found[0].end)
    # the subject right before the verb, past an adverb or two ("Alice hastily replied")
    k = last_verb
    while k > 0 and _is_adverb(words[k - 1]) and last_verb - k < 2:
        k -= 1
    for begin in range(max(0, k - _MAX_NAME_WORDS), k):
        found = subject_at(text, words, begin)
        if found is not None and found[1] == k and not found[0].possessive:
            previous = words[begin - 1].lower if begin else ""
            person = found[0].kind != "description" or found[0].head in PERSON_NOUNS
            if previous not in PREPOSITIONS and found[0].kind != "voice" and person:
                return Tag(found[0], verb, found[0].start, words[after - 1].end)
    subject = _first_person_in(text, words, last_verb)
    if subject is None:
        return None
    return Tag(subject, verb, subject.start, words[after - 1].end)
