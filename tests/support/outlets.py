"""Articles from several outlets, written as the HTML pages Parley ingests, for stories,
/whatsnew and /timeline tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html import escape
from pathlib import Path

from bot.context import SERVICES_KEY, BotServices
from tests.support.bot_harness import RunningBot


@dataclass(frozen=True)
class Report:
    """One outlet's article."""

    slug: str
    outlet: str
    date: str  # ISO date
    title: str
    paragraphs: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"https://{self.outlet.lower().replace(' ', '')}.example/{self.slug}"

    def page(self) -> str:
        body = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in self.paragraphs)
        return (
            f"<!doctype html><html><head><title>{escape(self.title)}</title>"
            f'<meta property="og:site_name" content="{escape(self.outlet)}">'
            f'<meta property="article:published_time" content="{self.date}">'
            f'<link rel="canonical" href="{self.url}"></head>'
            f"<body><article><h1>{escape(self.title)}</h1>{body}</article></body></html>"
        )


SWAP_REPORTS = (
    Report(
        "swap-reuters",
        "Reuters",
        "2025-06-10",
        "Russia and Ukraine swap 1,000 prisoners each at Belarus border",
        (
            "Russia and Ukraine exchanged 1,000 prisoners of war each on Tuesday at the "
            "Belarusian border, the largest swap agreed at the Istanbul talks, Ukrainian "
            "President Volodymyr Zelensky said.",
            "Russian negotiator Vladimir Medinsky said the exchange would continue in stages, "
            "and Ukraine's Rustem Umerov thanked the Turkish mediators.",
        ),
    ),
    Report(
        "swap-ap",
        "AP",
        "2025-06-10",
        "Ukraine and Russia carry out biggest prisoner exchange of the war",
        (
            "Ukraine and Russia carried out a swap of 1,000 prisoners apiece at the border "
            "with Belarus on Tuesday, Volodymyr Zelensky announced, in the biggest exchange "
            "agreed during the Istanbul negotiations.",
            "Vladimir Medinsky, who leads the Russian delegation, said more stages would "
            "follow; Rustem Umerov led the Ukrainian side.",
        ),
    ),
    Report(
        "swap-kyiv",
        "Kyiv Independent",
        "2025-06-11",
        "Hundreds of Ukrainian soldiers come home in prisoner exchange with Russia",
        (
            "A thousand Ukrainian prisoners of war returned home in an exchange with Russia at "
            "the Belarusian border, President Volodymyr Zelensky said, the largest swap since "
            "the Istanbul talks began.",
            "Rustem Umerov said the exchange was agreed with Vladimir Medinsky in Istanbul.",
        ),
    ),
)
TARIFF_REPORT = Report(
    "tariffs-freightwaves",
    "FreightWaves",
    "2025-06-10",
    "US and China agree to cut tariffs after Geneva talks",
    (
        "The United States and China agreed on Monday to cut reciprocal tariffs for 90 days "
        "after two days of talks in Geneva, Treasury Secretary Scott Bessent said.",
        "Chinese Vice Premier He Lifeng called the talks candid and constructive.",
    ),
)


def write(folder: Path, reports: tuple[Report, ...] | list[Report]) -> Path:
    """The reports as HTML files in the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for report in reports:
        (folder / f"{report.slug}.html").write_text(report.page(), "utf-8")
    return folder


async def ingest(running: RunningBot, folder: Path, *, for_digests: bool) -> None:
    """Store the folder's articles as polling would; queued for subscribers if asked."""
    ingestor = running.services.ingestor

    def store() -> None:
        plans, problems = ingestor.plan_files([str(folder)])
        assert not problems
        ingestor.store(plans, digest=(lambda plan: True) if for_digests else None)

    await asyncio.to_thread(store)


async def send_digests(running: RunningBot) -> None:
    """Run a digest fan-out of the real application, as after a poll."""
    bot_services: BotServices = running.application.bot_data[SERVICES_KEY]
    await bot_services.digests.send_pending(running.application.bot)
