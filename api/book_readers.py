"""The book files an upload may be, by suffix, each read into chapters with its own title,
author and language; plain text and Markdown are read in api/job_request.py."""

from collections.abc import Callable, Sequence

from core.text.docx_book import read_docx
from core.text.epub import Book, TextBudget, read_epub
from core.text.fb2 import read_fb2
from core.text.html_book import read_html
from core.text.ocr import Tesseract, find_tesseract
from core.text.pdf import read_pdf
from infra.settings import Settings

# data, the budgets it is read under, the title of text before the first chapter, settings
BookReader = Callable[[bytes, Sequence[TextBudget], str, Settings], Book]


def pdf_ocr(settings: Settings) -> Tesseract | None:
    """What reads a scanned PDF: Tesseract when KQ_PDF_OCR is on and it is installed."""
    return find_tesseract() if settings.pdf_ocr else None


def _epub(data: bytes, budgets: Sequence[TextBudget], title: str, settings: Settings) -> Book:
    return read_epub(data, *budgets)  # text outside the table of contents is front matter


def _pdf(data: bytes, budgets: Sequence[TextBudget], title: str, settings: Settings) -> Book:
    return read_pdf(data, *budgets, title=title, ocr=pdf_ocr(settings))


def _docx(data: bytes, budgets: Sequence[TextBudget], title: str, settings: Settings) -> Book:
    return read_docx(data, *budgets, title=title)


def _html(data: bytes, budgets: Sequence[TextBudget], title: str, settings: Settings) -> Book:
    return read_html(data, *budgets, title=title)


def _fb2(data: bytes, budgets: Sequence[TextBudget], title: str, settings: Settings) -> Book:
    return read_fb2(data, *budgets, title=title)


BOOK_READERS: dict[str, BookReader] = {
    ".epub": _epub,
    ".pdf": _pdf,
    ".docx": _docx,
    ".html": _html,
    ".htm": _html,
    ".xhtml": _html,
    ".fb2": _fb2,
}
# Books that unpack to more text than the bytes that brought them: a batch's share one budget
UNPACKED_BOOKS = frozenset({".epub", ".pdf", ".docx"})
