"""Every reply Parley sends, as Telegram HTML messages (escaped and split by rendering)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePath

from bot.rendering import Block, Line, bold, code, italic, link, plain, quote, split_messages
from knowledge.answering import NOT_COVERED, Answer, Citation
from knowledge.ingest import ArticlePlan
from knowledge.stories import Story
from knowledge.summaries import key_sentence, lead_summary
from storage.articles import ArticleSummary
from storage.sources import SourceSummary
from storage.subscriptions import Change
from web.source_manager import SourceCheck

SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side; please try again in a moment."
EXAMPLE_QUESTIONS = (
    "Who leads the Russian delegation?",
    "Where are the peace talks being held?",
    "What ceasefire has Trump pushed for?",
)
USER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("/ask <question>", "answer a question (or just write it to me)"),
    ("/latest", "the most recent articles"),
    ("/whatsnew [7d | 2025-06-01]", "new stories since you last looked, or since a span or date"),
    ("/timeline <topic>", "what happened on a topic, oldest first, with dates and links"),
    ("/sources", "where the articles come from"),
    ("/subscribe", "get a digest in this chat when new articles arrive"),
    ("/subscribe <topic>", "only articles about a topic, e.g. prisoner exchange"),
    ("/topics", "the topics this chat follows, with buttons to drop them"),
    ("/digest [now | daily 08:00 Europe/Kyiv]", "digests at once, or daily or weekly"),
    ("/unsubscribe", "stop the digests and forget the topics"),
    ("/help", "this list"),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("/addsource <url>", "follow a news feed or site"),
    ("/removesource <id>", "stop following a source"),
    ("/ingest <url>", "add one article"),
)


def _messages(*lines: Line | Block) -> list[str]:
    return split_messages(lines)


def answer(reply: Answer) -> list[str]:
    """A quoted answer with its source, or a plain "not covered"."""
    if not reply.covered:
        return _messages(plain(NOT_COVERED))
    lines: list[Line | Block] = [italic(f"As of {reply.as_of}:")] if reply.as_of else []
    for piece in reply.quotes:
        lines += [quote(piece.text), citation(piece.citation)]
    return _messages(*lines)


def citation(source: Citation) -> Line:
    """ "— Title, Source, date" with the title linking to the article when it is on the web."""
    details = ", ".join(part for part in (source.source, source.date) if part)
    line: list[Block] = [plain("— "), titled_link(source.title, source.url)]
    if details:
        line.append(plain(f", {details}"))
    return line


def titled_link(title: str, url: str) -> Block:
    """The title linking to the article, or naming its file when it is not on the web."""
    if url.startswith(("http://", "https://")):
        return link(title, url)
    return italic(f"{title} ({PurePath(url).name})")


def ask_hint() -> list[str]:
    """How to ask."""
    return _messages(
        plain("Ask me about the talks, for example: "),
        code(f"/ask {EXAMPLE_QUESTIONS[0]}"),
    )


def welcome() -> list[str]:
    """What Parley does, example questions, how to subscribe."""
    return _messages(
        [bold("Parley"), plain(" follows the Russia–Ukraine peace talks in the news.")],
        plain(
            "Ask me anything about them in plain words: I answer with the sentence from the "
            "articles that says it, and where it comes from."
        ),
        plain(""),
        plain("Try:"),
        *[plain(f"• {example}") for example in EXAMPLE_QUESTIONS],
        plain(""),
        [plain("Send "), code("/subscribe"), plain(" to get a digest when new articles arrive.")],
        [plain("All commands: "), code("/help")],
    )


def help_text(is_admin: bool) -> list[str]:
    """The commands this user can use."""
    lines: list[Line | Block] = [bold("Commands")]
    lines += [[code(command), plain(f" — {meaning}")] for command, meaning in USER_COMMANDS]
    if is_admin:
        lines += [plain(""), bold("Admin commands")]
        lines += [[code(command), plain(f" — {meaning}")] for command, meaning in ADMIN_COMMANDS]
    lines += [plain(""), plain("In groups, mention me or reply to me to ask a question.")]
    return split_messages(lines)


def subscribed(change: Change) -> list[str]:
    """Confirm /subscribe."""
    if change is Change.ALREADY:
        return _messages(plain("This chat is already subscribed; nothing changed."))
    return _messages(plain("Subscribed: this chat gets a digest whenever new articles arrive."))


def unsubscribed(change: Change) -> list[str]:
    """Confirm /unsubscribe."""
    if change is Change.ALREADY:
        return _messages(plain("This chat is not subscribed; nothing changed."))
    return _messages(plain("Unsubscribed: no more digests here. /subscribe brings them back."))


def source_list(sources: Sequence[SourceSummary]) -> list[str]:
    """The active sources."""
    if not sources:
        return _messages(plain("No sources yet."))
    lines: list[Line | Block] = [bold("Sources")]
    for source in sources:
        name = link(source.name, source.url) if source.url else plain(source.name)
        count = f"{source.articles} article{'s' if source.articles != 1 else ''}"
        lines.append([plain(f"#{source.id} "), name, plain(f" — {count}")])
    return split_messages(lines)


def article_list(articles: Sequence[ArticleSummary]) -> list[str]:
    """The most recent articles with links."""
    if not articles:
        return _messages(plain("The archive has no articles yet."))
    lines: list[Line | Block] = [bold("Latest articles")]
    for article in articles:
        details = ", ".join(filter(None, (article.source, _date(article.published_at))))
        lines.append([plain("• "), titled_link(article.title, article.url), plain(f" — {details}")])
    return split_messages(lines)


def _date(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def unknown_command(command: str) -> list[str]:
    """A hint for a command Parley does not know."""
    return _messages(
        [plain(f"I don't know {command}. "), code("/help"), plain(" lists what I can do.")]
    )


def admins_only() -> list[str]:
    """The polite refusal for non-admins."""
    return _messages(plain("Sorry, only Parley's admins can manage sources."))


def chat_admins_only() -> list[str]:
    """The refusal for a group member who is not one of its administrators."""
    return _messages(plain("Only this group's administrators can change its digests."))


def digest_refused(
    chat_id: int, problem: str, article_ids: Sequence[int], *, as_plain_text: bool
) -> list[str]:
    """Tell the admins that Telegram refused a digest, and what Parley did about it."""
    articles = ", ".join(f"#{article_id}" for article_id in article_ids)
    outcome = (
        "I am sending it as plain text instead."
        if as_plain_text
        else "It stays pending and is retried; please look at these articles."
    )
    return _messages(
        [bold("A digest was refused by Telegram"), plain(f" (chat {chat_id}): {problem}")],
        plain(f"Articles: {articles or 'none'}. {outcome}"),
    )


def problem(reason: str) -> list[str]:
    """One sentence saying why a request could not be done."""
    return _messages(plain(reason))


def source_added(check: SourceCheck) -> list[str]:
    """Confirm /addsource with what the source held."""
    kind = "feed" if check.kind == "feed" else "article page"
    found = f"{check.found} article{'s' if check.found != 1 else ''}"
    new = f"{len(check.stored)} new to the archive"
    return _messages(
        [plain(f"Added source #{check.source_id}: "), bold(check.name), plain(f" ({kind}).")],
        plain(f"Found {found}, {new}. I'll check it for new articles regularly."),
    )


def source_deactivated(check: SourceCheck) -> list[str]:
    """Tell admins a failing source was switched off."""
    return _messages(
        [bold(f"Source #{check.source_id} ({check.name}) was deactivated")],
        plain(f"It failed several polls in a row. Last error: {check.error}"),
        [plain("Add it again with "), code("/addsource"), plain(" once it works.")],
    )


def digest(items: Sequence[ArticleSummary | Story]) -> list[str]:
    """New articles, one entry per story: an article alone as its title (linked), source,
    date and short summary; several outlets' articles about one event as one summary
    sentence with the newest date and the outlets as links ("Reuters, AP and 2 more")."""
    stories = [item if isinstance(item, Story) else Story((item,)) for item in items]
    lines: list[Line | Block] = [bold(_digest_heading(stories))]
    for story in stories:
        lines += [plain(""), *_story_entry(story)]
    lines += [plain(""), [plain("Ask me about them, or "), code("/unsubscribe"), plain(".")]]
    return split_messages(lines)


def _digest_heading(stories: Sequence[Story]) -> str:
    articles = sum(len(story.articles) for story in stories)
    heading = f"New: {_count(articles, 'article')}"
    if len(stories) != articles:
        heading = (
            f"New: {_count(len(stories), 'story', 'stories')} from {_count(articles, 'article')}"
        )
    return heading


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _story_entry(story: Story) -> list[Line | Block]:
    lead = story.lead
    if len(story.articles) == 1:
        details = ", ".join(filter(None, (lead.source, _date(lead.published_at))))
        return [
            [titled_link(lead.title, lead.url)],
            italic(details),
            plain(lead_summary(lead.text)),
        ]
    return [
        [titled_link(lead.title, lead.url)],
        [italic(story.newest.date().isoformat()), plain(f" — {key_sentence(lead.text)}")],
        source_links(story),
    ]


def source_links(story: Story, *, named: int = 2) -> Line:
    """ "Reuters, AP and 2 more": the first outlets, each linking to its article ("1 more"
    links to the one it stands for)."""
    outlets = _distinct_outlets(story)
    shown, rest = outlets[:named], outlets[named:]
    line: list[Block] = []
    for number, article in enumerate(shown):
        if number:
            line.append(plain(" and " if number == len(shown) - 1 and not rest else ", "))
        line.append(titled_link(article.source, article.url))
    if len(rest) == 1:
        line += [plain(" and "), titled_link("1 more", rest[0].url)]
    elif rest:
        line.append(plain(f" and {len(rest)} more"))
    return line


def _distinct_outlets(story: Story) -> list[ArticleSummary]:
    """One article per outlet, in the story's order (an outlet may report an event twice)."""
    seen: set[str] = set()
    outlets = []
    for article in story.articles:
        if article.source not in seen:
            seen.add(article.source)
            outlets.append(article)
    return outlets


def source_removed(source_id: int, name: str) -> list[str]:
    """Confirm /removesource."""
    return _messages(
        plain(f"Removed source #{source_id} ({name}). Its articles stay in the archive.")
    )


def page_ingested(plan: ArticlePlan, *, stored: bool) -> list[str]:
    """Confirm /ingest."""
    document = plan.document
    title = titled_link(document.title, document.url)
    if not stored:
        return _messages([plain("Already in the archive: "), title])
    count = len(plan.passages)
    return _messages(
        [plain("Added "), title],
        plain(f"{document.source}, {_date(document.published_at) or 'undated'}; {count} passages."),
    )
