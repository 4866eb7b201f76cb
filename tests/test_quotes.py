"""Choosing what to quote, and the fitted weights it depends on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.answering import Answer
from knowledge.evidence import FEATURES, Candidate
from knowledge.questions import analyse
from knowledge.quotes import select_quotes
from knowledge.ranking import (
    DEFAULT_WEIGHTS,
    RankingModel,
    RankingModelError,
    load_ranking_model,
    untrained_model,
)
from knowledge.timing import about_now
from parley.cli import main
from parley.settings import Settings
from tests.support.candidates import candidate


def model(*, threshold: float = 0.2, ratio: float = 0.7, present: float = 0.6) -> RankingModel:
    base = untrained_model()
    return RankingModel(
        features=FEATURES,
        means=base.means,
        scales=base.scales,
        coefficients=base.coefficients,
        intercept=base.intercept,
        min_probability=threshold,
        companion_ratio=ratio,
        present_ratio=present,
    )


def answer(question: str, candidates: list[Candidate], probabilities: list[float]) -> Answer:
    facts = analyse(question)
    quotes = select_quotes(facts, candidates, np.array(probabilities), model())
    return Answer(question, quotes=quotes, about_present=about_now(facts))


def test_one_quote_when_one_candidate_clearly_wins() -> None:
    reply = answer(
        "Who led the talks?",
        [candidate("Smith led the talks.", article=1), candidate("Talks were long.", article=2)],
        [0.9, 0.2],
    )
    assert [quote.text for quote in reply.quotes] == ["Smith led the talks."]
    assert reply.sources[0].url == "https://news.example/1"


def test_close_candidates_give_two_or_three_quotes_from_different_articles() -> None:
    candidates = [
        candidate("In June the sides agreed to resume rare earth exports.", article=1),
        candidate("In June they agreed a framework on tariffs.", article=2),
        candidate("The June deal also covered student visas.", article=3),
        candidate("Another June sentence from the first article.", article=1, index=5),
        candidate("Unrelated weather report.", article=4),
    ]
    reply = answer("What did the sides agree in June?", candidates, [0.8, 0.75, 0.7, 0.72, 0.1])
    assert len(reply.quotes) == 3
    assert len({quote.citation.url for quote in reply.quotes}) == 3
    assert reply.quotes[0].text.startswith("In June the sides agreed")
    assert "Unrelated" not in reply.text


def test_adjacent_sentences_of_one_passage_make_one_quote_in_reading_order() -> None:
    candidates = [
        candidate("He was asked who would lead.", article=1, index=3, passage=7),
        candidate("The answer came at once.", article=1, index=2, passage=7),
    ]
    reply = answer("Who would lead?", candidates, [0.8, 0.7])
    assert [quote.text for quote in reply.quotes] == [
        "The answer came at once. He was asked who would lead."
    ]


def test_a_close_sentence_of_an_article_already_quoted_joins_its_quote() -> None:
    # No other article comes close: the article's other likely sentence is shown too, after
    # an ellipsis, under the one citation.
    candidates = [
        candidate("Bessent said the talks had made substantial progress.", article=1, index=4),
        candidate("The talks in Geneva opened on Saturday.", article=1, index=0),
        candidate("Unrelated weather report.", article=2),
    ]
    reply = answer("How did the Geneva talks go?", candidates, [0.8, 0.7, 0.1])
    assert [quote.text for quote in reply.quotes] == [
        "The talks in Geneva opened on Saturday. … "
        "Bessent said the talks had made substantial progress."
    ]
    assert [source.url for source in reply.sources] == ["https://news.example/1"]


def test_the_sentence_after_a_restatement_joins_it_when_only_it_gives_what_is_asked() -> None:
    # The likeliest says the question's words but no length of time; the next sentence of
    # the passage, far less likely by its words, gives one: both are quoted, in order.
    candidates = [
        candidate(
            "Trump said his phone call with Xi had ended with a very positive outcome.",
            article=1,
            index=0,
        ),
        candidate("After the roughly 90-minute conversation, Trump spoke.", article=1, index=1),
        candidate("Xi and Trump last spoke by phone in February.", article=2),
    ]
    reply = answer(
        "How long was the phone call between Trump and Xi?", candidates, [0.8, 0.05, 0.2]
    )
    assert [quote.text for quote in reply.quotes] == [
        "Trump said his phone call with Xi had ended with a very positive outcome. "
        "After the roughly 90-minute conversation, Trump spoke."
    ]


@pytest.mark.parametrize(
    ("question", "first", "after"),
    [
        # The likeliest gives the length itself: the next sentence is not needed.
        (
            "How long was the phone call?",
            "The phone call lasted 90 minutes.",
            "It ended after two hours of talks.",
        ),
        # The question asks for no particular kind of answer.
        (
            "What did Trump say about the call?",
            "Trump said the call was very positive.",
            "After the 90-minute conversation he left.",
        ),
        # The next sentence does not give what is asked either.
        (
            "How long was the phone call?",
            "Trump said the phone call was very positive.",
            "He thanked Xi warmly.",
        ),
    ],
)
def test_the_sentence_after_stays_out_unless_it_alone_gives_what_is_asked(
    question: str, first: str, after: str
) -> None:
    candidates = [candidate(first, article=1, index=0), candidate(after, article=1, index=1)]
    reply = answer(question, candidates, [0.8, 0.05])
    assert [quote.text for quote in reply.quotes] == [first]


def test_a_when_reply_naming_no_calendar_date_takes_the_likeliest_sentence_that_does() -> None:
    # "a Wednesday deadline" cannot be placed by a reader; the less likely report that says
    # "September 17" joins the reply, as a quote of its own with its own citation.
    candidates = [
        candidate("The sale faced a Wednesday deadline.", article=1),
        candidate("Talks in Madrid ran until Wednesday.", article=2),
        candidate("The latest extension for a sale runs out on September 17.", article=3),
        candidate("The deal was first mooted in 2024.", article=4),
    ]
    reply = answer("When did the extension for a sale run out?", candidates, [0.9, 0.3, 0.1, 0.05])
    assert [quote.text for quote in reply.quotes] == [
        "The sale faced a Wednesday deadline.",
        "The latest extension for a sale runs out on September 17.",
    ]
    assert [source.url for source in reply.sources] == [
        "https://news.example/1",
        "https://news.example/3",
    ]


def test_the_calendar_date_takes_the_place_of_the_least_likely_quote_when_the_reply_is_full() -> (
    None
):
    candidates = [
        candidate("The round was due to open on Saturday.", article=1),
        candidate("Delegates said the round would open on Saturday.", article=2),
        candidate("Officials expected the round to open at the weekend.", article=3),
        candidate("Oman said the round would open on 3 May.", article=4),
    ]
    reply = answer("When was the round due to open?", candidates, [0.9, 0.85, 0.8, 0.02])
    assert [quote.text for quote in reply.quotes] == [
        "The round was due to open on Saturday.",
        "Delegates said the round would open on Saturday.",
        "Oman said the round would open on 3 May.",
    ]


@pytest.mark.parametrize(("older", "joins"), [(0.9, True), (0.1, False)])
def test_for_the_present_an_older_date_joins_only_when_it_was_a_likely_answer(
    older: float, joins: bool
) -> None:
    # The newest report says "last week"; an older one's date may be the one it superseded,
    # so it joins only when it was among the likely answers (the present ratio's share).
    candidates = [
        candidate("Talks were held on June 15.", article=1, date="2025-06-20"),
        candidate("Talks were held again last week.", article=2, date="2025-06-27"),
    ]
    reply = answer("When were talks most recently held?", candidates, [older, 0.6])
    quoted = [quote.text for quote in reply.quotes]
    assert quoted[0] == "Talks were held again last week."
    assert ("Talks were held on June 15." in quoted) is joins
    assert reply.as_of == "27 June 2025"


@pytest.mark.parametrize("unset", [0.6, 0.05])
def test_asked_when_the_next_round_is_a_date_passed_since_is_not_the_answer(unset: float) -> None:
    candidates = [
        candidate(
            "The next round, which had been set for June 15 in Muscat, has been cancelled.",
            article=1,
            date="2025-06-14",
        ),
        candidate("He said no time had been set for new talks.", article=2, date="2025-06-27"),
        candidate(
            "The spokesman said on Monday the channel was open.", article=3, date="2025-12-29"
        ),
    ]
    reply = answer("When is the next round scheduled?", candidates, [0.9, unset, 0.7])
    # The likeliest gives a date that has passed, the newest gives none: the report that no
    # time is set answers, close to the likeliest or not, and "June 15" does not join.
    assert [quote.text for quote in reply.quotes] == ["He said no time had been set for new talks."]
    assert reply.as_of == "27 June 2025"


def test_asked_when_talks_will_resume_no_passed_date_joins_and_the_reply_says_when() -> None:
    candidates = [
        candidate("He said no time had been set for new talks.", article=2, date="2025-06-27"),
        candidate("Talks had been set for June 15 in Muscat.", article=1, date="2025-06-14"),
    ]
    # Close enough to join as a second quote to any other question; here its date has passed.
    reply = answer("When will the talks resume?", candidates, [0.9, 0.85])
    assert [quote.text for quote in reply.quotes] == ["He said no time had been set for new talks."]
    assert reply.as_of == "27 June 2025"


def test_asked_when_the_next_round_is_only_passed_dates_are_declined() -> None:
    candidates = [
        candidate("Talks were set for June 15 in Muscat.", article=1, date="2025-06-14"),
        candidate(
            "The round planned for Sunday will not take place.", article=2, date="2025-06-14"
        ),
        candidate("Israel struck Iran on June 13.", article=3, date="2025-06-27"),
    ]
    reply = answer("When is the next round scheduled?", candidates, [0.9, 0.8, 0.7])
    assert not reply.covered


def test_asked_when_the_next_round_is_a_date_still_ahead_is_the_answer() -> None:
    candidates = [
        candidate("Talks were set for June 15.", article=1, date="2025-06-10"),
        candidate("The next round will be held on 20 December.", article=2, date="2025-12-01"),
        candidate("Talks on the plan went on in Miami on Sunday.", article=3, date="2025-12-07"),
    ]
    reply = answer("When is the next round?", candidates, [0.9, 0.6, 0.8])
    # The newest report gives no date; the older one's December date is still ahead of it.
    assert [quote.text for quote in reply.quotes] == ["The next round will be held on 20 December."]


@pytest.mark.parametrize(
    ("question", "first"),
    [
        # The likeliest already gives a date a reader can place.
        ("When did the extension run out?", "The extension ran out on Sept. 17."),
        ("In what year was the deal signed?", "The deal was signed in 2019."),
        # The question asks for no date.
        ("Who faced a deadline?", "Bessent faced a Wednesday deadline."),
    ],
)
def test_no_calendar_date_is_added_unless_a_when_reply_lacks_one(question: str, first: str) -> None:
    candidates = [
        candidate(first, article=1),
        candidate("A later report dated it to 1 October 2025.", article=2),
    ]
    reply = answer(question, candidates, [0.9, 0.05])
    assert [quote.text for quote in reply.quotes] == [first]


def test_unlikely_candidates_are_declined() -> None:
    reply = answer("Which hotel did they stay at?", [candidate("A hotel.", article=1)], [0.1])
    assert not reply.covered
    assert reply.sources == []
    assert "couldn't find" in reply.text


def test_questions_about_the_present_quote_the_newest_close_report_and_say_when() -> None:
    candidates = [
        candidate("The tariff stands at 30 percent.", article=1, date="2025-05-12"),
        candidate("The tariff now stands at 47 percent.", article=2, date="2025-11-02"),
        candidate("A much older remark on tariffs.", article=3, date="2025-12-01"),
    ]
    reply = answer("What is the tariff now?", candidates, [0.9, 0.7, 0.2])
    assert [quote.text for quote in reply.quotes] == ["The tariff now stands at 47 percent."]
    assert reply.as_of == "2 November 2025"
    assert reply.as_json()["as_of"] == "2025-11-02"
    assert reply.text.startswith("As of 2 November 2025:")


def test_the_newest_report_brings_the_sentence_after_it_when_only_that_one_answers() -> None:
    candidates = [
        candidate("The tariff truce was extended by 90 days.", article=1, date="2025-08-12"),
        candidate(
            "The truce between the two economies was extended again.",
            article=2,
            index=0,
            date="2025-11-02",
        ),
        candidate("It now runs for roughly a year.", article=2, index=1, date="2025-11-02"),
    ]
    reply = answer("How long is the truce now extended for?", candidates, [0.9, 0.8, 0.05])
    assert [quote.text for quote in reply.quotes] == [
        "The truce between the two economies was extended again. It now runs for roughly a year."
    ]
    assert reply.as_of == "2 November 2025"


def test_for_the_present_a_measured_answer_comes_from_the_newest_report_that_gives_it() -> None:
    candidates = [
        candidate("The plan was cut from 28 points to 20 points.", article=1, date="2025-11-23"),
        candidate("The revised 19-point framework went to Moscow.", article=2, date="2025-12-01"),
        candidate("Talks on the plan resumed in Miami on Sunday.", article=3, date="2025-12-07"),
    ]
    reply = answer("How many points does the peace plan have now?", candidates, [0.9, 0.8, 0.85])
    # The newest report says no count; the newest that does answers "how many now".
    assert [quote.text for quote in reply.quotes] == [
        "The revised 19-point framework went to Moscow."
    ]
    assert reply.as_of == "1 December 2025"


def test_the_shipped_weights_load_and_match_the_features() -> None:
    shipped = load_ranking_model()
    assert DEFAULT_WEIGHTS.exists()
    assert shipped.features == FEATURES
    assert 0 < shipped.min_probability < 1


def test_weights_for_other_features_are_refused_with_the_fix(tmp_path: Path) -> None:
    stale = json.loads(DEFAULT_WEIGHTS.read_text())
    stale["features"] = stale["features"][:-1]
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(stale))
    with pytest.raises(RankingModelError, match="make train"):
        load_ranking_model(path)
    path.write_text("{not json")
    with pytest.raises(RankingModelError, match="not JSON"):
        load_ranking_model(path)
    with pytest.raises(RankingModelError, match="cannot read"):
        load_ranking_model(tmp_path / "missing.json")


@pytest.mark.model
def test_parley_ask_names_a_weights_file_it_cannot_use(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ANSWER_WEIGHTS", str(tmp_path / "missing.json"))
    assert main(["ask", "Who leads the Russian delegation?"]) == 1
    error = capsys.readouterr().err
    assert "cannot read the answer weights" in error and "missing.json" in error
