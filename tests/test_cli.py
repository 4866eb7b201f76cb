"""The `parley` command line: ingest previews, bad input and database upgrades."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from parley.cli import main
from parley.settings import Settings
from storage.db import head_revision
from tests.conftest import SEED_ARTICLE
from tests.support.news_site import publish, story, story_page
from tests.support.web_server import WebServer

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

    assert f"Database is at revision {head_revision()}." in capsys.readouterr().out


def test_invalid_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_ARTICLE_BYTES", "lots")

    assert main(["db", "upgrade"]) == 2

    assert capsys.readouterr().err.startswith("parley: invalid settings: MAX_ARTICLE_BYTES:")


def test_pages_by_url_are_previewed_and_ingested(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALLOW_PRIVATE_SOURCES", "true")
    with WebServer() as site:
        page = site.add("/news/story-1", story_page(story(1, "Ceasefire")))
        assert (
            main(["ingest", "--dry-run", "--json", page + "?utm_source=x", f"{site.url}/gone"]) == 1
        )
        out, err = capsys.readouterr()
        assert main(["ingest", page]) == 0

    [line] = out.splitlines()
    preview = json.loads(line)
    assert preview["url"] == page
    assert preview["title"] == "Ceasefire talks: round 1 ends in Geneva"
    assert preview["source"] == "127.0.0.1" and preview["passages"] >= 1
    assert "next week" in preview["text"]
    assert (
        f"parley: {site.url}/gone: Could not fetch {site.url}/gone: the server answered 404" in err
    )
    assert article_count(settings) == 1


def test_sources_are_added_listed_and_removed_from_the_command_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALLOW_PRIVATE_SOURCES", "true")
    with WebServer() as site:
        feed = publish(site, [story(1, "Ceasefire"), story(2, "Grain")])
        assert main(["sources", "add", feed]) == 0
        assert main(["sources", "add", feed]) == 1
    assert main(["sources", "list"]) == 0
    assert main(["sources", "remove", "9"]) == 1
    out, err = capsys.readouterr()
    source_id = out.split("#")[1].split(":")[0]
    assert main(["sources", "remove", source_id]) == 0
    assert main(["sources", "list"]) == 0
    after = capsys.readouterr().out

    assert "(feed); found 2 article(s), 2 new" in out
    assert f"#{source_id}\tfeed\t2 article(s)\tExample Wire\t{feed}" in out
    assert f"is already source #{source_id}" in err
    assert "There is no active source #9" in err
    assert f"Removed source #{source_id} (Example Wire)" in after
    assert after.endswith("No sources yet.\n")
