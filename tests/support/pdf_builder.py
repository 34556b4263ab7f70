"""Small PDF files written by hand, in shapes no producer would make: a page count, a stream
that unpacks to far more than it takes, an outline that goes round in a circle."""

import zlib

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_page(lines: list[str], size: int = 10) -> bytes:
    """A page's content: each line drawn in Helvetica, top to bottom."""
    commands = [b"BT /F1 %d Tf 72 760 Td %d TL" % (size, size + 2)]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        commands.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
    commands.append(b"ET")
    return b"\n".join(commands)


def pdf_file(
    pages: list[bytes],
    *,
    flate: bool = False,
    outline: list[bytes] | None = None,
    trailer_extra: bytes = b"",
) -> bytes:
    """A PDF of ``pages`` (content streams), Flate-compressed when ``flate``. ``outline``:
    the outline's items as dictionaries, which may name ``{first}`` (the first item's
    object number), ``{page}`` (the first page's) and ``{root}`` (the outline's)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(FONT)
    kids = []
    for content in pages:
        data = zlib.compress(content) if flate else content
        flate_key = b" /Filter /FlateDecode" if flate else b""
        stream = add(
            b"<< /Length %d%s >>\nstream\n" % (len(data), flate_key) + data + b"\nendstream"
        )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (tree, stream, font)
            )
        )
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    outlines = b""
    if outline:
        root = add(b"")
        first = len(objects) + 1
        numbers = {"first": first, "page": kids[0], "root": root}
        for item in outline:
            add(item.decode().format(**numbers).encode())
        objects[root - 1] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R >>" % (
            first,
            len(objects),
        )
        outlines = b" /Outlines %d 0 R" % root
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s >>" % (tree, outlines)
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        trailer_extra,
        xref,
    )
    return bytes(out)
