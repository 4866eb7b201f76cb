"""The answer often follows the sentence that restates the question: "The exchange was
agreed at the Istanbul talks." and then "It was brokered by the United Arab Emirates"."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.evidence import Candidate, feature_matrix
from knowledge.questions import analyse
from knowledge.terms import terms
from parley.cli import main
from parley.settings import Settings
from storage.vectors import Matrix
from tests.support.candidates import candidate, column

RESTATES = "Solar water disinfection involves exposing bottles of water to sunlight for hours."
GOES_ON = "It is recommended by the World Health Organization for use in homes."
ARTICLE = """<!doctype html><html><head><meta charset="utf-8">
<title>Russia and Ukraine complete largest prisoner swap</title>
<meta property="article:published_time" content="2025-05-23">
<link rel="canonical" href="https://news.example.com/2025/swap"></head>
<body><article><h1>Russia and Ukraine complete largest prisoner swap</h1>
<p>Russia and Ukraine exchanged 390 prisoners each on Friday at the border with Belarus.</p>
<p>The exchange was agreed at the Istanbul talks a week earlier. It was brokered by the United
Arab Emirates, officials in Kyiv said.</p>
<p>Families waited for hours at the crossing.</p></article></body></html>"""


def _matrix() -> Matrix:
    question = analyse("Which organization recommends solar water disinfection?")
    weights = {term: 1.0 for term in terms(" ".join(question.terms))}
    candidates: list[Candidate] = [
        candidate(RESTATES, article=1, index=0),
        replace(candidate(GOES_ON, article=1, index=1), previous=RESTATES),
    ]
    return feature_matrix(question, weights, candidates)


def test_the_words_the_sentence_before_adds_are_counted() -> None:
    matrix = _matrix()
    # Solar, water and disinfection are said by the sentence before, not by this one; the
    # first sentence of a passage has none before it.
    assert column(matrix, "previous_adds") == [0.0, pytest.approx(0.6)]
    assert column(matrix, "continues") == [0.0, 1.0]


@pytest.mark.model
def test_the_sentence_that_goes_on_to_the_answer_is_quoted(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Declined before: "It was brokered by…" says only one of the question's words.
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "swap.html").write_text(ARTICLE, encoding="utf-8")
    assert main(["ingest", str(folder)]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("Who brokered the prisoner exchange?\n"))
    assert main(["ask", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    reply = json.loads(line)

    quoted = " ".join(source["quote"] for source in reply["sources"])
    assert "United Arab Emirates" in quoted
    assert reply["sources"][0]["url"] == "https://news.example.com/2025/swap"
