"""Variable declarations and payloads validated against them, with errors naming each field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from templates_store.errors import ValidationFailed
from templates_store.variables import (
    DATA_CLASSES,
    VARIABLE_TYPES,
    Money,
    _flatten,
    _schema,
    check_declarations,
    load_payload,
    payload_loader,
)

ALL_TYPES = [
    {"name": "order_id", "type": "string", "required": True, "example": "A-1001"},
    {"name": "quantity", "type": "integer"},
    {"name": "weight", "type": "number"},
    {"name": "gift", "type": "boolean"},
    {"name": "due", "type": "date"},
    {"name": "ships_at", "type": "datetime"},
    {"name": "total", "type": "money", "example": {"amount": "12.50", "currency": "EUR"}},
    {"name": "email", "type": "email", "data_class": "personal"},
    {"name": "mobile", "type": "phone", "data_class": "personal"},
    {"name": "lines", "type": "list"},
    {"name": "address", "type": "object", "data_class": "sensitive", "description": "Postal"},
]

GOOD = {
    "order_id": "A-1001",
    "quantity": 3,
    "weight": "1.25",
    "gift": True,
    "due": "2026-03-01",
    "ships_at": "2026-03-01T09:30:00+01:00",
    "total": {"amount": "12.50", "currency": "eur"},
    "email": "Ana@Example.COM",
    "mobile": "+44 7400 123456",
    "lines": [{"sku": "T-1"}],
    "address": {"city": "Lyon"},
}


def errors_of(variables: Any, data: Any | None = None) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        if data is None:
            check_declarations(variables)
        else:
            load_payload(variables, data)
    return caught.value.errors


def test_the_type_and_data_class_vocabularies() -> None:
    assert VARIABLE_TYPES == (
        "string", "integer", "number", "boolean", "date", "datetime",
        "money", "email", "phone", "list", "object",
    )  # fmt: skip
    assert DATA_CLASSES == ("none", "personal", "sensitive")


def test_declarations_are_normalized_with_defaults() -> None:
    declared = check_declarations(ALL_TYPES)
    assert declared[0] == {
        "name": "order_id",
        "type": "string",
        "required": True,
        "data_class": "none",
        "example": "A-1001",
    }
    assert declared[1] == {
        "name": "quantity",
        "type": "integer",
        "required": False,
        "data_class": "none",
    }
    assert declared[-1]["description"] == "Postal"


@pytest.mark.parametrize(
    ("entry", "key", "message"),
    [
        ({"name": "x", "type": "text"}, "variables.1.type", "Must be one of"),
        ({"name": "x", "type": "string", "data_class": "secret"}, "variables.1.data_class", ""),
        ({"name": "1x", "type": "string"}, "variables.1.name", "Must start with a letter"),
        ({"name": "first-name", "type": "string"}, "variables.1.name", "Must start with a letter"),
        ({"name": "_x", "type": "string"}, "variables.1.name", "Must start with a letter"),
        ({"name": "brand", "type": "string"}, "variables.1.name", "'brand' is reserved"),
        ({"name": "loop", "type": "string"}, "variables.1.name", "is reserved"),
        ({"name": "for", "type": "string"}, "variables.1.name", "is reserved"),
        ({"name": "a", "type": "string"}, "variables.1.name", "'a' is declared twice"),
        ({"name": "x", "type": "string", "required": "yes"}, "variables.1.required", "true or"),
        ({"name": "x", "type": "string", "colour": "red"}, "variables.1.colour", "Unknown field"),
        ({"name": "x", "type": "integer", "example": "ten"}, "variables.1.example", "integer"),
        ({"name": "x", "type": "money", "example": {"amount": 1}}, "variables.1.example", ""),
    ],
)
def test_bad_declarations_are_refused_naming_the_entry_and_field(
    entry: dict[str, Any], key: str, message: str
) -> None:
    errors = errors_of([{"name": "a", "type": "string"}, entry])
    assert key in errors
    assert message in errors[key][0]


def test_all_declaration_errors_are_reported_at_once() -> None:
    errors = errors_of([{"name": "", "type": "?"}, "not an object"])
    assert set(errors) == {"variables.0.name", "variables.0.type", "variables.1"}


def test_declarations_must_be_a_list() -> None:
    assert errors_of({"name": "x"}) == {"variables": ["Must be a list of variable declarations."]}


def test_a_good_payload_is_converted_to_python_values() -> None:
    loaded = load_payload(ALL_TYPES, GOOD)
    assert loaded == {
        "order_id": "A-1001",
        "quantity": 3,
        "weight": Decimal("1.25"),
        "gift": True,
        "due": date(2026, 3, 1),
        "ships_at": datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        "total": Money(Decimal("12.50"), "EUR"),
        "email": "Ana@example.com",
        "mobile": "+447400123456",
        "lines": [{"sku": "T-1"}],
        "address": {"city": "Lyon"},
    }
    assert loaded["ships_at"].astimezone(UTC).hour == 8


def test_optional_variables_default_to_none() -> None:
    loaded = load_payload(ALL_TYPES, {"order_id": "A-1"})
    assert loaded["order_id"] == "A-1"
    assert loaded["quantity"] is None and loaded["total"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "3", "Not a valid integer"),
        ("quantity", 2.5, "Not a valid integer"),
        ("quantity", True, "Not a valid integer"),
        ("weight", "heavy", "Not a valid number"),
        ("weight", "1e999", "out of range"),
        ("weight", "NaN", "Not a valid number"),
        ("gift", "perhaps", "Not a valid boolean"),
        ("due", "01/03/2026", "Not a valid date"),
        ("ships_at", "2026-03-01T09:30:00", "Not a valid aware datetime"),
        ("total", {"amount": "12.50", "currency": "XYZ"}, "ISO 4217"),
        ("total", {"amount": "twelve", "currency": "EUR"}, "Not a valid number"),
        ("total", "12.50 EUR", 'Expected {"amount"'),
        ("email", "not-an-email", "Not a valid email address"),
        ("email", "ana@", "Not a valid email address"),
        ("mobile", "07400 123456", "use +country code"),
        ("mobile", "+44 7700 900123", "Not a valid phone number"),
        ("lines", "a,b", "Not a valid list"),
        ("address", ["Lyon"], "Not a valid mapping"),
        ("order_id", 12, "Not a valid string"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    errors = errors_of(ALL_TYPES, {**GOOD, field: value})
    assert list(errors) == [f"data.{field}"]
    assert message in errors[f"data.{field}"][0]


def test_a_missing_required_field_is_named() -> None:
    errors = errors_of(ALL_TYPES, {"quantity": 1})
    assert errors == {"data.order_id": ["Missing data for required field."]}


def test_a_required_field_may_not_be_null() -> None:
    assert "data.order_id" in errors_of(ALL_TYPES, {"order_id": None})


def test_unknown_fields_are_refused() -> None:
    errors = errors_of(ALL_TYPES, {**GOOD, "coupon": "X", "secret": 1})
    assert errors == {"data.coupon": ["Unknown field."], "data.secret": ["Unknown field."]}


def test_every_bad_field_is_reported() -> None:
    errors = errors_of(ALL_TYPES, {"quantity": "many", "email": "x"})
    assert set(errors) == {"data.order_id", "data.quantity", "data.email"}


def test_the_payload_must_be_an_object() -> None:
    assert errors_of(ALL_TYPES, ["A-1"]) == {"data": ["Must be an object."]}  # type: ignore[arg-type]


def test_bad_declarations_are_reported_when_loading_too() -> None:
    assert "variables.0.type" in errors_of([{"name": "x", "type": "?"}], {"x": 1})


def test_the_schema_is_built_once_per_declaration() -> None:
    from templates_store.variables import _schema

    before = _schema.cache_info().hits
    load_payload(ALL_TYPES, GOOD)
    load_payload([dict(entry) for entry in ALL_TYPES], GOOD)
    assert _schema.cache_info().hits >= before + 2


# Payloads near every rule of the four kinds the quick loader reads (text, dates, lists,
# objects): blanks, nulls inside lists, keys that are not text, dates in other ISO forms, other
# JSON types where each kind is declared, missing and unknown fields.
_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)
)
_VALUES = {
    "string": st.one_of(
        st.text(max_size=8), st.sampled_from(["", " ", "\t\n", "é"]), _JSON_SCALARS
    ),
    "date": st.one_of(
        st.dates().map(date.isoformat),
        st.sampled_from(["2026-02-30", "20261123", "2026-W47-1", "2026-1-5", "٢٠٢٦-11-23", ""]),
        _JSON_SCALARS,
    ),
    "list": st.one_of(st.lists(_JSON_SCALARS, max_size=3), _JSON_SCALARS, st.just({"a": 1})),
    "object": st.one_of(
        st.dictionaries(st.text(max_size=3), _JSON_SCALARS, max_size=3),
        st.just({1: "a"}),
        st.lists(_JSON_SCALARS, max_size=2),
        _JSON_SCALARS,
    ),
}
_JSON = st.recursive(_JSON_SCALARS, lambda inner: st.lists(inner, max_size=2), max_leaves=4)
_GOOD = {
    "string": st.text(min_size=1, max_size=8),
    "date": st.dates().map(date.isoformat),
    "list": st.lists(_JSON.filter(lambda item: item is not None), max_size=3),
    "object": st.dictionaries(st.text(max_size=3), _JSON, max_size=3),
}
_DECLARED = st.lists(
    st.tuples(st.sampled_from(sorted(_VALUES)), st.booleans()), min_size=1, max_size=4
).map(lambda kinds: [{"name": f"v{n}", "type": t, "required": r} for n, (t, r) in enumerate(kinds)])


@st.composite
def _declared_and_payload(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[Any, Any]]:
    declared = draw(_DECLARED)
    payload: dict[Any, Any] = {}
    for entry in declared:
        if draw(st.integers(0, 5)):  # mostly present
            good = draw(st.integers(0, 9)) < 6  # mostly a plainly good value
            values = _GOOD if good else _VALUES
            payload[entry["name"]] = draw(values[entry["type"]])
    if draw(st.integers(0, 9)) == 0:
        payload[draw(st.sampled_from(["extra", "v9", 3]))] = "x"
    return declared, payload


@settings(max_examples=2000, deadline=None)
@given(_declared_and_payload())
def test_a_payload_loads_exactly_as_the_marshmallow_schema_loads_it(
    case: tuple[list[dict[str, Any]], dict[Any, Any]],
) -> None:
    declared, payload = case
    schema = _schema(json.dumps(declared, sort_keys=True))
    try:
        expected: Any = list(schema.load(dict(payload)).items())
    except ValidationError as exc:
        expected = _flatten("data", exc.messages)
    try:
        loaded: Any = list(payload_loader(declared)(payload).items())
    except ValidationFailed as exc:
        loaded = exc.errors
    assert loaded == expected
    if isinstance(expected, list):  # loaded: the same values, of the same types, in order
        assert [type(value) for _, value in loaded] == [type(value) for _, value in expected]
