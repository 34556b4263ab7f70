"""What the DOCX, HTML and FB2 readers have in common: a book read as a sequence of blocks,
headings and paragraphs, cut into chapters at the headings of one level."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.text.books import MAX_TITLE_CHARS, Chapter, append_chapter, has_words
from core.text.epub import BookTooLong, TextBudget

# A paragraph's text is gathered whole before it is counted: past this many characters for
# each one its budget allows, it is a book too long before it ends (white space included)
RAW_CHARS_PER_CHAR = 4


@dataclass(frozen=True)
class Block:
    text: str
    level: int = 0  # a heading's level, 1 the highest; 0 for a paragraph


class Paragraphs:
    """Paragraph text as a streaming parser finds it: white space runs made one space, each
    paragraph spent from the budgets when it ends."""

    def __init__(self, budgets: Sequence[TextBudget]):
        self.budgets = budgets
        self.pieces: list[str] = []
        self.raw_chars = 0
        smallest = min(budgets, key=lambda b: b.chars) if budgets else None
        self._cap = (smallest, RAW_CHARS_PER_CHAR * smallest.chars) if smallest else None
        self._spent_any = False

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.raw_chars += len(text)
        if self._cap and self.raw_chars > self._cap[1]:
            budget = self._cap[0]
            raise BookTooLong(f"the text passes {budget.chars:,} characters, {budget.limit}")

    def take(self) -> str:
        """The paragraph gathered since the last call, spent; "" when it has no text."""
        text = " ".join("".join(self.pieces).split())
        self.pieces.clear()
        self.raw_chars = 0
        if text:
            separator = 2 if self._spent_any else 0  # the blank line before it
            for budget in self.budgets:
                budget.spend_text(separator + len(text))
            self._spent_any = True
        return text


def chapters_at(blocks: Iterable[Block], level: int | None, preface: str) -> list[Chapter]:
    """A chapter at each heading of ``level``, titled by it and starting with it; what comes
    before the first is titled ``preface``. Headings of other levels stay as paragraphs."""
    chapters: list[Chapter] = []
    title, body = preface, []

    def close() -> None:
        text = "\n\n".join(body)
        if has_words(text):
            append_chapter(chapters, title or f"Chapter {len(chapters) + 1}", text)

    for block in blocks:
        if level is not None and block.level == level:
            close()
            title, body = block.text[:MAX_TITLE_CHARS], []
        body.append(block.text)
    close()
    return chapters
