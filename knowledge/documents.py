"""Reading article files (.txt, .md, .html) into articles ready to ingest."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from knowledge import metadata
from knowledge.cleaning import (
    ParsedArticle,
    headline_from,
    paragraphs_of,
    parse_article,
    remove_noise,
)
from knowledge.encodings import declared_encoding
from storage.limits import UrlTooLongError, checked_url, fitted_name, fitted_title

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES
LOCAL_SOURCE = "Local files"
# Only the start of a page is parsed: articles sit well inside it, and parsing a page costs
# time in proportion to its size (trafilatura, htmldate and the canonical link each parse it).
MAX_PAGE_BYTES = 3_000_000


class DocumentError(Exception):
    """A file that cannot become an article; the message says why, for a person."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


@dataclass(frozen=True)
class Document:
    """An article read from somewhere, before it is cut into passages."""

    url: str
    title: str
    published_at: datetime | None
    source: str
    paragraphs: list[str]
    source_kind: str = "file"
    source_id: int | None = None  # set when the article belongs to a known source (a feed)

    @property
    def text(self) -> str:
        """The clean body, one paragraph per block."""
        return "\n\n".join(self.paragraphs)


def find_files(paths: Iterable[str]) -> Iterator[Path | DocumentError]:
    """Every supported file named or inside a named folder, or an error for a path that is not."""
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            yield DocumentError(raw, "no such file or folder")
        elif path.is_dir():
            found = sorted(
                child
                for child in path.rglob("*")
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not found:
                yield DocumentError(raw, "folder has no .txt, .md or .html files")
            yield from found
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield DocumentError(
                raw, f"unsupported file type '{path.suffix or 'none'}'; use .txt, .md or .html"
            )
        else:
            yield path


def read_document(path: Path, *, max_bytes: int) -> Document:
    """Read one article file; raise DocumentError with a clear reason when it cannot be used."""
    location = str(path)
    data = read_file(path, max_bytes=max_bytes)
    if not data.strip():
        raise DocumentError(location, "file is empty")
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES and declared_encoding(data) is None:
        _refuse_binary(data, location)
        parsed = parse_html(data, location=location)  # trafilatura reads the page's charset
    else:
        text = _decode(data, location)
        if suffix in HTML_SUFFIXES:
            parsed = parse_html(text, location=location)
        elif suffix in MARKDOWN_SUFFIXES:
            parsed = parse_markdown(text)
        else:
            parsed = parse_article(text)
    return _document(
        parsed, url=str(path.resolve()), fallback_title=_title_from_name(path), source=LOCAL_SOURCE
    )


def read_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most max_bytes, or DocumentError.

    Opened without blocking and checked on the open file, so a pipe (which would wait for a
    writer forever) or a device behind a symlink (/dev/zero never ends) is refused; and never
    more than max_bytes + 1 bytes are read, whatever the file's size claims."""
    location = str(path)
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise DocumentError(location, f"not a regular file (it is {_kind(status.st_mode)})")
        if status.st_size > max_bytes:
            raise DocumentError(
                location, f"file is {status.st_size:,} bytes, over the {max_bytes:,}-byte limit"
            )
        with open(descriptor, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:
        raise DocumentError(location, f"file is over the {max_bytes:,}-byte limit")
    return data


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISFIFO: "a named pipe",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISDIR: "a folder",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


def _document(
    parsed: ParsedArticle, *, url: str, fallback_title: str, source: str, kind: str = "file"
) -> Document:
    """The parsed parts as a Document, with fallbacks for what the text did not say.

    The URL is the one the article gives as its own when it gives one, so that citations
    link to the original article rather than to a saved copy or a tracking redirect."""
    if not parsed.paragraphs:
        raise DocumentError(url, "no article text found")
    try:
        address = checked_url(parsed.url or url)
    except UrlTooLongError as error:
        raise DocumentError(url[:200], str(error)) from None
    return Document(
        url=address,
        title=fitted_title(parsed.title or headline_from(parsed.paragraphs) or fallback_title),
        published_at=parsed.published_at,
        source=fitted_name(parsed.source or source),
        source_kind=kind,
        paragraphs=parsed.paragraphs,
    )


def _decode(data: bytes, location: str) -> str:
    """Text in the encoding its byte-order mark declares (UTF-8, UTF-16 or UTF-32), else UTF-8."""
    encoding = declared_encoding(data) or "utf-8"
    if encoding == "utf-8":
        _refuse_binary(data, location)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
        raise DocumentError(
            location, f"not {name} text (undecodable byte at position {error.start})"
        ) from None
    if "\x00" in text[:8192]:
        raise DocumentError(location, "file is binary, not text")
    return text


def _refuse_binary(data: bytes, location: str) -> None:
    # Text in UTF-8 never holds a NUL byte; UTF-16 and UTF-32 do, and are told by their mark.
    if b"\x00" in data[:8192]:
        raise DocumentError(location, "file is binary, not text")


MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
MARKDOWN_PREFIX = re.compile(r"^\s{0,3}(?:[>*+-]|\d+[.)])\s+")
MARKDOWN_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


def parse_markdown(text: str) -> ParsedArticle:
    """A Markdown article: its first heading is the title, markup is dropped from the body."""
    title = None
    lines = []
    for line in text.splitlines():
        heading = MARKDOWN_HEADING.match(line)
        if heading and title is None:
            title = _strip_markdown(heading.group(1))
            continue
        if MARKDOWN_RULE.match(line) or line.strip().startswith("```"):
            continue
        lines.append(_strip_markdown(heading.group(1) if heading else line))
    return parse_article("\n".join(lines), title=title)


def _strip_markdown(line: str) -> str:
    line = MARKDOWN_LINK.sub(r"\1", line)
    line = MARKDOWN_PREFIX.sub("", line)
    return MARKDOWN_EMPHASIS.sub(r"\2", line)


def parse_html(html: bytes | str, *, location: str, base_url: str | None = None) -> ParsedArticle:
    """An HTML page's main text, title, date and own address.

    The date comes from the page's metadata (htmldate), else trafilatura's, else a dateline
    in the text. `base_url` is where the page was fetched from, for a relative canonical link.
    """
    import trafilatura  # only where a page is read: see knowledge.metadata

    html = _page_start(html)
    extracted = trafilatura.bare_extraction(
        html,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        date_extraction_params=metadata.date_search_options(),
    )
    main_text = getattr(extracted, "text", None)
    if not main_text:
        raise DocumentError(location, "no article text found in the HTML")
    title = getattr(extracted, "title", None) or None
    stated_date = metadata.published_at(html) or metadata.metadata_date(
        getattr(extracted, "date", None)
    )
    body = parse_article(str(main_text), title=title)  # bounded in length there
    return ParsedArticle(
        title=title or body.title,
        published_at=stated_date or body.published_at,
        source=getattr(extracted, "sitename", None) or body.source,
        paragraphs=remove_noise(paragraphs_of(body.text), title=title),
        url=metadata.own_address(html, base=base_url),
    )


def _page_start(html: bytes | str) -> bytes | str:
    """The first MAX_PAGE_BYTES of a page, cut before a tag so no element is left half-open."""
    if len(html) <= MAX_PAGE_BYTES:
        return html
    if isinstance(html, bytes):
        start_bytes = html[:MAX_PAGE_BYTES]
        return start_bytes[: max(start_bytes.rfind(b"<"), 0) or MAX_PAGE_BYTES]
    start = html[:MAX_PAGE_BYTES]
    return start[: max(start.rfind("<"), 0) or MAX_PAGE_BYTES]


def read_web_page(content: bytes, *, url: str) -> Document:
    """An article fetched from `url`; its URL is the page's canonical one when it names one,
    its source the site's name, or else its host."""
    host = urlsplit(url).hostname or url
    return _document(
        parse_html(content, location=url, base_url=url),
        url=url,
        fallback_title=host,
        source=host.removeprefix("www."),
        kind="web",
    )


def _title_from_name(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip().capitalize() or path.name
