"""The evaluation harness (`make eval`): its scoring, its folds, and the held-out figures the
answering must reach on the negotiations corpus and the seed questions."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evaluation.__main__ import main
from evaluation.baseline import TopSentenceBaseline, archive_sentences
from evaluation.corpora import Corpus, off_archive_corpora, withheld_corpora
from evaluation.folds import (
    DEFAULT_DATA,
    NEGOTIATIONS,
    Question,
    negotiation_articles_of,
    negotiation_questions,
    write_squad_paragraphs,
)
from evaluation.runner import by_fold
from evaluation.scoring import (
    Reply,
    contains_any,
    normalise,
    quoted_text,
    reply_from_json,
    score,
    summarise,
)
from evaluation.train import gather

needs_data = pytest.mark.skipif(
    not (DEFAULT_DATA / NEGOTIATIONS).is_dir(), reason="shared/data is not beside the project"
)
TIME_QUESTION = Question(
    text="Which city hosted the latest round?",
    spans=("Rome",),
    kind="time",
    stale=("Muscat",),
    fold="a",
)
REFUSE_QUESTION = Question(text="Which hotel did they stay at?", spans=(), kind="refuse", fold="b")


def test_normalise_unescapes_folds_typography_and_case_and_collapses_spaces() -> None:
    assert normalise("  Iran&#8217;s  “Fair\n and — Binding” deal ") == (
        'iran\'s "fair and - binding" deal'
    )


def test_span_is_found_whatever_its_typography_or_case() -> None:
    assert contains_any("Oman’s “fair and binding agreement”.", ["Oman's", "nothing"])
    assert contains_any("a 30–day ceasefire", ["30-day CEASEFIRE"])
    assert not contains_any("Medinsky leads", ["Fomin"])
    assert not contains_any("anything", [""])


def test_answerable_question_is_correct_only_when_a_span_is_quoted() -> None:
    right = score(TIME_QUESTION, Reply(TIME_QUESTION.text, quoted="The round was in Rome."))
    wrong = score(TIME_QUESTION, Reply(TIME_QUESTION.text, quoted="Talks went on."))
    declined = score(TIME_QUESTION, Reply(TIME_QUESTION.text, quoted=""))

    assert (right.correct, wrong.correct, declined.correct) == (True, False, False)
    assert declined.declined


def test_refuse_question_is_correct_only_when_declined() -> None:
    declined = score(REFUSE_QUESTION, Reply(REFUSE_QUESTION.text, quoted=""))
    answered = score(REFUSE_QUESTION, Reply(REFUSE_QUESTION.text, quoted="The hotel was nice."))

    assert declined.correct and not answered.correct


def test_time_reply_quoting_a_superseded_answer_is_stale() -> None:
    stale = score(TIME_QUESTION, Reply(TIME_QUESTION.text, quoted="Talks were held in Muscat."))
    fresh = score(TIME_QUESTION, Reply(TIME_QUESTION.text, quoted="Talks were held in Rome."))

    assert stale.stale and not fresh.stale


def test_quoted_text_joins_the_quotes_or_else_drops_citation_lines() -> None:
    sources = [{"quote": "First."}, {"quote": "Second."}]
    unquoted = [{"url": "https://example.org/a"}]
    answer = "“Medinsky leads.”\n— Talks, Reuters, 2025-05-15, https://example.org/a"

    assert quoted_text("ignored", sources) == "First. Second."
    assert quoted_text(answer, unquoted) == "“Medinsky leads.”"
    assert quoted_text("I couldn't find that.", []) == ""


def test_reply_from_json_reads_quote_citations_date_and_the_reported_time() -> None:
    line: dict[str, Any] = {
        "question": "Q?",
        "answer": "…",
        "as_of": "2025-05-24",
        "elapsed_ms": 12.5,
        "sources": [{"url": "u", "date": "2025-05-24", "quote": "Rome."}],
    }

    # The time is a field of the JSON line, read as given: nothing here is timed.
    expected = Reply(
        "Q?",
        quoted="Rome.",
        citations=[{"url": "u", "date": "2025-05-24"}],
        elapsed_ms=12.5,
        as_of="2025-05-24",
    )

    assert reply_from_json(line) == expected


def test_summary_counts_refusals_wrong_declines_and_latency() -> None:
    records = [
        score(TIME_QUESTION, Reply("q", quoted="Rome.", elapsed_ms=10.0)),
        score(TIME_QUESTION, Reply("q", quoted="", elapsed_ms=30.0)),
        score(REFUSE_QUESTION, Reply("q", quoted="", elapsed_ms=20.0)),
    ]

    figures = summarise(records)

    assert figures["accuracy"] == pytest.approx(2 / 3)
    assert figures["time"] == 0.5 and figures["fact"] is None
    assert (figures["refuse_declined"], figures["refuse_total"]) == (1, 1)
    assert (figures["wrongly_declined"], figures["answerable_total"]) == (1, 2)
    assert (figures["p50_ms"], figures["mean_quoted_chars"]) == (20.0, 5.0)


def test_baseline_quotes_the_sentence_that_matches_the_question() -> None:
    baseline = TopSentenceBaseline(
        [
            "Talks opened in Istanbul on Thursday. The weather was mild.",
            "Vladimir Medinsky leads the Russian delegation.",
        ]
    )

    quoted, _ = baseline.answer("Who leads the Russian delegation?")

    assert quoted == "Vladimir Medinsky leads the Russian delegation."
    assert baseline.answer("Bitcoin price?")[0] == ""


def test_archive_sentences_are_split_per_line_and_deduplicated() -> None:
    passages = ["One is here. Two is here.\nThree is here.", "Three is here.\nFour is here."]

    assert archive_sentences(passages) == [
        "One is here.",
        "Two is here.",
        "Three is here.",
        "Four is here.",
    ]


def test_limit_takes_the_first_questions_of_each_fold() -> None:
    questions = [replace(TIME_QUESTION, text=f"q{n}", fold="ab"[n % 2]) for n in range(6)]

    groups = by_fold(questions, limit=2)

    assert {fold: [q.text for q in group] for fold, group in groups.items()} == {
        "a": ["q0", "q2"],
        "b": ["q1", "q3"],
    }


@needs_data
def test_negotiation_questions_split_into_iran_and_china_folds() -> None:
    questions = negotiation_questions()

    sizes = Counter((question.fold, question.answerable) for question in questions)

    assert sizes == {("a", True): 30, ("a", False): 3, ("b", True): 29, ("b", False): 6}


@needs_data
def test_squad_paragraph_files_open_with_a_title_line(tmp_path: Path) -> None:
    paths = write_squad_paragraphs(tmp_path)

    first_line, blank, context = paths[0].read_text("utf-8").split("\n")[:3]
    assert len(paths) == 694
    assert first_line == "Beyoncé — paragraph 1"
    assert blank == "" and context.startswith("Beyoncé Giselle Knowles-Carter")


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the harness on the negotiations corpus and the seed questions."""
    output = tmp_path_factory.mktemp("eval") / "latest.json"
    assert main(["--only", "negotiations", "--only", "seed", "--out", str(output)]) == 0
    results: dict[str, Any] = json.loads(output.read_text("utf-8"))
    return results["datasets"]


