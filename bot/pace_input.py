"""Reading what a chat writes after /digest: `now`, `daily [HH:MM] [Zone]`,
`weekly <weekday> [HH:MM] [Zone]`. The hour and zone left out keep the chat's current ones
(08:00 UTC at first); each mistake gets its own sentence."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import available_timezones

from storage.paces import DAILY, IMMEDIATE, WEEKLY, Pace

TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?")
DEFAULT_MINUTE = 8 * 60
_WEEKDAY_PREFIXES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NOW_WORDS = frozenset({"now", "immediately", "instant", "off"})


class PaceInputError(ValueError):
    """What the chat wrote is not a pace; the message says what is wrong, for people."""


def parse_pace(words: Sequence[str], *, current: Pace) -> Pace:
    """The pace the words ask for."""
    if not words:
        raise PaceInputError("Say how often: now, daily or weekly.")
    every, rest = words[0].lower(), list(words[1:])
    if every in _NOW_WORDS:
        if rest:
            raise PaceInputError(f"“/digest {every}” takes nothing after it.")
        return IMMEDIATE
    if every not in (DAILY, WEEKLY):
        raise PaceInputError(f"“{words[0]}” is not a pace: use now, daily or weekly.")
    weekday = None
    if every == WEEKLY:
        if not rest:
            raise PaceInputError("Say which day: for example “/digest weekly mon 08:00”.")
        weekday = _weekday(rest.pop(0))
    minute = current.minute_of_day if not current.immediate else DEFAULT_MINUTE
    if rest and TIME.fullmatch(rest[0]):
        minute = _minute_of_day(rest.pop(0))
    zone = current.time_zone
    if rest:
        zone = _zone(rest.pop(0))
    if rest:
        raise PaceInputError(f"I do not understand “{' '.join(rest)}” at the end.")
    return Pace(every, minute, zone, weekday)


def _weekday(word: str) -> int:
    folded = word.lower()
    for number, prefix in enumerate(_WEEKDAY_PREFIXES):
        if len(folded) >= 3 and folded.startswith(prefix) and _is_day_name(folded, number):
            return number
    raise PaceInputError(f"“{word}” is not a day of the week: use mon, tue, … sun.")


def _is_day_name(folded: str, number: int) -> bool:
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return names[number].startswith(folded)


def _minute_of_day(word: str) -> int:
    match = TIME.fullmatch(word)
    assert match is not None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise PaceInputError(f"“{word}” is not a time of day: use 24-hour time, like 08:00.")
    return hour * 60 + minute


def _zone(word: str) -> str:
    if word[:1].isdigit():  # "8am", "08.00": meant as a time, not a zone
        raise PaceInputError(f"“{word}” is not a time of day: use 24-hour time, like 08:00.")
    zones = _zones()
    found = zones.get(word.casefold())
    if found is not None:
        return found
    close = difflib.get_close_matches(word.casefold(), zones, n=1, cutoff=0.8)
    hint = f" Did you mean {zones[close[0]]}?" if close else ""
    raise PaceInputError(
        f"“{word}” is not a time zone I know: use a name like Europe/Kyiv or UTC.{hint}"
    )


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Every IANA zone name, by its case-folded form ("europe/kyiv": "Europe/Kyiv")."""
    return {name.casefold(): name for name in available_timezones()}
