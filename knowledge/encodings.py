"""Which Unicode encoding a text or XML document's first bytes declare."""

from __future__ import annotations

import codecs

# Longest first: UTF-32LE's mark begins with UTF-16LE's.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Without a mark, an XML document's first character is "<" in UTF-16 or UTF-32 (XML 1.0,
# appendix F), which fixes the encoding well enough to read its declaration and root element.
XML_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


def declared_encoding(data: bytes) -> str | None:
    """The codec the byte-order mark at the start names (it strips the mark), if any."""
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return codec
    return None


def xml_encoding(data: bytes) -> str | None:
    """The UTF-16 or UTF-32 codec an XML document's first bytes show, marked or not."""
    marked = declared_encoding(data)
    if marked is not None:
        return marked
    for start, codec in XML_STARTS:
        if data.startswith(start):
            return codec
    return None