def _reply(held_out: dict[str, Any], opening: str) -> dict[str, Any]:
    """The held-out record of the one negotiation question that opens with these words."""
    records = held_out["negotiations"]["records"]["parley"]
    [record] = [record for record in records if record["question"].startswith(opening)]
    return dict(record)


# Issue 9's targets are 70% of the negotiation questions, 0 stale replies, 6 of 9 refusals and
# 90% of the seed questions; the figures meet them all since session 20 (README "Quality").
# These bounds sit just under what `make eval` measured, so that any regression fails the suite.
@pytest.mark.model
@needs_data
def test_negotiation_questions_are_answered_well_above_the_baseline(
    held_out: dict[str, Any],
) -> None:
    figures = held_out["negotiations"]["summary"]["parley"]["all"]
    baseline = held_out["negotiations"]["summary"]["bm25"]["all"]

    # measured 0.74 (50 of 68, stale 0 since session 20's dates still ahead; 48 before
    # session 19's quoted words and measures, 47 before session 18's calendar dates, 46
    # before session 17's answer after a restatement, 44 before session 16's withheld
    # questions, 42 before session 15's token match, 37 before session 14)
    assert figures["accuracy"] >= 0.70
    assert figures["accuracy"] >= baseline["accuracy"] + 0.12
    assert figures["stale"] == 0 and figures["time"] >= 0.6
    # measured 6 of 9 (4 before session 16)
    assert figures["refuse_declined"] >= 4 and figures["refuse_total"] == 9
    assert figures["mean_quoted_chars"] <= 300


