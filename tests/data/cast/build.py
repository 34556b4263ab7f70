"""Builds the cast test set: each annotated passage in annotated/<book>.txt becomes <book>.txt
(the plain passage) and <book>.json (every quote's exact offsets in it, its text, its speaker and
whether an explicit attribution names it).

An annotated passage is a header, a line `---`, then the passage with each quote marked inline:

    title: Pride and Prejudice
    author: Jane Austen
    year: 1813
    passage: what the excerpt is
    character: Mrs. Bennet | his lady | his wife        (the speaker's name, then every other
    character: Mr. Bennet | her father                    form the text uses for them)
    ---
    {{Mrs. Bennet|"My dear Mr. Bennet,"}} said his lady to him one day.
    {{Mr. Bennet?|"What is his name?"}}

`{{Speaker|...}}` is a quote with an explicit attribution (a speech tag such as "said his lady"
before or after it, or elsewhere in the same paragraph of one speaker's quotes); `{{Speaker?|...}}`
is one whose speaker a reader infers (turns, who is addressed, the narration around it). What is
between `|` and `}}` is the quote exactly as printed, from its opening mark (or the dash that
opens a line of dialogue) to its closing mark: the offsets are of that span.

    .venv/bin/python tests/data/cast/build.py            # rebuild every book
    .venv/bin/python tests/data/cast/build.py --check    # fail if a built file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "annotated"
OPEN, CLOSE, SPLIT = "{{", "}}", "|"
IMPLICIT = "?"
HEADER_END = "---"


class AnnotationError(ValueError):
    """An annotated passage that cannot be built, with the line to fix."""


@dataclass(frozen=True)
class Book:
    name: str
    text: str
    annotation: dict


def _header(lines: list[str], name: str) -> tuple[dict, dict[str, list[str]]]:
    fields: dict[str, str] = {}
    characters: dict[str, list[str]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise AnnotationError(f"{name}:{number}: a header line is `key: value`, not {line!r}")
        key, value = key.strip(), value.strip()
        if key == "character":
            forms = [form.strip() for form in value.split("|") if form.strip()]
            characters[forms[0]] = forms
        else:
            fields[key] = value
    for required in ("title", "author", "year"):
        if required not in fields:
            raise AnnotationError(f"{name}: the header lacks `{required}:`")
    return fields, characters


def build(source: str, name: str = "<source>") -> tuple[str, dict]:
    """The plain passage and its annotation from an annotated passage."""
    head, sep, body = source.partition(f"\n{HEADER_END}\n")
    if not sep:
        raise AnnotationError(f"{name}: no `{HEADER_END}` line between the header and the text")
    fields, characters = _header(head.splitlines(), name)
    text: list[str] = []
    quotes: list[dict] = []
    length = 0
    at = 0
    while True:
        opening = body.find(OPEN, at)
        if opening < 0:
            text.append(body[at:])
            break
        text.append(body[at:opening])
        length += opening - at
        split = body.find(SPLIT, opening)
        closing = body.find(CLOSE, opening)
        line = body.count("\n", 0, opening) + len(head.splitlines()) + 2
        if split < 0 or closing < 0 or split > closing:
            raise AnnotationError(f"{name}:{line}: `{{{{` without `Speaker|...}}}}`")
        inner = body.find(OPEN, opening + len(OPEN))
        if 0 <= inner < closing:
            raise AnnotationError(f"{name}:{line}: a quote marked inside another")
        label = body[opening + len(OPEN) : split].strip()
        quoted = body[split + 1 : closing]
        explicit = not label.endswith(IMPLICIT)
        speaker = label.rstrip(IMPLICIT).strip()
        if speaker not in characters:
            raise AnnotationError(f"{name}:{line}: {speaker!r} is not a `character:` of the header")
        if not quoted or quoted != quoted.strip():
            raise AnnotationError(
                f"{name}:{line}: the marked quote is empty or has spaces at an end"
            )
        quotes.append(
            {
                "start": length,
                "end": length + len(quoted),
                "text": quoted,
                "speaker": speaker,
                "explicit": explicit,
            }
        )
        text.append(quoted)
        length += len(quoted)
        at = closing + len(CLOSE)
    plain = "".join(text)
    if "{{" in plain or "}}" in plain:
        raise AnnotationError(f"{name}: unbalanced markup left in the text")
    annotation = {
        **fields,
        "text": f"{name}.txt",
        "characters": characters,
        "quotes": quotes,
    }
    for quote in quotes:  # the offsets say what they mark
        if plain[quote["start"] : quote["end"]] != quote["text"]:
            raise AnnotationError(f"{name}: the offsets of {quote['text'][:40]!r} are wrong")
    return plain, annotation


def load_sources() -> list[Book]:
    books = []
    for path in sorted(SOURCES.glob("*.txt")):
        text, annotation = build(path.read_text(encoding="utf-8"), path.stem)
        books.append(Book(path.stem, text, annotation))
    return books


def _outputs(book: Book) -> dict[Path, str]:
    return {
        HERE / f"{book.name}.txt": book.text,
        HERE / f"{book.name}.json": json.dumps(book.annotation, indent=1, ensure_ascii=False)
        + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a built file is stale")
    args = parser.parse_args(argv)
    stale = []
    total = 0
    for book in load_sources():
        total += len(book.annotation["quotes"])
        for path, content in _outputs(book).items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == content:
                continue
            if args.check:
                stale.append(path.name)
            else:
                path.write_text(content, encoding="utf-8")
                print(f"wrote {path.relative_to(HERE)}")
    if stale:
        print("out of date (run tests/data/cast/build.py):", ", ".join(stale), file=sys.stderr)
        return 1
    print(f"{total} quotes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
