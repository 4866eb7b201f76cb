"""Choosing what to quote: one sentence when one candidate clearly wins, otherwise the best
two or three distinct pieces of evidence, each with its own citation and date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from knowledge.answer_types import (
    asked_terms,
    gives_asked,
    has_calendar_date,
    has_date,
    measure_match,
)
from knowledge.evidence import Candidate, newest_report
from knowledge.questions import AnswerType, Measure, QuestionFacts
from knowledge.ranking import RankingModel
from knowledge.timing import about_now, asks_ahead, gives_ahead

MAX_QUOTES = 3
# Quotes stop before the reply grows past this: readers want the answer, not the article.
MAX_QUOTED_CHARS = 420


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from."""

    title: str
    source: str
    date: str | None
    url: str
    passage: str
    score: float
    published_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        """The citation as `parley ask --json` prints it."""
        return {
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "url": self.url,
            "passage": self.passage,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Quote:
    """Sentences quoted verbatim from one article, with its citation."""

    text: str
    citation: Citation


def select_quotes(
    facts: QuestionFacts,
    candidates: Sequence[Candidate],
    probabilities: npt.NDArray[np.float64],
    model: RankingModel,
) -> list[Quote]:
    """The quotes for a reply, most likely first; none when the best is too unlikely."""
    chosen = choose(facts, candidates, probabilities, model)
    return [_quote(group, candidates, probabilities) for group in chosen]


def choose(
    facts: QuestionFacts,
    candidates: Sequence[Candidate],
    probabilities: npt.NDArray[np.float64],
    model: RankingModel,
) -> list[list[int]]:
    """Indices of the candidates to quote, grouped by quote: one article a quote, its
    sentences in reading order (adjacent sentences of one passage read on; others of the
    same article join only when no other article is as likely)."""
    if not candidates:
        return []
    order = [int(index) for index in np.argsort(-probabilities, kind="stable")]
    best = order[0]
    if probabilities[best] < model.min_probability:
        return []
    if about_now(facts):
        # The state of things now: the newest of the close candidates, alone (but for a date
        # a reader can place, below), so that a superseded report is never quoted beside it.
        floor = model.present_ratio * probabilities[best]
        recent = [i for i in order if i == best or probabilities[i] >= floor]
        ahead = _ahead(facts, candidates)
        current = _current(recent, order, facts, candidates, ahead)
        if not current:
            return []
        newest = max(current, key=lambda i: (_published(candidates[i]), probabilities[i]))
        groups = [[newest, *_answer_after(newest, facts, candidates)]]
        # An older report's date joins only when it was a likely answer itself: any date
        # could be one the newest report superseded (or, asked what is still ahead, passed).
        dated = recent if ahead is None else [i for i in recent if i in ahead]
        _add_calendar_date(groups, dated, facts, candidates)
    else:
        groups = [[best, *_answer_after(best, facts, candidates)]]
        _add_companions(groups, order, candidates, probabilities, model)
        _add_calendar_date(groups, order, facts, candidates)
    return [sorted(group, key=lambda i: _reading_order(candidates[i])) for group in groups]


def _measured(
    pool: Sequence[int], facts: QuestionFacts, candidates: Sequence[Candidate]
) -> list[int]:
    """The candidates that give what a measuring question measures, themselves or in the
    sentence after them ("how many points does the plan have now?": a count of points): a
    newer report that gives no count cannot say how many there are now."""
    if facts.measure is Measure.NONE:
        return []
    return [
        i
        for i in pool
        if measure_match(candidates[i].sentence, facts) or _answer_after(i, facts, candidates)
    ]


def _current(
    recent: Sequence[int],
    order: Sequence[int],
    facts: QuestionFacts,
    candidates: Sequence[Candidate],
    ahead: set[int] | None,
) -> list[int]:
    """The close candidates (`recent`) that can say how things stand now, the newest of which
    is quoted. Asked when something is still to happen (`ahead`, below), the answer is a date
    the newest report has not passed or a report that none is set: among the close
    candidates, else the likeliest of all; failing both, the close ones that give no date,
    and when every close one gives a passed date the archive does not say (none)."""
    measured = _measured(recent, facts, candidates)
    if measured or ahead is None:
        return measured or list(recent)
    close = [i for i in recent if i in ahead]
    likeliest = [i for i in order if i in ahead][:1]
    if close or likeliest:
        return close or likeliest
    terms = asked_terms(facts)
    return [i for i in recent if not has_date(candidates[i].sentence, terms)]


def _ahead(facts: QuestionFacts, candidates: Sequence[Candidate]) -> set[int] | None:
    """For a question about what is still to happen, the candidates that give a date the
    newest report has not passed, or say no date is set: the round "set for June 15" is not
    the next one once later reports are in. None for other questions and undated reports."""
    newest = newest_report(candidates)
    if newest is None or not asks_ahead(facts):
        return None
    return {
        i
        for i, candidate in enumerate(candidates)
        if (published_at := candidate.passage.record.published_at)
        and gives_ahead(candidate.sentence, published_at, newest)
    }


def _add_companions(
    groups: list[list[int]],
    order: Sequence[int],
    candidates: Sequence[Candidate],
    probabilities: npt.NDArray[np.float64],
    model: RankingModel,
) -> None:
    """The candidates close to the best join the reply, within its length and quote caps."""
    floor = model.companion_ratio * probabilities[order[0]]
    close = [i for i in order if probabilities[i] >= floor]
    used = _length(groups, candidates)
    held_back: list[int] = []
    for index in close[1:]:
        if len(groups) == MAX_QUOTES:
            break
        if index in groups[0]:
            continue
        length = len(candidates[index].sentence)
        if used + length > MAX_QUOTED_CHARS:
            continue
        if _place(index, groups, candidates):
            used += length
        else:
            held_back.append(index)
    # Other articles first; then, while there is room, the close sentences of an article
    # already quoted join its quote.
    pieces = len(groups)
    for index in held_back:
        length = len(candidates[index].sentence)
        group = _article_group(index, groups, candidates)  # held back: its article is quoted
        if group is None or pieces == MAX_QUOTES or used + length > MAX_QUOTED_CHARS:
            continue
        group.append(index)
        used += length
        pieces += 1


def _add_calendar_date(
    groups: list[list[int]],
    pool: Sequence[int],
    facts: QuestionFacts,
    candidates: Sequence[Candidate],
) -> None:
    """A reply to "when" that names no date a reader can place ("on Wednesday", "next
    week") takes the likeliest candidate of `pool` that does, in place of its least likely other
    quotes when the caps need room: relative words never become dates in replies, so the
    article that says "September 17" must say it."""
    if facts.answer_type is not AnswerType.DATE:
        return
    terms = asked_terms(facts)
    if any(has_calendar_date(candidates[i].sentence, terms) for group in groups for i in group):
        return
    dated = next((i for i in pool if has_calendar_date(candidates[i].sentence, terms)), None)
    if dated is None:
        return
    length = len(candidates[dated].sentence)
    while len(groups) > 1 and (
        len(groups) == MAX_QUOTES or _length(groups, candidates) + length > MAX_QUOTED_CHARS
    ):
        groups.pop()
    group = _article_group(dated, groups, candidates)
    if group is None:
        groups.append([dated])
    else:
        group.append(dated)


def _length(groups: list[list[int]], candidates: Sequence[Candidate]) -> int:
    return sum(len(candidates[i].sentence) for group in groups for i in group)


def _answer_after(best: int, facts: QuestionFacts, candidates: Sequence[Candidate]) -> list[int]:
    """The candidate right after the best, when the best lacks the kind of answer asked for
    and it gives it: the answer often follows the sentence that restates the question ("his
    phone call with Xi ended…" / "After the roughly 90-minute conversation…"), and the ranking,
    weighing the question's words, prefers the restatement."""
    if gives_asked(candidates[best].sentence, facts) is not False:
        return []
    return [
        index
        for index, candidate in enumerate(candidates)
        if _adjacent(candidates[best], candidate) and gives_asked(candidate.sentence, facts)
    ]


def _article_group(
    index: int, groups: list[list[int]], candidates: Sequence[Candidate]
) -> list[int] | None:
    """The quote of the candidate's article, if the reply quotes it already."""
    article = candidates[index].passage.record.article_id
    return next((g for g in groups if candidates[g[0]].passage.record.article_id == article), None)


def _reading_order(candidate: Candidate) -> tuple[int, int]:
    return candidate.passage.record.position, candidate.index


def _place(index: int, groups: list[list[int]], candidates: Sequence[Candidate]) -> bool:
    """Add the candidate beside an adjacent sentence it continues, or as a quote of its own
    when its article is not quoted yet."""
    candidate = candidates[index]
    for group in groups:
        first = candidates[group[0]]
        if first.passage.record.passage_id == candidate.passage.record.passage_id and any(
            _adjacent(candidates[i], candidate) or _adjacent(candidate, candidates[i])
            for i in group
        ):
            group.append(index)
            return True
    if _article_group(index, groups, candidates) is not None:
        return False
    groups.append([index])
    return True


def _published(candidate: Candidate) -> datetime:
    return candidate.passage.record.published_at or datetime.min


def _quote(
    group: list[int], candidates: Sequence[Candidate], probabilities: npt.NDArray[np.float64]
) -> Quote:
    record = candidates[group[0]].passage.record
    citation = Citation(
        title=record.title,
        source=record.source,
        date=record.published_at.date().isoformat() if record.published_at else None,
        url=record.url,
        passage=record.text,
        score=float(max(probabilities[i] for i in group)),
        published_at=record.published_at,
    )
    return Quote(_joined([candidates[i] for i in group]), citation)


def _joined(sentences: Sequence[Candidate]) -> str:
    """The sentences in reading order, an ellipsis where the article says more between."""
    text = sentences[0].sentence
    for before, after in pairwise(sentences):
        text += (" " if _adjacent(before, after) else " … ") + after.sentence
    return text


def _adjacent(before: Candidate, after: Candidate) -> bool:
    """Whether `after` is the sentence right after `before` in the same passage."""
    same = before.passage.record.passage_id == after.passage.record.passage_id
    return same and after.index == before.index + 1


def _newest(quotes: Sequence[Quote]) -> datetime | None:
    dates = [quote.citation.published_at for quote in quotes if quote.citation.published_at]
    return max(dates) if dates else None


def as_of_label(quotes: Sequence[Quote]) -> str | None:
    """ "19 March 2026": the newest date among the quoted articles, as people write it."""
    newest = _newest(quotes)
    return f"{newest.day} {newest:%B %Y}" if newest else None


def newest_date(quotes: Sequence[Quote]) -> str | None:
    """ "2026-03-19": the newest date among the quoted articles."""
    newest = _newest(quotes)
    return newest.date().isoformat() if newest else None