@pytest.mark.model
@needs_data
def test_the_length_asked_for_follows_the_sentence_that_restates_the_question(
    held_out: dict[str, Any],
) -> None:
    # Held out, the likeliest sentence says every word of the question and no length of time;
    # the next one, far less likely, gives it and joins the quote (the failure 1).
    record = _reply(held_out, "How long was the June phone call between Trump and Xi?")
    assert record["correct"]
    assert "his phone call with Chinese President Xi Jinping" in record["quoted"]
    assert "After the roughly 90-minute conversation" in record["quoted"]


@pytest.mark.model
@needs_data
def test_a_reply_to_when_quotes_the_report_that_names_the_date(
    held_out: dict[str, Any],
) -> None:
    # Held out, the likeliest sentence names no date ("It is the third meeting this year…",
    # of another negotiation); the report that says "May 3" joins with its own citation.
    # (Session 18's case, the TikTok deadline, now ranks its dated sentence first itself.)
    record = _reply(held_out, "After the third round, what date was floated")
    assert record["correct"]
    assert "tentatively set for May 3" in record["quoted"]
    assert "2025-04-26" in [citation["date"] for citation in record["citations"]]


@pytest.mark.model
@needs_data
def test_a_reply_to_how_someone_described_something_quotes_their_words(
    held_out: dict[str, Any],
) -> None:
    # Held out, the sentence restating the question ("The fourth round, held in Muscat…")
    # was quoted alone; the one with the spokesman's words in quotation marks now is.
    record = _reply(held_out, "How did Tehran's foreign ministry spokesman sum up")
    assert record["correct"]
    assert "Esmaeil Baghaei" in record["quoted"]
    assert '"difficult but useful"' in record["quoted"]


@pytest.mark.model
@needs_data
def test_asked_when_the_next_round_is_the_reply_is_that_no_time_is_set(
    held_out: dict[str, Any],
) -> None:
    # Held out, the likeliest sentence is the June 14 report of the round "set for June 15",
    # cancelled; later reports are in, so that date has passed. The June 27 report that no
    # time is set answers (the one stale reply before session 20).
    record = _reply(held_out, "When is the next Iran-US negotiating round scheduled?")
    assert record["correct"] and not record["stale"]
    assert "no time set" in record["quoted"] and "June 15" not in record["quoted"]


@pytest.mark.model
@needs_data
def test_seed_questions_are_answered(held_out: dict[str, Any]) -> None:
    figures = held_out["seed"]["summary"]["parley"]["all"]
    baseline = held_out["seed"]["summary"]["bm25"]["all"]
    # issue 9's target; measured 1.00 (38 of 38; two answers, p 0.087 and 0.088, sit between
    # two steps of the refusal grid, and were declined at the higher one in sessions 16 and 20)
    assert figures["accuracy"] >= 0.90
    assert figures["accuracy"] > baseline["accuracy"]


