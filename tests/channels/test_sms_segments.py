"""GSM-7 / UCS-2 detection and segment counting, including the boundaries."""

from __future__ import annotations

import pytest

from channels.sms import Encoding, analyse_sms


@pytest.mark.parametrize(
    "body, segments",
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
    ],
)
def test_gsm7_boundaries_are_160_then_153(body: str, segments: int) -> None:
    analysis = analyse_sms(body)
    assert analysis.encoding is Encoding.GSM7
    assert analysis.segments == segments


def test_gsm7_accented_letters_and_greek_capitals_stay_gsm7() -> None:
    analysis = analyse_sms("Ça coûte 5€? Ünd Straße: ΔΣΩ @£$¥ èéùìò")
    assert analysis.encoding is Encoding.UCS2  # û is not in GSM-7
    assert analysis.ucs2_characters == ("û",)
    assert analyse_sms("Ça coute 5€? Ünd Straße: ΔΣΩ @£$¥ èéùìò").encoding is Encoding.GSM7


@pytest.mark.parametrize(
    "body, units, segments",
    [
        ("€" * 80, 160, 1),
        ("€" * 81, 162, 2),
        ("a" * 159 + "[", 161, 2),
        ("a" * 158 + "{", 160, 1),
        ("^{}\\[~]|€\f", 20, 1),
    ],
)
def test_extension_characters_count_double(body: str, units: int, segments: int) -> None:
    analysis = analyse_sms(body)
    assert (analysis.encoding, analysis.units, analysis.segments) == (
        Encoding.GSM7,
        units,
        segments,
    )


def test_an_extension_character_never_straddles_two_segments() -> None:
    # 152 septets then an escape pair: the pair moves whole to the second segment.
    body = "a" * 152 + "€" + "a" * 152
    analysis = analyse_sms(body)
    assert analysis.units == 306
    assert analysis.segments == 3  # 152 | 2 + 151 | 1, whereas 306/153 would say 2
    assert analyse_sms("a" * 151 + "€" + "a" * 153).segments == 2


@pytest.mark.parametrize(
    "body, segments",
    [
        ("é" * 70, 1),  # é is GSM-7, so this is GSM: 70 septets
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
    ],
)
def test_ucs2_boundaries_are_70_then_67(body: str, segments: int) -> None:
    assert analyse_sms(body).segments == segments


def test_ucs2_per_segment_limits_are_reported() -> None:
    assert analyse_sms("á" * 70).per_segment == 70
    assert analyse_sms("á" * 71).per_segment == 67
    assert analyse_sms("a" * 161).per_segment == 153


def test_emoji_are_two_utf16_units_and_are_never_split() -> None:
    assert analyse_sms("😀" * 35).segments == 1
    assert analyse_sms("😀" * 35).units == 70
    assert analyse_sms("😀" * 36).segments == 2
    # 66 units then an emoji: it cannot take the 67th unit, so it opens segment two,
    # and 134 units need three segments where 134 / 67 would say two.
    analysis = analyse_sms("á" * 66 + "😀" + "á" * 66)
    assert (analysis.units, analysis.segments) == (134, 3)
    assert analyse_sms("á" * 65 + "😀" + "á" * 67).segments == 2


def test_the_characters_that_forced_ucs2_are_named_once_in_order() -> None:
    analysis = analyse_sms("Hi 😀 Ana, ça va? 😀 — ok")
    assert analysis.encoding is Encoding.UCS2
    assert analysis.ucs2_characters == ("😀", "ç", "—")  # GSM-7 has Ç but not ç
    assert (analysis.characters, analysis.units) == (23, 25)
