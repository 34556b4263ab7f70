"""Who speaks each quote.

One pass over the paragraphs in order, keeping what a reader keeps in mind: who the narration is
about (the last person each sentence opened with, by gender), who has spoken in the current
scene, and whom each speaker addressed. For each paragraph with quotes:

1. An explicit tag decides (attributed): a name ("said Elizabeth"), the narrator ("said I"), a
   pronoun ("she answered": the person the narration is about, or in a new paragraph after a
   speaker of that gender, the other one of that gender in the exchange), a description ("the
   old man") or a relation ("his wife": the Mrs. of the man in the scene; "my companion", "the
   other": the other one in the exchange). The paragraph's other quotes are the same speaker's.
2. Without a tag: the person the paragraph's narration opens with ("Jane smiled. "Of
   course.""); else the one the next quote addresses ("So I did, Beth."); else the one the
   previous quote addressed ("Come here, Jane." -> Jane answers); else the other one of the
   exchange (turns alternate).

A speaker is never the person the quote addresses ("Jane, come here" is not Jane's), unless a
tag says so. A scene ends after SCENE_BREAK_PARAGRAPHS paragraphs of narration, or one of
SCENE_BREAK_CHARS characters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.cast.characters import FEMALE, MALE, UNKNOWN, Cast, description_key
from core.cast.lexicon import (
    COMPANIONS,
    DETERMINERS,
    FEMALE_NOUNS,
    MALE_NOUNS,
    NARRATION_VERBS,
    NARRATOR_PRONOUN,
    NEWCOMER_NOUNS,
    PERSON_NOUNS,
    PLURAL_PEOPLE,
    POSSESSIVES,
    PREPOSITIONS,
    SPOUSE_OR_PARENT_FEMALE,
    SPOUSE_OR_PARENT_MALE,
    SUBJECT_PRONOUNS,
    word_set,
)
from core.cast.tags import WORD, Subject, Tag, subject_at, tag_after, tag_before
from core.cast.words import LEADING_WORDS, Document

SCENE_BREAK_PARAGRAPHS = 2
SCENE_BREAK_CHARS = 700
# How many people the sweep remembers as recently mentioned
_RECENT = 24
# Kin a quote may call someone by ("Uncle!"), so that "returned the uncle" is the one called so
_KIN = word_set(
    "uncle aunt nephew niece father mother brother sister cousin husband wife son daughter"
)
# How far the narration after "cried a voice" is read for whose voice it was, in words
_VOICE_WORDS = 40
# How much of a quote is read for what it calls someone ("Uncle!")
_CALLED_WINDOW = 200
# The narration names its narrator: "I called myself Pip", "my name is Ishmael", "call me Jim"
_NARRATOR_NAMING = (("called", "myself"), ("name", "is"), ("name", "was"), ("call", "me"))

# How sure each way of deciding is
CONFIDENCE = {
    "name": 0.95,
    "narrator": 0.9,
    "narrator unnamed": 0.8,
    "description": 0.85,
    "pronoun": 0.8,
    "pronoun turn": 0.75,
    "pronoun fallback": 0.6,
    "relation": 0.7,
    "same paragraph": 0.95,  # times the tagged quote's
    "narration": 0.6,
    "addressed next": 0.65,
    "addressed": 0.7,
    "turns": 0.6,
    "turns skipped": 0.45,
}


@dataclass(frozen=True, slots=True)
class Attribution:
    speaker: int | None
    confidence: float
    attributed: bool


@dataclass(slots=True)
class _Facts:
    tag: Tag | None
    vocatives: list[int]


class _Sweep:
    """The pass over one document (see the module's doc): facts found first (tags, whom each
    quote addresses, the narrator, the people described), then the paragraphs in order."""

    def __init__(self, doc: Document, cast: Cast, tags: list[Tag | None]):
        self.doc = doc
        self.cast = cast
        self.text = doc.text
        self.quotes_in = quotes_by_paragraph(doc)
        self.facts = [_Facts(tag, []) for tag in tags]
        self.mentions_in: dict[int, list[tuple[int, int, bool]]] = {}
        self.voice_in: dict[int, int] = {}  # paragraph -> whose voice its narration names
        words = doc.words
        for mention, pid in zip(doc.mentions, cast.mention_person, strict=True):
            if mention.quote >= 0 or not cast.is_person(pid):
                continue
            if not mention.possessive:
                entry = (mention.start, pid, mention.clause_initial)
                self.mentions_in.setdefault(mention.paragraph, []).append(entry)
            elif mention.after < len(words) and words[mention.after].lower == "voice":
                self.voice_in.setdefault(mention.paragraph, pid)
        self.narrator = self._narrator()
        self._describe_speakers()
        self.introduced: set[int] = set()  # people the narration brought in ("a man entered")
        self._narration_descriptions()
        # what a reader keeps in mind
        self.focus: dict[str, tuple[int, int]] = {}  # gender -> (person, position)
        self.recent: list[int] = []
        self.scene: list[int] = []
        self.said_in: dict[int, int | None] = {}  # paragraph -> its (last) speaker
        self.addressed_in: dict[int, list[int]] = {}  # paragraph -> whom its last quote addresses
        self.quote_paragraphs: list[int] = []  # the scene's paragraphs with quotes, in order
        self.last_quote_of: dict[int, int] = {}  # such a paragraph -> the last quote ending in it
        # paragraphs whose last quote ends them, but for its tag's sentence: a turn ended
        self.ends_in_quote = self._ending_in_quotes()

    # Facts found before the pass

    def _addressed(self) -> None:
        for mention, pid in zip(self.doc.mentions, self.cast.mention_person, strict=True):
            if mention.vocative and self.cast.is_person(pid):
                self.facts[mention.quote].vocatives.append(pid)

    def tag_names(self) -> list[str]:
        return [
            fact.tag.subject.head
            for fact in self.facts
            if fact.tag is not None and fact.tag.subject.kind == "name"
        ]

    def _narrator(self) -> int | None:
        """The narrator, when quotes are tagged "said I": named by what the others call them
        next to the narrator's lines, or by the narration ("I called myself Pip")."""
        self._addressed()
        mine = {
            i
            for i, fact in enumerate(self.facts)
            if fact.tag is not None
            and fact.tag.subject.kind == "pronoun"
            and fact.tag.subject.head == NARRATOR_PRONOUN
        }
        if not mine:
            return None
        speakers = {self.cast.by_name(name) for name in self.tag_names()}
        scores: Counter = Counter()
        near = set()
        for i in mine:
            near.update({i - 2, i - 1, i + 1, i + 2})
        for i, fact in enumerate(self.facts):
            if i in mine:
                continue
            for pid in fact.vocatives:
                scores[pid] += 3 if i in near else 1
        words = self.doc.words
        for mention, pid in zip(self.doc.mentions, self.cast.mention_person, strict=True):
            before = tuple(w.lower for w in words[max(0, mention.first - 2) : mention.first])
            if before in _NARRATOR_NAMING:
                scores[pid] += 10
        for pid in speakers:
            scores.pop(pid, None)
        named = max(scores, key=lambda pid: (scores[pid], -pid)) if scores else None
        return self.cast.narrator(named)

    def _describe_speakers(self) -> None:
        """The people tags describe ("the old man"), known before the pass so that the
        narration's mentions of them count."""
        for fact in self.facts:
            subject = fact.tag.subject if fact.tag else None
            if subject is None or subject.kind != "description" or _relational(subject):
                continue
            if subject.head not in NEWCOMER_NOUNS:  # who they are is known when they speak
                self.cast.describe(subject)

    def _narration_descriptions(self) -> None:
        """Sentences of the narration that open with a person described ("The old lady pulled
        her spectacles down"): they say whom the narration is about."""
        doc = self.doc
        for i in range(len(doc.words)):
            if doc.quote_of[i] >= 0:
                continue
            low = doc.words[i].lower
            if low in ("a", "an"):
                self._introduction(i)
                continue
            if not doc.sentence_start[i] and low not in DETERMINERS and low not in POSSESSIVES:
                continue
            if not doc.sentence_start[i] and not doc.opens_clause(i):
                continue
            j = i
            while j < i + 3 and j + 1 < len(doc.words) and doc.words[j].lower in LEADING_WORDS:
                if doc.words[j].lower == "the":
                    break
                j += 1
            if doc.words[j].lower in PREPOSITIONS:
                # "Before noon the captain lay", "During this dialogue the child had remained"
                k = j + 1
                while k < min(j + 5, len(doc.words) - 1) and doc.words[k].text.islower():
                    if doc.words[k].lower in DETERMINERS and k > j + 1:
                        break
                    k += 1
                if k >= len(doc.words) or doc.words[k].lower not in DETERMINERS:
                    continue
                j = k
            if doc.words[j].lower not in DETERMINERS and doc.words[j].lower not in POSSESSIVES:
                continue
            found = subject_at(self.text, doc.words, j)
            if found is None or found[0].kind != "description" or _relational(found[0]):
                continue
            subject = found[0]
            if subject.head in PLURAL_PEOPLE:
                continue  # "the two young men went out": nobody who speaks alone
            pid = self.cast.description_id(_description_key(subject))
            if pid is None and (subject.head in MALE_NOUNS or subject.head in FEMALE_NOUNS):
                pid = self.cast.describe(subject)
                self.cast.people[pid].tagged.clear()
            if pid is not None:
                self.cast.pronoun_vote(pid, found[1], doc.paragraph_of[i])
                entry = (subject.start, pid, True)
                self.mentions_in.setdefault(doc.paragraph_of[i], []).append(entry)

    def _introduction(self, i: int) -> None:
        """ "a man stepped in", "A man entered": a person the narration brings in, who
        becomes whom it is about."""
        doc = self.doc
        found = subject_at(self.text, doc.words, i)
        if found is None or found[0].kind != "description":
            return
        subject, after = found
        if subject.head not in PERSON_NOUNS or subject.head in PLURAL_PEOPLE:
            return
        if after >= len(doc.words) or not doc.adjacent(after - 1):
            return
        verb = doc.words[after].text
        if not verb.islower() or not (verb.endswith("ed") or verb in NARRATION_VERBS):
            return
        pid = self.cast.description_id(_description_key(subject))
        if pid is None:
            pid = self.cast.describe(subject)
            self.cast.people[pid].tagged.clear()
        self.cast.pronoun_vote(pid, after, doc.paragraph_of[i])
        self.introduced.add(pid)
        self.mentions_in.setdefault(doc.paragraph_of[i], []).append((subject.start, pid, True))

    def _ending_in_quotes(self) -> set[int]:
        found = set()
        for quotes in self.quotes_in.values():
            last = self.doc.quotes[quotes[-1]]
            tag = self.facts[quotes[-1]].tag
            after = tag.end if tag is not None and tag.start >= last.end else last.end
            tail = end_paragraph(self.doc, quotes[-1])
            rest = self.text[after : self.doc.paragraphs[tail][1]]
            if sum(rest.count(mark) for mark in ".!?") <= 1:
                found.add(tail)
        return found

    # Memory

    def _remember(self, pid: int, position: int, opens: bool) -> None:
        if pid in self.recent:
            self.recent.remove(pid)
        self.recent.append(pid)
        del self.recent[:-_RECENT]
        if opens and pid != self.narrator:  # "he" and "she" are never the narrator ("I")
            self.focus[self.cast.gender(pid)] = (pid, position)

    def _described(self, pid: int) -> bool:
        return self.cast.people[pid].description

    def _compatible(self, pid: int, gender: str | None) -> bool:
        return gender is None or self.cast.gender(pid) in (gender, UNKNOWN)

    def _other(self, speaker: int | None, gender: str | None, excluded: set[int]) -> int | None:
        """The other one of the exchange: whom the speaker addressed, else who spoke last
        before them, else who the narration named last."""
        banned = excluded | {speaker}
        last = self.quote_paragraphs[-1] if self.quote_paragraphs else None
        if last is not None and self.said_in.get(last) == speaker:
            for pid in self.addressed_in.get(last, []):
                if pid not in banned and self._compatible(pid, gender):
                    return pid
        for pid in reversed(self.scene):
            if pid not in banned and self._compatible(pid, gender):
                return pid
        for pid in reversed(self.recent):
            if pid not in banned and self._compatible(pid, gender) and pid != self.narrator:
                return pid
        return None

    def _reset_scene(self) -> None:
        self.scene.clear()
        self.quote_paragraphs.clear()

    # Tags

    def _pronoun(
        self, gender: str, quote: int, first: bool, seen: set[str], excluded: set[int]
    ) -> tuple[int | None, str]:
        excluded = excluded | {self.narrator}
        # whom the narration is about, of that gender; a person described since ("The
        # stationmaster whistled"), whose gender the text seldom says; else anyone
        entry = self.focus.get(gender)
        unknown = self.focus.get(UNKNOWN)
        if unknown and (entry is None or (unknown[1] > entry[1] and self._described(unknown[0]))):
            entry = unknown
        focus = entry[0] if entry else None
        paragraph = self.doc.quotes[quote].paragraph
        previous = self.said_in.get(paragraph - 1) if paragraph - 1 in self.ends_in_quote else None
        if (
            first
            and gender not in seen
            and previous is not None
            and self._compatible(previous, gender)
            and focus in (None, previous)
        ):
            other = self._other(previous, gender, excluded)
            if other is not None:
                return other, "pronoun turn"
        if focus is not None and focus not in excluded:
            return focus, "pronoun"
        for pid in reversed(self.recent):
            if pid not in excluded and self.cast.gender(pid) == gender:
                return pid, "pronoun fallback"
        return None, "pronoun"

    def _relation(self, subject: Subject, excluded: set[int]) -> int | None:
        words = [word.lower() for word in WORD.findall(subject.text)]
        head, owner = subject.head, words[0]
        last = self.quote_paragraphs[-1] if self.quote_paragraphs else None
        previous = self.said_in.get(last) if last is not None else None
        if head in COMPANIONS:
            if owner == "my":
                return self._other(self.narrator, None, excluded)
            return self._other(previous, None, excluded)
        if owner in POSSESSIVES and head in SPOUSE_OR_PARENT_FEMALE | SPOUSE_OR_PARENT_MALE:
            want = FEMALE if head in SPOUSE_OR_PARENT_FEMALE else MALE
            title = "mrs" if want == FEMALE else "mr"
            # the Mrs. of a man addressed, in the scene or mentioned: "cried his wife"
            for pid in [*sorted(excluded), *reversed(self.scene), *reversed(self.recent)]:
                for surname in self.cast.surnames(pid):
                    match = self.cast.titled(title, surname)
                    if match is not None and match != pid and match not in excluded:
                        return match
            for pid in [*reversed(self.scene), *reversed(self.recent)]:
                if pid not in excluded and self.cast.gender(pid) == want:
                    return pid
            return None
        if owner == "the" and head in _KIN and last is not None:
            quote = self.doc.quotes[self.last_quote_of[last]]
            called = self.text[quote.start : min(quote.end, quote.start + _CALLED_WINDOW)]
            if head in WORD.findall(called.lower()):
                return self._other(previous, None, excluded)
        return None

    def _tagged(self, quote: int, first: bool, seen: set[str]) -> tuple[int | None, str]:
        fact = self.facts[quote]
        subject = fact.tag.subject  # type: ignore[union-attr]
        excluded = set(fact.vocatives)
        if subject.kind == "name":
            return self.cast.by_name(subject.head), "name"
        if subject.kind == "pronoun":
            if subject.head == NARRATOR_PRONOUN:
                named = self.cast.people[self.narrator].forms  # type: ignore[index]
                return self.narrator, "narrator" if named else "narrator unnamed"
            if subject.head in SUBJECT_PRONOUNS:
                return self._pronoun(SUBJECT_PRONOUNS[subject.head], quote, first, seen, excluded)
            return None, "name"
        if subject.kind == "description":
            if _relational(subject):
                related = self._relation(subject, excluded)
                if related is not None:
                    return related, "relation"
            known = None
            new = self.cast.description_id(_description_key(subject)) is None
            if subject.head in NEWCOMER_NOUNS and new:
                known = next((p for p in reversed(self.recent) if p in self.introduced), None)
            return self.cast.describe(subject, known), "description"
        if subject.kind == "voice":
            return self._voice(quote), "narration"
        return None, "name"

    def _voice(self, quote: int) -> int | None:
        """Whose is "a cheerful voice": the person the paragraph's narration names after it
        ("It was the voice of Scrooge’s nephew", "as a man started up")."""
        doc = self.doc
        paragraph = doc.quotes[quote].paragraph
        hi = doc.paragraphs[paragraph][1]
        words = doc.words
        i = doc.first_word_after(doc.quotes[quote].end)
        stop = min(doc.first_word_after(hi), i + _VOICE_WORDS)
        while i < stop:
            if doc.quote_of[i] >= 0:
                i += 1
                continue
            found = subject_at(self.text, words, i)
            if found is not None and found[0].kind in ("name", "description"):
                subject = found[0]
                if subject.kind == "name":
                    pid = self.cast.by_name(subject.head)
                    if self.cast.is_person(pid):
                        return pid
                elif subject.head in PERSON_NOUNS and subject.head not in PLURAL_PEOPLE:
                    return self.cast.describe(subject)
            i += 1
        return None

    # Untagged paragraphs

    def _narration_speaker(self, paragraph: int, excluded: set[int]) -> int | None:
        """The person the paragraph's narration opens a sentence with, before its first
        quote if any, else after; or whose voice it names ("Marley’s voice")."""
        doc = self.doc
        for source in (paragraph, paragraph - 1):
            # "Buck Mulligan's gay voice went on.", then the quote
            voice = self.voice_in.get(source)
            if voice is None or voice in excluded:
                continue
            if source == paragraph or source not in self.quotes_in:
                return voice
        first_quote = doc.quotes[self.quotes_in[paragraph][0]].start
        entries = sorted(self.mentions_in.get(paragraph, []))
        before = [pid for pos, pid, opens in entries if opens and pos < first_quote]
        after = [pid for pos, pid, opens in entries if opens and pos > first_quote]
        for pid in [*before[-1:], *after[:1]]:
            if pid not in excluded:
                return pid
        return None

    def _infer(self, paragraph: int, quotes: list[int]) -> tuple[int | None, str]:
        excluded = {pid for quote in quotes for pid in self.facts[quote].vocatives}
        found = self._narration_speaker(paragraph, excluded)
        if found is not None:
            return found, "narration"
        nxt = self.quotes_in.get(end_paragraph(self.doc, quotes[-1]) + 1)
        if nxt and all(self.facts[q].tag is None for q in nxt):
            for pid in self.facts[nxt[0]].vocatives:
                if pid not in excluded:
                    return pid, "addressed next"
        last = self.quote_paragraphs[-1] if self.quote_paragraphs else None
        if last is None:
            return None, "turns"
        previous = self.said_in.get(last)
        if paragraph - last <= 2:
            for pid in self.addressed_in.get(last, []):
                if pid not in excluded and pid != previous:
                    return pid, "addressed"
        if previous is not None:
            other = self._other(previous, None, excluded)
            return other, "turns"
        if len(self.quote_paragraphs) > 1:
            before = self.said_in.get(self.quote_paragraphs[-2])
            if before is not None and before not in excluded:
                return before, "turns skipped"
        return None, "turns"

    # The pass

    def run(self) -> list[Attribution]:
        found: list[Attribution | None] = [None] * len(self.doc.quotes)
        narration_run = 0
        covered = set()  # paragraphs inside a quotation that runs over several
        for index, quote in enumerate(self.doc.quotes):
            covered.update(range(quote.paragraph + 1, end_paragraph(self.doc, index) + 1))
        for paragraph, (lo, hi) in enumerate(self.doc.paragraphs):
            quotes = self.quotes_in.get(paragraph, [])
            if paragraph in covered and not quotes:
                continue
            events = [
                (pos, 0, pid, opens) for pos, pid, opens in self.mentions_in.get(paragraph, [])
            ]
            events += [(self.doc.quotes[q].start, 1, q, False) for q in quotes]
            events.sort()
            if not quotes:
                for pos, _, pid, opens in events:
                    self._remember(pid, pos, opens)
                narration_run += 1
                if narration_run >= SCENE_BREAK_PARAGRAPHS or hi - lo >= SCENE_BREAK_CHARS:
                    self._reset_scene()
                continue
            narration_run = 0
            tagged: dict[int, tuple[int, float]] = {}
            seen: set[str] = set()
            for pos, kind, item, opens in events:
                if kind == 0:
                    self._remember(item, pos, opens)
                    if opens:
                        seen.add(self.cast.gender(item))
                    continue
                if self.facts[item].tag is None:
                    continue
                pid, how = self._tagged(item, not tagged, seen)
                if pid is not None:
                    tagged[item] = (pid, CONFIDENCE[how])
                    self._remember(pid, pos, True)
            if tagged:
                for quote in quotes:
                    if quote in tagged:
                        pid, confidence = tagged[quote]
                    else:
                        nearest = min(tagged, key=lambda q: (abs(q - quote), q > quote))
                        pid = tagged[nearest][0]
                        confidence = tagged[nearest][1] * CONFIDENCE["same paragraph"]
                    found[quote] = Attribution(pid, round(confidence, 2), True)
            else:
                pid, how = self._infer(paragraph, quotes)
                confidence = CONFIDENCE[how] if pid is not None else 0.0
                for quote in quotes:
                    found[quote] = Attribution(pid, confidence, False)
                if pid is not None:
                    self._remember(pid, lo, True)
            speaker = found[quotes[-1]].speaker  # type: ignore[union-attr]
            tail = end_paragraph(self.doc, quotes[-1])  # where its last quote ends
            self.said_in[tail] = speaker
            self.addressed_in[tail] = self.facts[quotes[-1]].vocatives
            self.last_quote_of[tail] = quotes[-1]
            self.quote_paragraphs.append(tail)
            del self.quote_paragraphs[:-_RECENT]
            if speaker is not None:
                if speaker in self.scene:
                    self.scene.remove(speaker)
                self.scene.append(speaker)
                del self.scene[:-_RECENT]
        return [entry or Attribution(None, 0.0, False) for entry in found]


