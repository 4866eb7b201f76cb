"""Replies about what a chat follows and at what pace: topics, /digest, their buttons."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rendering import Block, Line, bold, code, plain, split_messages
from storage.paces import DAILY, Pace
from storage.topics import MAX_TOPICS_PER_CHAT

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PACE_EXAMPLES = ("/digest now", "/digest daily 08:00 Europe/Kyiv", "/digest weekly mon 08:00 UTC")


def _messages(*lines: Line | Block) -> list[str]:
    return split_messages(lines)


def topic_followed(topic: str, *, added: bool) -> list[str]:
    """Confirm /subscribe <topic>."""
    if not added:
        return _messages(plain(f"This chat already follows “{topic}”; nothing changed."))
    return _messages(
        plain(
            f"Following “{topic}”: this chat's digests now carry only articles about "
            "its topics. /topics lists them; /unsubscribe stops everything."
        ),
    )


def too_many_topics() -> list[str]:
    """Refuse a topic past the limit."""
    return _messages(
        plain(f"This chat follows {MAX_TOPICS_PER_CHAT} topics, as many as a chat may."),
        plain("Drop one with /topics first."),
    )


def subscribed_with_topics(topics: Sequence[str]) -> list[str]:
    """/subscribe alone in a chat that follows topics: say what it gets."""
    return _messages(
        plain(
            "This chat is subscribed and follows these topics, so its digests carry only "
            "articles about them:"
        ),
        *[plain(f"• {topic}") for topic in topics],
        plain("To get every article instead, drop them with /topics."),
    )


def topic_list(topics: Sequence[str]) -> list[str]:
    """The text above /topics' buttons."""
    if not topics:
        return _messages(
            plain("This chat follows no topics: its digests, if subscribed, carry every article."),
            [plain("Follow one with "), code("/subscribe prisoner exchange"), plain(".")],
        )
    return _messages(
        bold("Topics this chat follows"),
        *[plain(f"• {topic}") for topic in topics],
        plain("Tap a topic below to stop following it."),
    )


def pace_label(pace: Pace) -> str:
    """The pace in words: "at once", "daily at 08:00 (Europe/Kyiv)"."""
    if pace.immediate:
        return "at once, as articles arrive"
    hour, minute = divmod(pace.minute_of_day, 60)
    at = f"{hour:02d}:{minute:02d} ({pace.time_zone})"
    if pace.every == DAILY:
        return f"daily at {at}"
    weekday = WEEKDAYS[pace.weekday or 0]
    return f"weekly on {weekday}s at {at}"


def pace_shown(pace: Pace) -> list[str]:
    """/digest alone: the current pace and how to change it."""
    return _messages(
        [plain("Digests here come "), bold(pace_label(pace)), plain(".")],
        plain("Change it with a button, or write for example:"),
        *[code(example) for example in PACE_EXAMPLES],
    )


def pace_set(pace: Pace, *, subscribed: bool) -> list[str]:
    """Confirm a new pace."""
    lines: list[Line | Block] = [[plain("Digests here now come "), bold(pace_label(pace))]]
    if not pace.immediate:
        lines.append(plain("Articles wait until then and arrive together, once."))
    if not subscribed:
        lines.append(plain("This chat is not subscribed yet: /subscribe starts the digests."))
    return _messages(*lines)


def pace_error(problem: str) -> list[str]:
    """A /digest the bot could not read, and how to write it."""
    return _messages(
        plain(problem),
        plain("For example:"),
        *[code(example) for example in PACE_EXAMPLES],
    )


# Short texts for answerCallbackQuery (plain text, at most 200 characters).
BUTTON_EXPIRED = "This button no longer works. Send the command again for fresh buttons."
TOPIC_GONE = "This chat no longer follows that topic."
ADMINS_ONLY = "Only this group's administrators can change its digests."


def topic_dropped(topic: str) -> str:
    """The toast after dropping a topic."""
    return f"Stopped following “{topic}”."[:200]
