"""JSON columns are read by orjson where it reads exactly what the json module would."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hcs.infrastructure.json_columns import loads

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson makes those floats
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _typed(value: Any) -> Any:
    """The value with each number's type kept: 1 and 1.0 and True are not the same data."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, repr(value))


@settings(max_examples=400)
@given(VALUES)
def test_a_column_reads_back_what_the_json_module_reads(value: Any) -> None:
    text = json.dumps(value)
    assert _typed(loads(text)) == _typed(json.loads(text))
    assert _typed(loads(text.encode())) == _typed(json.loads(text))


def test_what_orjson_would_read_otherwise_is_read_by_the_json_module() -> None:
    for text in (
        '{"account": 123456789012345678901234567890}',  # orjson: 1.2345678901234568e+29
        "[18446744073709551616, -9223372036854775809]",
        '"\\ud800"',  # a lone surrogate: orjson refuses it
        '{"x": NaN, "y": Infinity}',  # written by json.dumps's defaults
        "1e400",
    ):
        assert _typed(loads(text)) == _typed(json.loads(text)), text
        assert _typed(loads(text.encode())) == _typed(json.loads(text)), text
