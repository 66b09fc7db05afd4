"""Characters that hide text or pass one letter for another, in customer data and in AI output."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

from confusable_homoglyphs import categories

# Default-ignorable code points (Unicode's DerivedCoreProperties) beyond the format category:
# fillers, variation selectors, the Mongolian free variation selectors, and every tag.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# An emoji may carry a presentation selector, and emoji join into one picture with ZWJ: both
# are visible as the emoji itself and hide no text.
_EMOJI_JOINERS = frozenset({"\u200d", "\ufe0e", "\ufe0f"})
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def is_hidden(char: str) -> bool:
    """Whether a character is invisible: format, private use, default-ignorable or a tag."""
    point = ord(char)
    if unicodedata.category(char) in ("Cf", "Co", "Cs"):
        return True
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


@cache
def _hidden_class() -> re.Pattern[str]:
    # Private use and surrogates are whole planes and blocks: only the format category is scanned.
    ranges: list[list[int]] = []
    extra = [*_IGNORABLE_RANGES, (0xD800, 0xDFFF), (0xE000, 0xF8FF), (0xF0000, 0x10FFFD)]
    format_points = [c for c in range(0x80, 0xE0000) if unicodedata.category(chr(c)) == "Cf"]
    points = sorted(
        {*format_points, *(p for a, b in extra if b - a < 5000 for p in range(a, b + 1))}
    )
    for point in points:
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    ranges += [[a, b] for a, b in extra if b - a >= 5000]
    parts = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{parts}]")


def _emoji_context(text: str, index: int) -> bool:
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if text[index] == "\u200d":
        return _is_symbol(before) and _is_symbol(after)
    return _is_symbol(before)


def _is_symbol(char: str) -> bool:
    return bool(char) and (unicodedata.category(char) == "So" or char in _EMOJI_JOINERS)


def hidden_characters(text: str) -> list[str]:
    """The code points (as U+XXXX) of every hidden character, except those inside emoji."""
    if text.isascii():
        return []
    found = [
        f"U+{ord(m.group()):04X}"
        for m in _hidden_class().finditer(text)
        if not (m.group() in _EMOJI_JOINERS and _emoji_context(text, m.start()))
    ]
    return list(dict.fromkeys(found))


def made_visible(text: str) -> str:
    """Each invisible character and odd space shown as `⟨U+200B⟩`, for a person to read."""
    if text.isascii():
        return text

    def shown(match: re.Match[str]) -> str:
        return f"⟨U+{ord(match.group()):04X}⟩"

    return _SPACES.sub(shown, _hidden_class().sub(shown, text))


def strip_hidden(text: str) -> str:
    """The text without any hidden character (soft hyphens included), for data sent to a model."""
    return text if text.isascii() else _hidden_class().sub("", text)


@cache
def _homoglyphs() -> dict[str, str]:
    path = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    mapping: dict[str, str] = {}
    for char, glyphs in table.items():
        for glyph in glyphs:
            other = glyph["c"]
            if char.isascii() and char.isalnum() and len(other) == 1 and not other.isascii():
                mapping.setdefault(other, char)
            elif len(char) == 1 and not char.isascii() and other.isascii() and other.isalnum():
                mapping.setdefault(char, other)
    return mapping


def skeleton(text: str) -> str:
    """NFKC, hidden characters removed, other spaces as spaces, and look-alikes as Latin letters."""
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", strip_hidden(text)))
    return folded if folded.isascii() else folded.translate(_translation())


@cache
def _translation() -> dict[int, str]:
    return str.maketrans(_homoglyphs())


@lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """The script alias of one letter (LATIN, CYRILLIC, GREEK...), COMMON for digits and marks."""
    return str(categories.alias(char))


_WORD = re.compile(r"[^\W_]{2,60}")
_FOREIGN_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def _scripts(word: str) -> set[str]:
    if word.isascii():
        return {"LATIN"}
    return {s for c in word if c.isalpha() and (s := script_of(c)) not in ("COMMON", "INHERITED")}


def look_alike_words(text: str, *, native_scripts: frozenset[str] = frozenset()) -> list[str]:
    """Words mixing scripts, or written wholly in look-alikes of Latin letters in a Latin text."""
    words = _WORD.findall(unicodedata.normalize("NFKC", strip_hidden(text)))
    latin_text = any("LATIN" in _scripts(w) for w in words)
    table = _homoglyphs()
    found = []
    for word in words:
        scripts = _scripts(word)
        if len(scripts) > 1:
            found.append(word)
        elif latin_text and scripts & (_FOREIGN_SCRIPTS - native_scripts):
            if all(c in table for c in word if c.isalpha()):
                found.append(word)
    return found
