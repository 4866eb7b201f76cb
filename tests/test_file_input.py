"""Reading article files: only regular files, never past the size limit, in the encoding
their byte-order mark declares."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.documents import DocumentError, read_document
from parley.services import Services

TEXT = (
    "Talks resume in Genève\n\n"
    "Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange.\n\n"
    "The talks were described as «constructive» by officials from both delegations.\n"
)


def problems_reading(services: Services, path: Path) -> list[str]:
    plans, problems = services.ingestor.plan_files([str(path)])
    assert plans == []
    return [str(problem) for problem in problems]


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe with a .txt name. Should a reader wait on it, a writer comes along after
    a while and closes it, so that a failing test fails instead of hanging."""
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    stop = threading.Event()

    def release_a_waiting_reader() -> None:
        while not stop.wait(2):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as error:
                if error.errno != errno.ENXIO:  # ENXIO: nobody is reading, all is well
                    raise

    rescuer = threading.Thread(target=release_a_waiting_reader, daemon=True)
    rescuer.start()
    yield path
    stop.set()
    rescuer.join()


def test_a_named_pipe_is_refused_not_waited_on(services: Services, fifo: Path) -> None:
    assert problems_reading(services, fifo) == [f"{fifo}: not a regular file (it is a named pipe)"]


def test_a_text_file_linked_to_a_device_is_refused(services: Services, tmp_path: Path) -> None:
    link = tmp_path / "endless.txt"
    link.symlink_to("/dev/zero")

    assert problems_reading(services, link) == [
        f"{link}: not a regular file (it is a character device)"
    ]


def test_no_more_than_the_limit_is_read_whatever_the_size_claims(tmp_path: Path) -> None:
    # Files under /proc say they hold 0 bytes and then give more.
    link = tmp_path / "status.txt"
    link.symlink_to("/proc/self/status")
    assert link.stat().st_size == 0

    with pytest.raises(DocumentError, match="over the 100-byte limit"):
        read_document(link, max_bytes=100)


def test_a_linked_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "article.txt").write_text(TEXT)
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "article.txt")

    assert read_document(link, max_bytes=10_000).title == "Talks resume in Genève"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "article.txt"
    mark = "\ufeff" if encoding in {"utf-16-le", "utf-16-be"} else ""  # the others write one
    path.write_bytes((mark + TEXT).encode(encoding))

    document = read_document(path, max_bytes=10_000)

    assert document.title == "Talks resume in Genève"
    assert document.paragraphs[1].endswith("«constructive» by officials from both delegations.")


def test_html_with_a_utf16_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    body = "".join(f"<p>{line}</p>" for line in TEXT.splitlines()[2:] if line)
    page = f"<html><head><title>Talks resume</title></head><body><article>{body}</article>"
    path.write_bytes((page + "</body></html>").encode("utf-16"))

    document = read_document(path, max_bytes=10_000)

    assert document.title == "Talks resume"
    assert "«constructive»" in document.text


def test_binary_and_broken_utf16_files_get_clear_reasons(tmp_path: Path) -> None:
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\xff\xfe" + "Talks".encode("utf-16-le") + b"\x00\xd8A")  # lone surrogate

    with pytest.raises(DocumentError, match="binary, not text"):
        read_document(binary, max_bytes=10_000)
    with pytest.raises(DocumentError, match="not UTF-16 text"):
        read_document(broken, max_bytes=10_000)
