"""The replies to /whatsnew and /timeline: one line per story, with a quoted sentence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.rendering import Block, Line, bold, code, italic, plain, split_messages
from bot.replies import source_links, titled_link
from knowledge.news import NewStory, WhatsNew
from knowledge.stories import Story


def whats_new(news: WhatsNew) -> list[str]:
    """The new stories, newest first: date, quoted sentence, the outlets as links."""
    since = _day(news.since.moment)
    if not news.stories:
        return split_messages(
            [
                plain(f"Nothing new since {since}."),
                [plain("Try a longer span, for example "), code("/whatsnew 30d"), plain(".")],
            ]
        )
    count = len(news.stories)
    lines: list[Line | Block] = [
        bold(f"What's new since {since}: {count} stor{'y' if count == 1 else 'ies'}")
    ]
    for entry in news.stories:
        lines += [plain(""), *_entry(entry, when=entry.story.newest)]
    return split_messages(lines)


def timeline(topic: str, events: Sequence[NewStory]) -> list[str]:
    """The topic's events, oldest first, each with its date, quoted sentence and link."""
    if not events:
        return split_messages([plain(f"The archive has nothing on “{topic}” yet.")])
    count = len(events)
    lines: list[Line | Block] = [
        bold(f"Timeline: {topic} ({count} event{'' if count == 1 else 's'}, oldest first)")
    ]
    for event in events:
        lines += [plain(""), *_entry(event, when=event.date)]
    return split_messages(lines)


def timeline_hint() -> list[str]:
    """How to ask for a timeline."""
    return split_messages(
        [plain("Name a topic, for example: "), code("/timeline prisoner exchange")]
    )


def _entry(entry: NewStory, *, when: datetime) -> list[Line | Block]:
    return [
        [bold(_day(when)), plain(f" — “{entry.sentence}”")],
        [plain("— "), *_sources(entry)],
    ]


def _sources(entry: NewStory) -> Line:
    """The quoted article linked by its title, then the other outlets of the story."""
    quoted: list[Block] = [titled_link(entry.article.source, entry.article.url)]
    others = tuple(a for a in entry.story.articles if a.source != entry.article.source)
    if not others:
        return [*quoted, italic(f" ({entry.article.title})")]
    return [*source_links(Story((entry.article, *others)))]


def _day(moment: datetime) -> str:
    return moment.date().isoformat()
