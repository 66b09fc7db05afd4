"""SMS encoding and segment counting exactly as carriers do (GSM 03.38 and UCS-2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table: an escape septet plus one, so each counts twice.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


# Typographic characters that force UCS-2 although GSM-7 has a plain equivalent: every Unicode
# space separator (no-break, narrow no-break as Babel puts before "PM", thin, figure, ...),
# curly and low quotes, primes, hyphens and dashes, the ellipsis and the bullet.
GSM_LOOKALIKES: dict[str, str] = {
    **dict.fromkeys("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
    **dict.fromkeys("\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u02bc", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022", "-"),
    "\u2026": "...",
}
_TO_GSM = str.maketrans(GSM_LOOKALIKES)


@dataclass(frozen=True)
class GsmSafe:
    """A body with its typography made GSM-7, and the characters that were replaced."""

    text: str
    replaced: tuple[str, ...]


def gsm_safe(body: str) -> GsmSafe:
    """Replace typographic characters that have a GSM-7 equivalent; other text is untouched."""
    replaced = tuple(dict.fromkeys(c for c in body if c in GSM_LOOKALIKES))
    return GsmSafe(body.translate(_TO_GSM) if replaced else body, replaced)


class Encoding(StrEnum):
    """The two SMS alphabets."""

    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsAnalysis:
    """What a preview shows: encoding, segment count and which characters forced UCS-2."""

    encoding: Encoding
    segments: int
    units: int
    characters: int
    per_segment: int
    ucs2_characters: tuple[str, ...]


def _cost(char: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair in UTF-16


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Segments needed; a character's units never straddle two segments."""
    total = sum(costs)
    if total <= single:
        return 1 if costs else 0
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


def forcing_ucs2(body: str) -> tuple[str, ...]:
    """The distinct characters outside GSM-7, in order of first appearance."""
    return tuple(dict.fromkeys(c for c in body if c not in GSM_BASIC and c not in GSM_EXTENSION))


def analyse_sms(body: str) -> SmsAnalysis:
    """Encoding, exact segment count and the characters that forced UCS-2."""
    forcing = forcing_ucs2(body)
    encoding = Encoding.UCS2 if forcing else Encoding.GSM7
    single, multi = (UCS2_SINGLE, UCS2_MULTI) if forcing else (GSM_SINGLE, GSM_MULTI)
    costs = [_cost(char, encoding) for char in body]
    segments = _pack(costs, single, multi)
    return SmsAnalysis(
        encoding=encoding,
        segments=segments,
        units=sum(costs),
        characters=len(body),
        per_segment=single if segments <= 1 else multi,
        ucs2_characters=forcing,
    )
