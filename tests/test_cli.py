"""The `parley` command line: ingest previews, bad input and database upgrades."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.settings import Settings
from tests.conftest import SEED_ARTICLE

pytestmark = pytest.mark.model


def article_count(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM articles")).scalar_one())


def test_dry_run_prints_what_would_be_stored_and_stores_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "--dry-run", "--json", str(SEED_ARTICLE)]) == 0

    [line] = capsys.readouterr().out.splitlines()
    preview = json.loads(line)
    assert set(preview) == {"url", "title", "date", "source", "text", "passages"}
    assert preview["url"] == str(SEED_ARTICLE.resolve())
    assert preview["title"] == "Trump and Putin to Skip First Ukraine Peace Talks in Istanbul"
    assert preview["date"] == "2025-05-15"
    assert preview["source"] == "Reuters"
    assert "PostImage" not in preview["text"] and "Medinsky" in preview["text"]
    assert preview["passages"] >= 3
    assert article_count(settings) == 0


def test_bad_files_get_one_clear_line_each_and_the_rest_is_ingested(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAX_ARTICLE_BYTES", "20000")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin1.txt").write_bytes(
        "Négociations à Genève\n\nLes délégués.".encode("latin-1")
    )
    (tmp_path / "huge.txt").write_text("Talks. " * 5000)
    good = tmp_path / "good.txt"
    good.write_text(SEED_ARTICLE.read_text())

    status = main(
        ["ingest", str(tmp_path), str(tmp_path / "missing.txt"), str(tmp_path / "notes.docx")]
    )

    assert status == 1
    errors = capsys.readouterr().err.splitlines()
    problems = [line for line in errors if line.startswith("parley: ")]
    assert sorted(problems) == sorted(
        [
            f"parley: {tmp_path / 'missing.txt'}: no such file or folder",
            f"parley: {tmp_path / 'notes.docx'}: no such file or folder",
            f"parley: {tmp_path / 'empty.txt'}: file is empty",
            f"parley: {tmp_path / 'binary.txt'}: file is binary, not text",
            f"parley: {tmp_path / 'latin1.txt'}: not UTF-8 text (undecodable byte at position 1)",
            f"parley: {tmp_path / 'huge.txt'}: file is 35,000 bytes, over the 20,000-byte limit",
        ]
    )
    assert article_count(settings) == 1


def test_unsupported_file_types_are_named(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "notes.docx"
    document.write_bytes(b"PK")

    assert main(["ingest", str(document)]) == 1

    assert (
        f"parley: {document}: unsupported file type '.docx'; use .txt, .md or .html"
        in capsys.readouterr().err
    )


def test_db_upgrade_reports_the_revision(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0

    assert "Database is at revision 0004." in capsys.readouterr().out


def test_invalid_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_ARTICLE_BYTES", "lots")

    assert main(["db", "upgrade"]) == 2

    assert capsys.readouterr().err.startswith("parley: invalid settings: MAX_ARTICLE_BYTES:")
