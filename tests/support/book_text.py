"""The source of the book fixtures in tests/data/books (made by its make_books.py), and how
their extracted text is compared with it: word by word, punctuation and case left out."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "benchmarks" / "data" / "moby_dick_4-15.md"  # public domain (Melville, 1851)
BOOKS = ROOT / "tests" / "data" / "books"

BOOK_TITLE = "Moby-Dick; or, The Whale"
BOOK_AUTHOR = "Herman Melville"
# Which chapters of the source each fixture holds (by chapter number)
CHAPTERS_OF = {
    "chromium.pdf": (5, 6, 7),
    "chromium-headings.pdf": (10, 11),
    "libreoffice.pdf": (11, 12, 14),
    "python-docx.docx": (4, 5, 6),
    "libreoffice.docx": (12, 13),
    "article.html": (14, 15),
    "book.fb2": (8, 10),
    "encrypted.pdf": (15,),
}

# What scan.pdf's one page shows, as a picture
SCAN_TEXT = (
    "Upon waking next morning about daylight, I found Queequeg's arm thrown over me in the most "
    "loving and affectionate manner. You had almost thought I had been his wife."
)

_HEADING = re.compile(r"^# (Chapter (\d+)\. [^\n]+)$", re.MULTILINE)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SourceChapter:
    number: int
    title: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def source_chapters() -> dict[int, SourceChapter]:
    text = SOURCE.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    chapters = {}
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        paragraphs = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
        number = int(heading.group(2))
        chapters[number] = SourceChapter(number, heading.group(1), paragraphs)
    return chapters


def chapters_of(book: str) -> list[SourceChapter]:
    every = source_chapters()
    return [every[number] for number in CHAPTERS_OF[book]]


def words(text: str) -> list[str]:
    """The words of ``text``, lowercased, without punctuation: "shade—owing" is two words."""
    return _WORD.findall(text.lower())


def word_match(extracted: str, expected: str) -> float:
    """How much of ``expected``'s words ``extracted`` has, in order: difflib's ratio."""
    return SequenceMatcher(None, words(extracted), words(expected), autojunk=False).ratio()
