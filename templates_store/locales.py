"""Locale tags: normalization (BCP 47 style, checked by Babel) and the fallback chain."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import parse_locale

from templates_store.errors import ValidationFailed


@lru_cache(maxsize=512)
def normalize_locale(tag: str) -> str:
    """Return the canonical form of a locale tag ("fr_ca" -> "fr-CA"); refuse unknown ones."""
    cleaned = tag.strip().replace("_", "-") if isinstance(tag, str) else ""
    try:
        language, territory, script, variant = parse_locale(cleaned, sep="-")[:4]
        Locale.parse(cleaned, sep="-")
    except (ValueError, UnknownLocaleError, TypeError):
        raise ValidationFailed({"locale": [f"{tag!r} is not a known locale"]}) from None
    return "-".join(p for p in (language, script, territory, variant) if p)


def babel_locale(tag: str) -> Locale:
    """The Babel locale for a tag, for formatting."""
    return _parsed(normalize_locale(tag))


@lru_cache(maxsize=256)
def _parsed(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def _parents(tag: str) -> list[str]:
    subtags = tag.split("-")
    return ["-".join(subtags[:n]) for n in range(len(subtags), 0, -1)]


def fallback_chain(requested: str, default: str) -> list[str]:
    """The locales to try in order: the requested one, its parents, then the default."""
    chain = [*_parents(normalize_locale(requested)), normalize_locale(default)]
    return list(dict.fromkeys(chain))


def resolve_locale(available: Iterable[str], requested: str | None, default: str) -> str | None:
    """The first locale of the fallback chain that is available (as spelled in `available`)."""
    spelled = {_lenient(tag): tag for tag in available}
    for tag in fallback_chain(requested or default, default):
        if tag in spelled:
            return spelled[tag]
    return None


def _lenient(tag: str) -> str:
    try:
        return normalize_locale(tag)
    except ValidationFailed:
        return tag
