"""The playground in a real browser: headless Chromium on the chat page, the real bot behind it.

Each step leaves a screenshot in tests/artifacts/playground/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from knowledge.embedding import Embedder
from parley.playground import LOCAL_TOKEN
from parley.settings import Settings
from tests.support.browser import ChatScreen, chromium, chromium_missing
from tests.support.playground_harness import BackgroundPlayground
from tests.support.web_server import WebServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ALICE = 101
SEED_TITLE = "Trump and Putin to Skip First Ukraine Peace Talks in Istanbul"


@pytest.fixture
def playground(
    database_url: str, real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackgroundPlayground]:
    """The playground as `parley playground` starts it, on a free port and a fresh archive."""
    monkeypatch.setenv("PLAYGROUND_DATABASE_URL", database_url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("SOURCE_POLL_SECONDS", "1")  # a feed's news within seconds, not minutes
    monkeypatch.delenv("ADMIN_IDS", raising=False)
    with BackgroundPlayground(Settings(_env_file=None), real_embedder) as running:  # type: ignore[call-arg]
        yield running


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium; the suite's set-up (`make browser`) installs it."""
    missing = chromium_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)
    with chromium() as driver:
        yield driver


@pytest.fixture
def screen(
    browser: WebDriver, playground: BackgroundPlayground, request: pytest.FixtureRequest
) -> ChatScreen:
    """The chat page, open as Alice."""
    return ChatScreen(browser, playground.url, request.node.name).open()


def test_a_visitor_asks_and_sees_the_answer_with_its_source(screen: ChatScreen) -> None:
    screen.screenshot("opened")
    screen.send("Who leads the Russian delegation?")
    answer = screen.wait_for_bot_message("Medinsky")
    screen.screenshot("answered")

    quote = answer.find_element(By.TAG_NAME, "blockquote")
    assert "Vladimir Medinsky" in quote.text
    assert SEED_TITLE in answer.text and "Reuters, 2025-05-15" in answer.text
    assert screen.box.get_attribute("value") == ""
    assert screen.driver.switch_to.active_element == screen.box  # ready for the next question


def test_an_answer_from_the_web_links_to_its_article(
    screen: ChatScreen, playground: BackgroundPlayground
) -> None:
    page = (
        "<html><head><title>Prisoner exchange agreed in Geneva</title></head><body><article>"
        "<h1>Prisoner exchange agreed in Geneva</h1><p>Negotiators agreed on Monday to exchange "
        "1,000 prisoners of war each, officials in Geneva said.</p><p>The exchange will be "
        "overseen by the International Committee of the Red Cross.</p></article></body></html>"
    )
    with WebServer() as web:
        url = web.add("/world/geneva-exchange", page.encode())
        screen.chat_as("Admin")
        screen.send(f"/ingest {url}")
        screen.wait_for_bot_message("Prisoner exchange agreed in Geneva")
        screen.screenshot("admin-ingested")
    screen.chat_as("Alice")
    screen.send("Who will oversee the prisoner exchange?")
    answer = screen.wait_for_bot_message("Red Cross")
    screen.screenshot("answered-with-link")

    link = answer.find_element(By.CSS_SELECTOR, "a")
    assert link.text == "Prisoner exchange agreed in Geneva"
    assert link.get_attribute("href") == url
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.get_attribute("target") == "_blank"


def test_bot_html_is_shown_as_in_telegram_and_nothing_else_runs(
    screen: ChatScreen, playground: BackgroundPlayground
) -> None:
    hostile = "<img src=x onerror=\"document.title='hacked'\"> <b>not bold</b>"
    screen.send(hostile)  # the bot declines it; the page must show it as text
    screen.wait_for_bot_message("couldn't find that")
    formatted = (
        "<b>bold</b> <i>italic</i> <u>underlined</u> <s>struck</s> <code>code</code> "
        "<tg-spoiler>secret</tg-spoiler>\n<pre>preformatted</pre>\n<blockquote>quoted</blockquote>\n"
        '<a href="https://example.org/story">a link</a> <a href="javascript:alert(1)">a trap</a> '
        "&lt;img src=x onerror=alert(1)&gt; &lt;i&gt;escaped&lt;/i&gt; /help"
    )
    status, _ = playground.playground.server.handle(
        LOCAL_TOKEN, "sendMessage", {"chat_id": ALICE, "text": formatted, "parse_mode": "HTML"}
    )
    assert status == 200
    message = screen.wait_for_bot_message("preformatted")
    screen.screenshot("formatted")

    def shown(tag: str) -> list[str]:
        return [element.text for element in message.find_elements(By.TAG_NAME, tag)]

    assert (shown("strong"), shown("em"), shown("u"), shown("s")) == (
        ["bold"],
        ["italic"],
        ["underlined"],
        ["struck"],
    )
    assert shown("code") == ["code"] and shown("pre") == ["preformatted"]
    assert shown("blockquote") == ["quoted"]
    assert [a.get_attribute("href") for a in message.find_elements(By.TAG_NAME, "a")] == [
        "https://example.org/story"
    ]
    assert "a trap" in message.text
    assert "<img src=x onerror=alert(1)> <i>escaped</i>" in message.text
    spoiler = message.find_element(By.CLASS_NAME, "spoiler")
    spoiler.click()
    assert "revealed" in (spoiler.get_attribute("class") or "")
    assert screen.driver.find_elements(By.CSS_SELECTOR, "#messages img") == []
    assert hostile in screen.driver.find_element(By.ID, "messages").text
    assert screen.driver.title == "Parley playground"
    message.find_element(By.CLASS_NAME, "command").click()  # commands are clickable, as in Telegram
    screen.wait_for_bot_message("Commands")