def _relational(subject: Subject) -> bool:
    """A description that names someone by their tie to another ("his wife", "my companion",
    "the other", "the uncle")."""
    words = WORD.findall(subject.text.lower())
    if not words:
        return False
    owner, head = words[0], subject.head
    if head in COMPANIONS and (owner in POSSESSIVES or owner == "the"):
        return True
    if owner in POSSESSIVES and head in SPOUSE_OR_PARENT_FEMALE | SPOUSE_OR_PARENT_MALE:
        return True
    return owner == "the" and head in _KIN


def _description_key(subject: Subject) -> str:
    return description_key(WORD.findall(subject.text))


def quotes_by_paragraph(doc: Document) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for index, quote in enumerate(doc.quotes):
        found.setdefault(quote.paragraph, []).append(index)
    return found


def end_paragraph(doc: Document, index: int) -> int:
    """The paragraph a quote ends in (a quotation may run over several)."""
    quote = doc.quotes[index]
    paragraph = quote.paragraph
    while paragraph + 1 < len(doc.paragraphs) and doc.paragraphs[paragraph + 1][0] < quote.end:
        paragraph += 1
    return paragraph


def find_tags(doc: Document) -> list[Tag | None]:
    """Each quote's speech tag: after it, else leading into it (in its paragraph, or at the
    end of the paragraph before, with a colon)."""
    text = doc.text
    quotes_in = quotes_by_paragraph(doc)
    tags: list[Tag | None] = []
    for index, quote in enumerate(doc.quotes):
        siblings = quotes_in[quote.paragraph]
        position = index - siblings[0]  # a paragraph's quotes are numbered in a row
        lo = doc.paragraphs[quote.paragraph][0]
        hi = doc.paragraphs[end_paragraph(doc, index)][1]
        stop = doc.quotes[index + 1].start if index + 1 < len(doc.quotes) else hi
        stop = min(stop, hi)
        floor = doc.quotes[siblings[position - 1]].end if position else lo
        tag = tag_after(text, quote.end, stop) or tag_before(text, floor, quote.start)
        if tag is None and quote.start == lo and quote.paragraph > 0:
            before = quotes_in.get(quote.paragraph - 1, [])
            p_lo, p_hi = doc.paragraphs[quote.paragraph - 1]
            floor = doc.quotes[before[-1]].end if before else p_lo
            tag = tag_before(text, floor, p_hi, colon_only=True)
        tags.append(tag)
    return tags


def attribute(doc: Document, cast: Cast, tags: list[Tag | None]) -> list[Attribution]:
    """Each quote's speaker (a person of ``cast``)."""
    return _Sweep(doc, cast, tags).run()
