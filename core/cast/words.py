"""The words of a text, once: where each sentence starts, which quote each word is in, and the
capitalized names among them (each a Mention: where, in which form, and how it is used)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from core.cast.lexicon import (
    ABBREVIATIONS,
    NOT_NAMES,
    PREPOSITIONS,
    TITLE_SPELLINGS,
    TITLES,
    word_set,
)
from core.cast.quotes import DIALOGUE_DASHES, QUOTE_MARKS, QuoteSpan
from core.cast.tags import WORD, Word, name_run, possessive_base

# What may stand between a sentence's end and its first word
_OPENERS = QUOTE_MARKS + DIALOGUE_DASHES + "([-"
# Words that may come before a sentence's subject without taking its place ("Then Jane spoke")
LEADING_WORDS = word_set("""
    then so and but now still yet presently suddenly finally at last here there once again soon
    meanwhile the
""")
# What may follow a name addressed in a quote ("Come, Darcy," "Tom!")
_VOCATIVE_AFTER = ",!?;:—–)"
_VOCATIVE_BEFORE_WORDS = frozenset({"dear", "oh", "o", "ah"})


def title_key(word: str) -> str | None:
    """The title a word is ("Mr" and "mister" are "mr"), or None."""
    low = word.lower()
    low = TITLE_SPELLINGS.get(low, low)
    return low if low in TITLES else None


@dataclass(frozen=True, slots=True)
class Mention:
    """A capitalized name in the text."""

    first: int  # index of its first word (the title's, if any)
    after: int  # index of the word after it
    start: int
    end: int
    title: str | None  # the title key ("mr", "aunt")
    names: tuple[str, ...]  # the words after the title, as written ("Fitzwilliam", "Darcy")
    possessive: bool  # "Darcy's"
    quote: int  # the quote it is in, or -1 in the narration
    paragraph: int
    clause_initial: bool  # the subject a sentence or clause opens with ("Then Jane spoke")
    vocative: bool  # addressed in a quote ("Come, Darcy," "Tom!")
    subject: bool  # in the narration, followed by a verb-like word ("Jane smiled")
    verb: str  # the lower-case word right after it

    @property
    def form(self) -> str:
        """The name as one string: "Mr. Darcy", "March Hare"."""
        words = " ".join(self.names)
        if self.title is None:
            return words
        title = self.title.capitalize() + ("." if self.title in ABBREVIATIONS else "")
        return f"{title} {words}" if words else title


class Document:
    """A text read once: its paragraphs, quotes and words."""

    def __init__(self, text: str, paragraphs: list[tuple[int, int]], quotes: list[QuoteSpan]):
        self.text = text
        self.paragraphs = paragraphs
        self.quotes = quotes
        self.words = [Word(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        self.starts = [word.start for word in self.words]
        count = len(self.words)
        self.paragraph_of = [0] * count
        self.quote_of = [-1] * count
        self.sentence_start = [False] * count
        self.lower_seen: set[str] = set()
        self.capital_mid: set[str] = set()
        self._place_words()
        self.mentions = self._mentions()

    def first_word_after(self, position: int) -> int:
        """The index of the first word that starts at or after ``position``."""
        return bisect_left(self.starts, position)

    def _place_words(self) -> None:
        paragraphs, quotes = self.paragraphs, self.quotes
        p = q = 0
        previous_end = 0
        previous_paragraph = previous_quote = -2
        for i, word in enumerate(self.words):
            while p + 1 < len(paragraphs) and paragraphs[p][1] <= word.start:
                p += 1
            while q < len(quotes) and quotes[q].end <= word.start:
                q += 1
            inside = q if q < len(quotes) and quotes[q].start <= word.start else -1
            self.paragraph_of[i] = p
            self.quote_of[i] = inside
            starts = p != previous_paragraph or inside != previous_quote
            if not starts:
                starts = self._ends_sentence(previous_end, word.start, i)
            self.sentence_start[i] = starts
            if word.text.islower():
                self.lower_seen.add(word.text)
            elif word.capitalized and not starts:
                self.capital_mid.add(word.text)
            previous_end, previous_paragraph, previous_quote = word.end, p, inside

    def _ends_sentence(self, gap_start: int, gap_end: int, i: int) -> bool:
        """Whether the gap between two words holds a sentence's end."""
        gap = self.text[gap_start:gap_end].rstrip()
        gap = gap.rstrip(_OPENERS + " \t\n\r")
        if not gap:
            return False
        last = gap[-1]
        if last in "!?…;:":
            return True
        if last == ".":
            before = self.words[i - 1].lower if i else ""
            return before not in ABBREVIATIONS and len(before) > 1
        return last in QUOTE_MARKS and len(gap) > 1 and gap[-2] in ".!?…"

    def is_common_word(self, word: Word, index: int) -> bool:
        """A capitalized word that is no name: one the text also writes in lower case, only
        ever capitalized where a sentence starts ("Well", "Nothing")."""
        low = word.lower
        if low in NOT_NAMES:
            return True
        if self.sentence_start[index] and len(low) >= 7 and low.endswith("ly"):
            return word.text not in self.capital_mid  # "Presently", "Suddenly"
        return (
            self.sentence_start[index]
            and low in self.lower_seen
            and word.text not in self.capital_mid
        )

    def _mentions(self) -> list[Mention]:
        words, text = self.words, self.text
        found = []
        i = 0
        while i < len(words):
            if not words[i].capitalized:
                i += 1
                continue
            end = name_run(text, words, i)
            if end == i:
                i += 1
                continue
            mention = self._mention(i, end)
            if mention is not None:
                found.append(mention)
            i = end
        return found

    def _mention(self, first: int, end: int) -> Mention | None:
        words = self.words
        start = first
        # "Then Jane", "Poor Jo": a common word that opens the sentence is no part of the name
        while start < end and title_key(words[start].text) is None:
            if not (self.is_common_word(words[start], start) and self._opens_sentence(start)):
                break
            start += 1
        if start < end and end - start == 1 and self.is_common_word(words[start], start):
            return None
        if start == end:
            return None
        last = words[end - 1].lower
        if last in NOT_NAMES and title_key(last) is None:
            return None  # "Merry Christmas"
        if all(len(word.text) == 1 for word in words[start:end]):
            return None  # a letter shown ("a large E"), or an initial alone
        title = title_key(words[start].text)
        # "his aunt Polly": a lower-case title right before the name
        if title is None and start > 0 and start == first:
            before = words[start - 1]
            if before.text.islower() and title_key(before.text) and self._adjacent(start - 1):
                title, start = title_key(before.text), start - 1
        name_start = start + 1 if title is not None else start
        names = [possessive_base(w.text) for w in words[name_start:end]]
        if title is None and not names:
            return None
        possessive = possessive_base(words[end - 1].text) != words[end - 1].text
        quote = self.quote_of[start]
        article = start > 0 and words[start - 1].lower == "the" and self._adjacent(start - 1)
        if title is not None and not names and not article:
            return None  # a title alone ("Sir,") names nobody
        lead = start - 1 if article else start
        return Mention(
            first=start,
            after=end,
            start=words[start].start,
            end=words[end - 1].end,
            title=title,
            names=tuple(names),
            possessive=possessive,
            quote=quote,
            paragraph=self.paragraph_of[start],
            clause_initial=quote < 0 and self.opens_clause(lead),
            vocative=quote >= 0 and not possessive and self._vocative(start, end, quote),
            subject=quote < 0 and not possessive and self._subject(start, end),
            verb=words[end].lower if end < len(words) and self._adjacent(end - 1) else "",
        )

    def adjacent(self, i: int) -> bool:
        return self._adjacent(i)

    def _adjacent(self, i: int) -> bool:
        """Whether words i and i + 1 are parted by one space only."""
        words = self.words
        return i + 1 < len(words) and self.text[words[i].end : words[i + 1].start] == " "

    def opens_clause(self, i: int) -> bool:
        """Whether word i opens a sentence, or a clause joined by ", and", ", but" or a
        semicolon ("..., but the blind man pulled me close")."""
        if self._opens_sentence(i):
            return True
        words, text = self.words, self.text
        if i < 2 or words[i - 1].lower not in ("and", "but"):
            return False
        return text[words[i - 2].end : words[i - 1].start].strip() in (",", ";")

    def _opens_sentence(self, i: int) -> bool:
        """Whether word i opens its sentence, or follows only words like "Then" that do, or a
        short phrase that a preposition opens ("After a long pause Lord Henry pulled")."""
        words = self.words
        steps = 0
        while not self.sentence_start[i]:
            if steps >= 4:
                return False
            before = words[i - 1]
            leads = before.lower in LEADING_WORDS or before.text.islower()
            if not leads and not (self.sentence_start[i - 1] and before.lower in PREPOSITIONS):
                return False
            i -= 1
            steps += 1
        return steps == 0 or words[i].lower in LEADING_WORDS or words[i].lower in PREPOSITIONS

    def _vocative(self, start: int, end: int, quote: int) -> bool:
        text, words = self.text, self.words
        span = self.quotes[quote]
        after_at = words[end - 1].end
        after = text[after_at] if after_at < span.end else ""
        if after_at >= span.end - 1 and not span.dash:
            after = "”"  # the name ends the quote
        first_in_quote = start == 0 or self.quote_of[start - 1] != quote
        gap = text[span.start if first_in_quote else words[start - 1].end : words[start].start]
        before_word = "" if first_in_quote else words[start - 1].lower
        comma_before = "," in gap or "—" in gap
        opened = first_in_quote or comma_before or any(c in gap for c in "!?.;:(")
        opened = opened or before_word in _VOCATIVE_BEFORE_WORDS
        if not opened:
            return False
        if first_in_quote and after == "?":
            return False  # "Dorian Gray? Is that his name?": a name asked about
        if after in _VOCATIVE_AFTER or after == "”":
            return True
        return after == "." and (comma_before or before_word in _VOCATIVE_BEFORE_WORDS)

    def _subject(self, start: int, end: int) -> bool:
        words = self.words
        if start > 0 and words[start - 1].lower in PREPOSITIONS:
            return False
        if end >= len(words) or not self._adjacent(end - 1):
            return False
        nxt = words[end].text
        return nxt.islower() and nxt not in PREPOSITIONS and nxt not in ("and", "or", "but")
