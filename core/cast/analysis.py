"""``analyse_cast``: the characters of a text and who speaks each of its quotes; and
``speaker_spans``: the text cut where the voice changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.cast.characters import Cast, Person
from core.cast.paragraphs import paragraph_spans
from core.cast.quotes import find_quotes
from core.cast.speakers import attribute, find_tags
from core.cast.words import Document

# A person who never speaks is listed when the text names them this often (and they are
# surely a person: a title, a given name, addressed, the subject of what people do)
LISTED_MENTIONS = 2


@dataclass(frozen=True)
class Quote:
    """A quote: ``text[start:end]`` from its opening mark (or dialogue dash) to just after its
    closing mark, and who says it (a character's name; None when unknown)."""

    start: int
    end: int
    text: str
    speaker: str | None
    confidence: float  # 0 to 1
    attributed: bool  # an explicit tag ("said Jane", "she answered") decided it
    paragraph: int  # the index of the paragraph it opens in


@dataclass(frozen=True)
class Character:
    name: str
    aliases: list[str]
    gender: str  # "female", "male" or "unknown"
    mentions: int
    lines: int  # quotes spoken


@dataclass(frozen=True)
class CastAnalysis:
    characters: list[Character]  # by lines, then mentions, most first
    quotes: list[Quote]  # in the order of the text


def _listed(person: Person, lines: int) -> bool:
    if lines:
        return True
    return person.is_person and not person.description and person.mentions >= LISTED_MENTIONS


def _unique_names(people: list[Person]) -> dict[int, str]:
    names: dict[int, str] = {}
    taken: Counter = Counter()
    for person in people:
        name = person.name
        taken[name] += 1
        names[person.id] = name if taken[name] == 1 else f"{name} ({taken[name]})"
    return names


def analyse_cast(text: str) -> CastAnalysis:
    """The characters of ``text`` and the speaker of each of its quotes (see docs/cast.md)."""
    paragraphs = paragraph_spans(text)
    spans = find_quotes(text, paragraphs)
    if not spans:
        return CastAnalysis([], [])
    doc = Document(text, paragraphs, spans)
    tags = find_tags(doc)
    names = [tag.subject.head for tag in tags if tag is not None and tag.subject.kind == "name"]
    cast = Cast(doc, names)
    attributions = attribute(doc, cast, tags)
    cast.count_descriptions()
    lines = Counter(a.speaker for a in attributions if a.speaker is not None)
    people = [p for p in cast.people if _listed(p, lines[p.id])]
    people.sort(key=lambda p: (-lines[p.id], -p.mentions, p.name))
    named = _unique_names(people)
    characters = [
        Character(named[p.id], p.aliases, p.gender, p.mentions, lines[p.id]) for p in people
    ]
    quotes = [
        Quote(
            start=span.start,
            end=span.end,
            text=text[span.start : span.end],
            speaker=named.get(found.speaker) if found.speaker is not None else None,
            confidence=found.confidence,
            attributed=found.attributed,
            paragraph=span.paragraph,
        )
        for span, found in zip(spans, attributions, strict=True)
    ]
    return CastAnalysis(characters, quotes)


def speaker_spans(text: str, analysis: CastAnalysis) -> list[tuple[int, int, str | None]]:
    """The whole text as (start, end, speaker) in order: each quote with its speaker, the
    narration between with None (the narrator's voice); see ``joined_spans``."""
    return joined_spans(text, [(q.start, q.end, q.speaker) for q in analysis.quotes])


def joined_spans(
    text: str, quotes: list[tuple[int, int, str | None]]
) -> list[tuple[int, int, str | None]]:
    """The whole text as (start, end, speaker): each quote (in order, not overlapping) with its
    speaker, the narration between them with None. Neighbours with one speaker are joined, and
    so is blank space between two quotes of one speaker."""
    spans: list[tuple[int, int, str | None]] = []
    at = 0
    for start, end, speaker in quotes:
        if start < at:
            continue  # overlapping quotes cannot come from analyse_cast
        if start > at:
            spans.append((at, start, None))
        spans.append((start, end, speaker))
        at = end
    if at < len(text):
        spans.append((at, len(text), None))
    joined: list[tuple[int, int, str | None]] = []
    for start, end, speaker in spans:
        if joined and joined[-1][2] == speaker:
            joined[-1] = (joined[-1][0], end, speaker)
            continue
        if (
            len(joined) >= 2
            and speaker is not None
            and joined[-1][2] is None
            and joined[-2][2] == speaker
            and text[joined[-1][0] : joined[-1][1]].isspace()
        ):
            joined.pop()  # only blank space between two quotes of one speaker
            joined[-1] = (joined[-1][0], end, speaker)
            continue
        joined.append((start, end, speaker))
    return joined