def test_inline_buttons_reach_the_bot_and_its_edit_appears(
    screen: ChatScreen, playground: BackgroundPlayground
) -> None:
    screen.send("/digest")
    message = screen.wait_for_bot_message("Digests here come")
    screen.screenshot("buttons")
    item = message.find_element(By.XPATH, "..")
    item.find_element(By.XPATH, ".//button[text()='Daily']").click()
    edited = screen.wait_for_bot_message("daily at")
    screen.screenshot("pressed")

    assert len(playground.playground.server.callback_answers) == 1
    assert "edited" in edited.find_element(By.XPATH, "..").text


def test_admin_adds_a_feed_and_the_subscriber_sees_the_digest(screen: ChatScreen) -> None:
    title = "Negotiators agree to a second round of talks in Istanbul"
    with WebServer() as web:
        web.add("/news/second-round", _article(title).encode())
        feed = web.add(
            "/feed.xml",
            _rss(web.url, title, "/news/second-round").encode(),
            content_type="application/rss+xml",
        )
        screen.send("/subscribe")
        screen.wait_for_bot_message("Subscribed")
        screen.screenshot("alice-subscribed")
        screen.chat_as("Admin")
        assert screen.driver.switch_to.active_element == screen.box
        screen.send(f"/addsource {feed}")
        screen.wait_for_bot_message("source #")
        screen.screenshot("admin-added-feed")
        screen.wait(lambda: screen.user_button("Alice").find_elements(By.CLASS_NAME, "unread"), 120)
        screen.screenshot("digest-waiting-for-alice")
        screen.chat_as("Alice")
        digest = screen.wait_for_bot_message(title, timeout=120)
        screen.screenshot("alice-reads-digest")

    assert title in digest.text


def _article(title: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        "<p>Russian and Ukrainian negotiators agreed on Friday to meet again in Istanbul "
        "next month, the Turkish foreign ministry said.</p></article></body></html>"
    )


def _rss(site: str, title: str, path: str) -> str:
    published = format_datetime(datetime.now(UTC))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Local Wire</title><link>{site}</link><description>Talks news</description>"
        f"<item><title>{title}</title><link>{site}{path}</link><pubDate>{published}</pubDate>"
        "<description>Negotiators will meet again in Istanbul next month.</description>"
        "</item></channel></rss>"
    )


def test_following_a_topic_its_buttons_pace_and_catching_up(screen: ChatScreen) -> None:
    screen.send("/subscribe prisoner exchange")
    screen.wait_for_bot_message("Following “prisoner exchange”")
    screen.send("/topics")
    listed = screen.wait_for_bot_message("Topics this chat follows")
    screen.screenshot("topics-with-buttons")
    item = listed.find_element(By.XPATH, "..")
    item.find_element(By.XPATH, ".//button[contains(text(), 'prisoner exchange')]").click()
    screen.wait_for_bot_message("follows no topics")
    screen.screenshot("topic-dropped")
    screen.send("/digest daily 08:00 Europe/Kyiv")
    paced = screen.wait_for_bot_message("Digests here now come")
    screen.screenshot("daily-pace")
    screen.send("/timeline peace talks")
    timeline = screen.wait_for_bot_message("Timeline")
    screen.screenshot("timeline")
    screen.send("/whatsnew 3650d")
    screen.wait_for_bot_message("new")
    screen.screenshot("whatsnew")

    assert "08:00 (Europe/Kyiv)" in paced.text
    assert "2025-05-15" in timeline.text  # the seed article, dated
