"""Scores ``core.cast.analyse_cast`` against the annotated books of this directory.

Boundaries: a gold quote is found when a predicted quote has exactly its start and end (recall);
a predicted quote is right when a gold quote has exactly its span (precision).

Speakers: each gold quote is judged by the predicted quote that overlaps it most (none: wrong).
The predicted speaker is a character of the analysis; it names the gold character whose forms
(the names the book uses for them, in the annotation's `character:` lines) share a form with
the predicted character's name and aliases, compared without case, full stops and a leading
article ("the Hatter" = "Hatter"). A predicted character that shares forms with two gold ones
names the one its own name is a form of, else none. Unknown (None) is wrong.

    .venv/bin/python tests/data/cast/score.py      # the table, and every wrong speaker
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.cast import CastAnalysis, analyse_cast  # noqa: E402

HERE = Path(__file__).resolve().parent
_ARTICLES = ("the ", "a ", "an ", "that ", "this ")


def normalized(form: str) -> str:
    form = " ".join(form.lower().replace("’", "'").replace(".", "").split())
    for article in _ARTICLES:
        if form.startswith(article):
            return form[len(article) :]
    return form


@dataclass
class Judged:
    gold: dict
    predicted: str | None  # the gold character the prediction names, or None
    raw: str | None  # the predicted speaker as the analysis names it

    @property
    def right(self) -> bool:
        return self.predicted == self.gold["speaker"]


@dataclass
class BookScore:
    name: str
    title: str
    author: str
    quotes: int
    explicit: int
    explicit_right: int
    right: int
    found: int  # gold quotes predicted with exact boundaries
    predicted: int  # quotes predicted
    exact: int  # predicted quotes that are gold ones
    seconds: float
    wrong: list[Judged]

    def figures(self) -> dict:
        return {
            "title": self.title,
            "author": self.author,
            "quotes": self.quotes,
            "explicit_quotes": self.explicit,
            "explicit_speaker_accuracy": _ratio(self.explicit_right, self.explicit),
            "speaker_accuracy": _ratio(self.right, self.quotes),
            "boundary_recall": _ratio(self.found, self.quotes),
            "boundary_precision": _ratio(self.exact, self.predicted),
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def _gold_of(characters: dict[str, list[str]], analysis: CastAnalysis, speaker: str | None):
    if speaker is None:
        return None
    character = next((c for c in analysis.characters if c.name == speaker), None)
    forms = {normalized(speaker)}
    if character is not None:
        forms |= {normalized(alias) for alias in character.aliases}
    gold_forms = {name: {normalized(f) for f in fs} for name, fs in characters.items()}
    matches = [name for name, fs in gold_forms.items() if fs & forms]
    if len(matches) > 1:
        matches = [name for name in matches if normalized(speaker) in gold_forms[name]]
    return matches[0] if len(matches) == 1 else None


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def score_book(name: str, annotation: dict, text: str) -> BookScore:
    started = time.perf_counter()
    analysis = analyse_cast(text)
    seconds = time.perf_counter() - started
    gold = annotation["quotes"]
    predicted = {(q.start, q.end): q for q in analysis.quotes}
    spans = sorted(predicted)
    gold_spans = {(g["start"], g["end"]) for g in gold}
    judged = []
    at = 0
    for quote in gold:
        span = (quote["start"], quote["end"])
        while at < len(spans) and spans[at][1] <= span[0]:
            at += 1
        best, most = None, 0
        for other in spans[at : at + 4]:
            if _overlap(span, other) > most:
                best, most = other, _overlap(span, other)
        raw = predicted[best].speaker if best is not None else None
        judged.append(Judged(quote, _gold_of(annotation["characters"], analysis, raw), raw))
    explicit = [j for j in judged if j.gold["explicit"]]
    return BookScore(
        name=name,
        title=annotation["title"],
        author=annotation["author"],
        quotes=len(gold),
        explicit=len(explicit),
        explicit_right=sum(j.right for j in explicit),
        right=sum(j.right for j in judged),
        found=len(gold_spans & set(predicted)),
        predicted=len(predicted),
        exact=len(gold_spans & set(predicted)),
        seconds=seconds,
        wrong=[j for j in judged if not j.right],
    )


def score_all() -> list[BookScore]:
    scores = []
    for path in sorted(HERE.glob("*.json")):
        annotation = json.loads(path.read_text(encoding="utf-8"))
        text = (HERE / annotation["text"]).read_text(encoding="utf-8")
        scores.append(score_book(path.stem, annotation, text))
    return scores


def totals(scores: list[BookScore]) -> dict:
    quotes = sum(s.quotes for s in scores)
    explicit = sum(s.explicit for s in scores)
    return {
        "books": len(scores),
        "authors": len({s.author for s in scores}),
        "quotes": quotes,
        "explicit_quotes": explicit,
        "explicit_speaker_accuracy": _ratio(sum(s.explicit_right for s in scores), explicit),
        "speaker_accuracy": _ratio(sum(s.right for s in scores), quotes),
        "boundary_recall": _ratio(sum(s.found for s in scores), quotes),
        "boundary_precision": _ratio(
            sum(s.exact for s in scores), sum(s.predicted for s in scores)
        ),
    }


def table(scores: list[BookScore]) -> str:
    rows = [
        f"{'book':34} {'quotes':>6} {'explicit':>9} {'all':>7} {'bounds':>7} {'precise':>8}",
    ]
    for s in scores:
        f = s.figures()
        rows.append(
            f"{s.name:34} {s.quotes:6d} {f['explicit_speaker_accuracy']:9.1%} "
            f"{f['speaker_accuracy']:7.1%} {f['boundary_recall']:7.1%} "
            f"{f['boundary_precision']:8.1%}"
        )
    t = totals(scores)
    rows.append(
        f"{'total':34} {t['quotes']:6d} {t['explicit_speaker_accuracy']:9.1%} "
        f"{t['speaker_accuracy']:7.1%} {t['boundary_recall']:7.1%} "
        f"{t['boundary_precision']:8.1%}"
    )
    return "\n".join(rows)


def main() -> int:
    scores = score_all()
    if "-v" in sys.argv:
        for s in scores:
            for j in s.wrong:
                flag = "E" if j.gold["explicit"] else " "
                print(
                    f"{s.name[:14]:14} {flag} gold {j.gold['speaker']!r:22} got {j.raw!r:26}"
                    f" {j.gold['text'][:60]!r}"
                )
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
