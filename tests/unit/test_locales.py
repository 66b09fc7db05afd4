"""Locale tags and the fallback chain fr-CA -> fr -> the template's default."""

from __future__ import annotations

import pytest

from templates_store.errors import ValidationFailed
from templates_store.locales import fallback_chain, normalize_locale, resolve_locale


@pytest.mark.parametrize(
    ("tag", "normal"),
    [
        ("fr_ca", "fr-CA"),
        ("FR-ca", "fr-CA"),
        ("en", "en"),
        (" de-DE ", "de-DE"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("pt_BR", "pt-BR"),
    ],
)
def test_tags_are_normalized(tag: str, normal: str) -> None:
    assert normalize_locale(tag) == normal


@pytest.mark.parametrize("tag", ["xx", "xx-YY", "", "english", "12", "fr--CA"])
def test_unknown_or_invalid_tags_are_refused_on_the_locale_field(tag: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_locale(tag)
    assert list(caught.value.errors) == ["locale"]
    assert "is not a known locale" in caught.value.errors["locale"][0]


def test_the_fallback_chain_goes_to_the_parent_then_the_default() -> None:
    assert fallback_chain("fr-CA", "en") == ["fr-CA", "fr", "en"]
    assert fallback_chain("fr_ca", "fr") == ["fr-CA", "fr"]
    assert fallback_chain("en", "en") == ["en"]
    assert fallback_chain("zh-Hant-TW", "en-GB") == ["zh-Hant-TW", "zh-Hant", "zh", "en-GB"]


def test_resolve_picks_the_first_available_locale_of_the_chain() -> None:
    assert resolve_locale(["en", "fr"], "fr-CA", "en") == "fr"
    assert resolve_locale(["en", "fr", "fr-CA"], "fr-CA", "en") == "fr-CA"
    assert resolve_locale(["en", "de"], "fr-CA", "en") == "en"
    assert resolve_locale(["en"], None, "en") == "en"


def test_resolve_returns_none_when_nothing_fits() -> None:
    assert resolve_locale(["de"], "fr-CA", "en") is None
    assert resolve_locale([], None, "en") is None


def test_resolve_returns_the_tag_as_the_caller_spelled_it() -> None:
    assert resolve_locale({"fr_CA": 1, "en": 2}, "fr-ca", "en") == "fr_CA"
