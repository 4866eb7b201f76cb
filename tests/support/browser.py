"""Headless Chromium for the browser tests: Debian's chromium, driven by its chromedriver.

Nothing is downloaded: Selenium is given both binaries and told to stay offline, so Selenium
Manager never runs. `ChatScreen` is the playground's chat page as a person uses it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "playground"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no update checks, no safe-browsing lists
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,860",
)
T = TypeVar("T")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    return f"{' and '.join(missing)} missing: run `make browser`" if missing else None


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, quit afterwards."""
    with tempfile.TemporaryDirectory(prefix="parley-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        with _offline_selenium():
            driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


@contextmanager
def _offline_selenium() -> Iterator[None]:
    """Selenium Manager, should it run at all, must not fetch a browser or a driver."""
    before = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ["SE_OFFLINE"]
        else:
            os.environ["SE_OFFLINE"] = before


class ChatScreen:
    """The chat page, driven as a person would: pick a user, type, press Enter, read."""

    def __init__(self, driver: WebDriver, url: str, shots: str) -> None:
        self.driver, self.url, self._shots, self._step = driver, url, shots, 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def open(self) -> ChatScreen:
        """Load the page and wait until it shows a conversation."""
        self.driver.get(self.url)
        self.wait(lambda: self.title.startswith("Alice") or None)
        return self

    @property
    def title(self) -> str:
        """The conversation's heading, e.g. "Alice and Parley"."""
        return self.driver.find_element(By.ID, "chat-title").text

    @property
    def box(self) -> WebElement:
        """The message box."""
        return self.driver.find_element(By.ID, "message")

    def chat_as(self, name: str) -> None:
        """Click the user called ``name`` and wait for their conversation."""
        self.user_button(name).click()
        self.wait(lambda: self.title.startswith(name) or None)

    def user_button(self, name: str) -> WebElement:
        """The button that picks ``name``."""
        for button in self.driver.find_elements(By.CSS_SELECTOR, "#users .user"):
            if button.find_element(By.CLASS_NAME, "user-name").text.split("\n")[0] == name:
                return button
        raise AssertionError(f"no user called {name}")

    def send(self, text: str) -> None:
        """Type into the message box and press Enter."""
        self.box.send_keys(text, Keys.ENTER)

    def bot_messages(self) -> list[WebElement]:
        """The bot's messages in the open conversation, oldest first."""
        return self.driver.find_elements(By.CSS_SELECTOR, "#messages .from-bot .bubble")

    def wait_for_bot_message(self, containing: str, timeout: float = 120) -> WebElement:
        """The first bot message whose text contains ``containing``, once it is shown."""

        def found() -> WebElement | None:
            for message in self.bot_messages():
                if containing in message.text:
                    return message
            return None

        return self.wait(found, timeout)

    def wait(self, condition: Callable[[], T | None], timeout: float = 60) -> T:
        """Poll ``condition`` until it returns something truthy; return that."""

        def check(_driver: object) -> T | Literal[False]:
            try:
                return condition() or False
            except StaleElementReferenceException:  # re-rendered while we looked
                return False

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(check)
        except TimeoutException:
            self.screenshot("timeout")
            raise

    def screenshot(self, step: str) -> Path:
        """Save the page as tests/artifacts/playground/<test>-<n>-<step>.png."""
        self._step += 1
        path = ARTIFACTS / f"{self._shots}-{self._step:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path
