"""The source line a template error names, so the editor can mark it in its part."""

from __future__ import annotations

import re

# A TemplateProblem reads "<part>, line <n>: <cause>"; one quick reply's part ends in its index.
_WHERE = re.compile(r"(?P<part>[\w.-]+), line (?P<line>\d+): ")


def line_of(message: str, text: str) -> int | None:
    """The line of a field's `text` that an error `message` names; None if it names none."""
    found = _WHERE.match(message)
    if not found:
        return None
    *_, last = found["part"].split(".")
    if found["part"].count(".") == 3 and last.isdigit():  # a list part: its Nth non-blank line
        items = [number for number, row in enumerate(text.splitlines(), 1) if row.strip()]
        return items[int(last)] if int(last) < len(items) else None
    return int(found["line"])
