"""What is still ahead. A question that asks when something will happen ("When is the next
round scheduled?") is answered by a date the newest report has not yet passed, or by a
report that no date is set; a date that has passed, however likely its sentence, is the
answer of an older report ("set for June 15" in June, cancelled since).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from knowledge.answer_types import DAY_OF_MONTH, MONTH_ABBREVIATIONS, YEAR, tokens
from knowledge.questions import MONTH_NUMBERS, AnswerType, QuestionFacts
from knowledge.terms import words

# Months as reports write them: "June", "Jun", "Sept."
MONTH_WORDS = {
    **MONTH_NUMBERS,
    **{name[:3]: number for name, number in MONTH_NUMBERS.items()},
    "sept": 9,
}
# Words that make a question ask about what is to come, unless it speaks of the past.
FUTURE_QUESTION = frozenset("will scheduled due expected planned upcoming resume".split())
PAST_QUESTION = frozenset("was were did had".split())
# "No date has been set", "no time set", "yet to be scheduled", "the date … has not yet been
# announced": the answer to "when" while nothing is agreed. Not "the terms are yet to be
# agreed": unless it is scheduling, what is not yet set must be a date or a time.
NO_DATE_SET = re.compile(
    r"\bno (?:new |fresh |firm |fixed |specific )?(?:date|time|timetable|timeline|schedule)s?"
    r"(?: (?:has|have|had) been| was| were| is)? (?:set|fixed|agreed|announced|given|scheduled)\b"
    r"|\bno (?:new |firm |fixed |specific )?(?:date|timetable|timeline)s?\b"
    r"|\b(?:not yet|yet to)(?: been| be)? scheduled\b"
    r"|\b(?:date|time|timing)\b[^.;]*?\b(?:not|yet to)(?: yet)?(?: been| be)? "
    r"(?:set|fixed|agreed|announced|decided|scheduled)\b",
    re.IGNORECASE,
)
# Words that put a weekday or "next week" ahead of the report that says it: "will meet on
# Sunday", not "said on Monday". Not "would": reported speech says it of the past too.
FUTURE_SENTENCE = frozenset("will next planned scheduled due expected upcoming".split())
# How far ahead of its report a relative date can fall ("on Sunday", "next month").
RELATIVE_REACH = {
    **dict.fromkeys(
        "monday tuesday wednesday thursday friday saturday sunday tomorrow week weekend".split(),
        timedelta(days=7),
    ),
    "month": timedelta(days=31),
    "year": timedelta(days=366),
}
# A day and month without a year fall in the year that puts them nearest the report, allowing
# for reports that look back further than ahead.
LOOKS_BACK = timedelta(days=270)
LOOKS_AHEAD = timedelta(days=95)


def asks_ahead(facts: QuestionFacts) -> bool:
    """Whether the question asks when something is still to happen: "When is the next round
    scheduled?", "When will talks resume?"; not "After the third round, what date was
    floated?", which an ordinal, month or year ties to a past event."""
    if facts.answer_type is not AnswerType.DATE or facts.anchors:
        return False
    said = set(words(facts.text))
    if said & PAST_QUESTION:
        return False
    return facts.about_present or bool(said & FUTURE_QUESTION)


def about_now(facts: QuestionFacts) -> bool:
    """Whether the reply must say how things stand as of the newest report: a question about
    the present, or one asking when something is still to happen ("When will talks
    resume?")."""
    return facts.about_present or asks_ahead(facts)


def says_no_date(sentence: str) -> bool:
    """Whether the sentence says no date is set."""
    return bool(NO_DATE_SET.search(sentence))


def gives_ahead(sentence: str, published_at: datetime, newest: datetime) -> bool:
    """Whether the sentence says no date is set, or gives a date that the newest report
    (`newest`) has not passed: the sentence's article is from `published_at`."""
    if says_no_date(sentence):
        return True
    report, latest = _naive(published_at), _naive(newest)
    return any(date >= latest for date in dates_in(sentence, report))


def dates_in(sentence: str, published_at: datetime) -> list[datetime]:
    """The latest moment each date in the sentence may mean: the day of a calendar date, the
    end of a month or year, and for a weekday or "next week" in a sentence about what is to
    come, the reach of such words past the report."""
    lowered = [token.lower() for token in tokens(sentence)]
    found = [_calendar(lowered, i, published_at) for i in range(len(lowered))]
    dates = [date for date in found if date is not None]
    if FUTURE_SENTENCE.intersection(lowered):
        dates += [published_at + RELATIVE_REACH[w] for w in lowered if w in RELATIVE_REACH]
    return dates


def _calendar(lowered: list[str], position: int, published_at: datetime) -> datetime | None:
    """The date a calendar word at `position` names: "June 15", "15 June", "June 15, 2025",
    "June" (its last day), "2026" (its last day). "May" alone is the verb."""
    word = lowered[position]
    if YEAR.fullmatch(word) and word.isdigit():
        # The year of "June 15, 2025" is read with its month.
        said_with = lowered[max(0, position - 2) : position]
        if any(other.rstrip(".") in MONTH_WORDS for other in said_with):
            return None
        return datetime(int(word), 12, 31)
    month = MONTH_WORDS.get(word.rstrip("."))
    if month is None:
        return None
    after = lowered[position + 1 : position + 3]
    before = lowered[max(0, position - 1) : position]
    days = [int(found.group()) for w in after[:1] + before if (found := _day(w))]
    years = [int(w) for w in after if YEAR.fullmatch(w) and w.isdigit()]
    if not days and (word == "may" or word.rstrip(".") in MONTH_ABBREVIATIONS):
        return None
    year = years[0] if years else published_at.year
    try:
        date = datetime(year, month, days[0] if days else _last_day(year, month))
    except ValueError:
        return None
    return date if years else _nearest_year(date, published_at)


def _day(word: str) -> re.Match[str] | None:
    return re.match(r"\d+", word) if DAY_OF_MONTH.fullmatch(word) else None


def _nearest_year(date: datetime, published_at: datetime) -> datetime:
    if date < published_at - LOOKS_BACK:
        return _replace_year(date, date.year + 1)
    if date > published_at + LOOKS_AHEAD:
        return _replace_year(date, date.year - 1)
    return date


def _replace_year(date: datetime, year: int) -> datetime:
    try:
        return date.replace(year=year)
    except ValueError:  # 29 February
        return date.replace(year=year, day=28)


def _last_day(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _naive(moment: datetime) -> datetime:
    """Dates in sentences carry no time zone: compared by the day the report gives."""
    return moment.replace(tzinfo=None)