@needs_data
def test_off_archive_questions_are_a_folds_own_asked_of_the_other_folds_articles(
    tmp_path: Path,
) -> None:
    squad_paths = write_squad_paragraphs(tmp_path)
    corpora = {corpus.name: corpus for corpus in off_archive_corpora(DEFAULT_DATA, squad_paths)}

    china_questions = corpora["elsewhere-news-b"]
    iran_articles, china_articles = negotiation_articles_of("a"), negotiation_articles_of("b")
    assert china_questions.paths == iran_articles and corpora["elsewhere-news-a"].paths == (
        china_articles
    )
    assert (
        not set(iran_articles) & set(china_articles) and len(iran_articles + china_articles) == 46
    )
    assert len(china_questions.questions) == 35  # every China question, answerable or not
    assert all(q.fold == "b" and not q.answerable for q in china_questions.questions)
    assert all(not q.spans and not q.stale for q in china_questions.questions)
    squad_a = corpora["elsewhere-squad-a"]
    assert {path.name[:2] for path in squad_a.paths} == {"05", "06", "07", "08", "09"}
    assert squad_a.questions and all(q.fold == "a" and not q.answerable for q in squad_a.questions)


@needs_data
def test_withheld_questions_are_asked_of_their_own_subject_without_the_answer(
    tmp_path: Path,
) -> None:
    squad_paths = write_squad_paragraphs(tmp_path)
    corpora = {corpus.name: corpus for corpus in withheld_corpora(DEFAULT_DATA, squad_paths)}

    for fold in ("a", "b"):
        articles = negotiation_articles_of(fold)
        first, second = corpora[f"withheld-news-{fold}0"], corpora[f"withheld-news-{fold}1"]
        # The two halves of the fold's articles, each asked the other half's questions.
        assert sorted(first.paths + second.paths) == sorted(articles)
        assert not set(first.paths) & set(second.paths)
        for corpus in (first, second):
            kept = {path.name for path in corpus.paths}
            assert corpus.questions and corpus.answered_by_spans
            assert all(q.fold == fold and q.answerable and q.spans for q in corpus.questions)
            assert all(q.source and q.source not in kept for q in corpus.questions)
        answerable = [q for q in negotiation_questions() if q.fold == fold and q.answerable]
        assert len(first.questions) + len(second.questions) == len(answerable)
    squad = corpora["withheld-squad-b1"]
    kept = {path.name for path in squad.paths}
    assert {name[:2] for name in kept} == {"05", "06", "07", "08", "09"}
    assert squad.questions and not squad.answered_by_spans
    assert all(q.fold == "b" and not q.answerable and not q.spans for q in squad.questions)
    assert all(q.source and q.source[:2] in {"05", "06", "07", "08", "09"} for q in squad.questions)
    assert all(q.source not in kept for q in squad.questions)


@pytest.mark.model
def test_a_withheld_question_counts_as_answered_only_where_another_report_says_it(
    tmp_path: Path,
) -> None:
    report = tmp_path / "files" / "rosenbad.txt"
    report.parent.mkdir()
    report.write_text(
        "Stockholm talks end\n\nThe two delegations met at Rosenbad, the office of Sweden's "
        "prime minister, for five hours on Monday. Both sides called the talks candid.\n",
        encoding="utf-8",
    )
    asked = [
        Question("Where did the delegations meet in Stockholm?", ("Rosenbad",), "fact", fold="b"),
        Question("Which hotel did the delegations stay at?", ("Grand Hôtel",), "fact", fold="b"),
    ]
    withheld = gather(Corpus("withheld", asked, [report], answered_by_spans=True), tmp_path / "w")
    plain = gather(Corpus("plain", asked, [report]), tmp_path / "p")

    found, missing = withheld
    assert found.answerable and found.labels.any()
    assert not missing.answerable and not missing.labels.any()
    # Elsewhere a question stays as answerable as its dataset says, found or not.
    assert [sample.answerable for sample in plain] == [True, True]
