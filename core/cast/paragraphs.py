"""Paragraphs: where a new speaker may begin.

Novels as plain text part paragraphs with a blank line and wrap lines inside them (Project
Gutenberg's texts) or write one paragraph per line; a text with a blank line anywhere is read
the first way, any other the second.
"""


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, blank) of each line, without its line break."""
    lines = []
    start = 0
    size = len(text)
    while start <= size:
        brk = text.find("\n", start)
        end = size if brk < 0 else brk
        lines.append((start, end, start == end or text[start:end].isspace()))
        start = end + 1
    return lines


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every paragraph, without the whitespace around it, in order."""
    lines = _lines(text)
    first = next((i for i, line in enumerate(lines) if not line[2]), None)
    if first is None:
        return []
    last = max(i for i, line in enumerate(lines) if not line[2])
    by_blank_lines = any(lines[i][2] for i in range(first, last))
    spans = []
    start = end = None
    for line_start, line_end, blank in lines:
        if blank or not by_blank_lines:
            if start is not None:
                spans.append(_trimmed(text, start, end))
                start = None
            if blank:
                continue
        if start is None:
            start = line_start
        end = line_end
    if start is not None:
        spans.append(_trimmed(text, start, end))
    return spans
