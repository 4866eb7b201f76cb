"""What is still ahead: a question about when something will happen is answered by a date
the newest report has not passed, or by a report that no date is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.questions import analyse
from knowledge.timing import about_now, asks_ahead, dates_in, gives_ahead, says_no_date

JUNE_14 = datetime(2025, 6, 14, 9, 30, tzinfo=UTC)
JUNE_27 = datetime(2025, 6, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "ahead"),
    [
        ("When is the next Iran-US negotiating round scheduled?", True),
        ("When will the talks resume?", True),
        ("What date is the upcoming summit?", True),
        # An ordinal ties the question to a past event; "was" asks about the past.
        ("After the third round, what date was floated for the next meeting?", False),
        ("When was the next round scheduled?", False),
        ("When did the talks begin?", False),
        # "Next" but not "when": a place is not a date.
        ("Where is the next round?", False),
    ],
)
def test_a_question_asks_ahead_when_it_wants_the_date_of_what_is_still_to_happen(
    question: str, ahead: bool
) -> None:
    assert asks_ahead(analyse(question)) is ahead


def test_a_reply_says_how_current_it_is_for_the_present_and_for_what_is_still_ahead() -> None:
    assert about_now(analyse("When will the talks resume?"))
    assert about_now(analyse("Who leads the delegation now?"))
    assert not about_now(analyse("When did the talks resume?"))


@pytest.mark.parametrize(
    ("sentence", "says"),
    [
        ("He said there had been no agreement to resume talks, no time set and no promise.", True),
        ("No date has been set for the next round.", True),
        ("A new round is yet to be scheduled.", True),
        ("The date of the meeting has not yet been announced, officials said.", True),
        ("The next round has not yet been scheduled.", True),
        # Not yet agreed, but not a date.
        ("The terms of a ceasefire are yet to be agreed.", False),
        ("Araghchi: no date, no promise for new talks", True),
        ("The talks were set for June 15 in Muscat.", False),
        ("There was no time to lose, he said.", False),
    ],
)
def test_a_report_that_no_date_is_set_is_read_as_such(sentence: str, says: bool) -> None:
    assert says_no_date(sentence) is says


def test_a_date_the_newest_report_has_passed_is_not_ahead() -> None:
    cancelled = "The next round, which had been set for June 15 in Muscat, has been cancelled."
    # Ahead when it was written; passed once a report from June 27 is in.
    assert gives_ahead(cancelled, JUNE_14, JUNE_14)
    assert not gives_ahead(cancelled, JUNE_14, JUNE_27)
    assert gives_ahead("No time has been set for new talks.", JUNE_14, JUNE_27)


def test_a_day_and_month_fall_in_the_year_nearest_their_report() -> None:
    december = datetime(2025, 12, 21)
    # A look back to June is this year's June; a look ahead to January is next year's.
    assert dates_in("A planned sixth round on June 15 was called off.", december) == [
        datetime(2025, 6, 15)
    ]
    assert dates_in("Talks will resume on 10 January.", december) == [datetime(2026, 1, 10)]
    assert dates_in("The truce runs to November 10, 2026.", december) == [datetime(2026, 11, 10)]
    # A month alone stands for its last day; "may" without a day is the verb.
    assert dates_in("The envoys may meet in July.", december) == [datetime(2025, 7, 31)]


def test_a_weekday_is_ahead_of_its_report_only_in_a_sentence_about_what_is_to_come() -> None:
    assert gives_ahead("The delegations will meet again on Sunday.", JUNE_14, datetime(2025, 6, 18))
    assert not gives_ahead("The spokesman said on Monday that talks had ended.", JUNE_14, JUNE_14)
    # Reported speech says "would" of the past as well: no weekday is placed by it.
    assert not gives_ahead("He said on Wednesday that Beijing would act.", JUNE_14, JUNE_14)
    # A week on, "Sunday" has passed.
    assert not gives_ahead("The delegations will meet again on Sunday.", JUNE_14, JUNE_27)


CALENDAR_WORDS = st.sampled_from(
    "June Jun. Sept. May may 15 31 29 30th 2025 2026 1990s Monday week will next said on "
    "February Feb , set for no date".split()
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(CALENDAR_WORDS | st.text(max_size=8), max_size=12),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=0, max_value=800),
)
def test_a_date_not_passed_by_a_later_report_is_not_passed_by_an_earlier_one(
    words: list[str], published: datetime, later: int
) -> None:
    # Any mix of words, impossible days ("February 30", "June 31") among them, reads without
    # error; what is still ahead of a report stays ahead of any earlier one, and a report that
    # no date is set answers whatever the dates.
    sentence = " ".join(words)
    newest = published + timedelta(days=later)
    if gives_ahead(sentence, published, newest):
        assert gives_ahead(sentence, published, published + timedelta(days=later // 2))
    assert gives_ahead(sentence + ". No date has been set.", published, newest)
