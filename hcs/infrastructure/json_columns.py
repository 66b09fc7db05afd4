"""JSON columns read by orjson, where it reads exactly what the json module reads.

A worker reads every message's `to`, `data` and metadata columns each round, and the json
module spent 7 µs on the benchmark's 373-byte `data` (bytes from psycopg, text from SQLite)
where orjson spends 1.5. orjson differs in two ways, both sent back to the json module: it
refuses what is not strict JSON (a lone surrogate escape, `NaN` as `json.dumps` writes it),
and it reads an integer beyond 64 bits as a float, so text with a run of 19 digits (in a
number or in a string, it does not look) is read by the json module.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_TEXT_NUMBER = re.compile(r"[0-9]{19}")
_LONG_BYTES_NUMBER = re.compile(rb"[0-9]{19}")


def loads(text: str | bytes) -> Any:
    """The JSON value of a column, as `json.loads` reads it."""
    if isinstance(text, bytes):
        is_long = _LONG_BYTES_NUMBER.search(text) is not None
    else:
        is_long = _LONG_TEXT_NUMBER.search(text) is not None
    if not is_long:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # not strict JSON: the json module reads more
    return json.loads(text)
