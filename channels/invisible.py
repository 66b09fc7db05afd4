"""Invisible characters: format controls and default-ignorable code points, taken out of text.

What is removed is defined by whole Unicode classes, not a list of favourites: every code point
of general category Cf (format controls: the bidi embeddings, overrides, isolates and marks,
zero-width spaces, the tag characters U+E0000-E007F, the BOM, the invisible operators) and
every Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties: Cf plus the variation
selectors and the other default-ignorables it lists, such as U+115F, U+3164 and U+FFA0).

Kept, as visible text needs them: U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER
(Persian, the Indic scripts, emoji sequences) and U+FE0E/U+FE0F (text or emoji presentation).
They hide nothing and reverse nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = ["INVISIBLE", "KEPT", "is_invisible", "strip_data", "strip_invisible"]

#: Other_Default_Ignorable_Code_Point and Variation_Selector (Unicode 15.1 PropList.txt),
#: which with Cf make up Default_Ignorable_Code_Point
_OTHER_IGNORABLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0D),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)
KEPT = frozenset({"\u200c", "\u200d", "\ufe0e", "\ufe0f"})


def _is_invisible(code: int) -> bool:
    char = chr(code)
    if char in KEPT:
        return False
    if unicodedata.category(char) == "Cf":
        return True
    return any(low <= code <= high for low, high in _OTHER_IGNORABLE)


def _pattern() -> re.Pattern[str]:
    # Format controls and default-ignorables live in planes 0, 1 and 14 only (planes 2-3 are
    # ideographs, 15-16 private use): scanning those keeps the import under 0.1 s.
    codes = [*range(0x20000), *range(0xE0000, 0xF0000)]
    ranges, start = [], None
    for index, code in enumerate(codes):
        inside = _is_invisible(code)
        if inside and start is None:
            start = code
        last = index + 1 == len(codes) or codes[index + 1] != code + 1
        if start is not None and (not inside or last):
            end = code if inside else code - 1
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(end))}")
            start = None
    return re.compile(f"[{''.join(ranges)}]+")


INVISIBLE = _pattern()


def is_invisible(char: str) -> bool:
    """Whether `char` is removed from text (Cf or default-ignorable, and not one KEPT)."""
    return INVISIBLE.fullmatch(char) is not None


def strip_invisible(text: str) -> str:
    """`text` without its invisible characters."""
    return INVISIBLE.sub("", text)


def strip_data(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """JSON-like data with every string (keys too) stripped; the paths of the values changed.

    Data without an invisible character (nearly all of it) comes back as it is, after one walk
    that builds nothing.
    """
    if _is_clean(value):
        return value, []
    return _strip(value, path)


def _is_clean(value: Any) -> bool:
    # Every invisible character is outside ASCII: most strings are decided by `isascii`.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and INVISIBLE.search(item) is not None:
                return False
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _strip(value: Any, path: str) -> tuple[Any, list[str]]:
    if isinstance(value, str):
        cleaned = strip_invisible(value)
        return cleaned, [path] if cleaned != value else []
    if isinstance(value, Mapping):
        result, changed = {}, []
        for key, item in value.items():
            name = strip_invisible(key) if isinstance(key, str) else key
            inner, found = _strip(item, f"{path}.{name}" if path else str(name))
            result[name] = inner
            changed += found if name == key else [*found, f"{path}.{name}".lstrip(".")]
        return result, changed
    if isinstance(value, list | tuple):
        pairs = [_strip(item, f"{path}.{i}") for i, item in enumerate(value)]
        return type(value)(p[0] for p in pairs), [f for p in pairs for f in p[1]]
    return value, []
