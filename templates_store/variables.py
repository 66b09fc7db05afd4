"""Variable schemas: the declarations a version makes, and payloads checked against them."""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Any, NamedTuple

import phonenumbers
from babel import numbers
from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields

from templates_store.errors import ValidationFailed
from templates_store.sandbox import JINJA_NAMES, RESERVED_NAMES

VARIABLE_TYPES = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "money",
    "email",
    "phone",
    "list",
    "object",
)
DATA_CLASSES = ("none", "personal", "sensitive")
_KEYS = ("name", "type", "required", "data_class", "example", "description")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_JINJA_WORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "none", "true", "false"})
_MAX_EXPONENT = 30


class Money(NamedTuple):
    """An amount of money in an ISO 4217 currency."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError("Not a valid number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError("Not a valid number.") from None
    if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT:
        raise ValidationError("Not a valid number, or out of range.")
    return number


class MoneyField(fields.Field[Money]):
    """{"amount": "12.50", "currency": "EUR"} -> Money."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Money:
        if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
            raise ValidationError('Expected {"amount": ..., "currency": ...}.')
        currency = value["currency"]
        if not isinstance(currency, str) or not numbers.is_currency(currency.upper()):
            raise ValidationError("Not a known ISO 4217 currency code.")
        return Money(_decimal(value["amount"]), currency.upper())


class EmailField(fields.Field[str]):
    """An email address, checked and normalized by email-validator (no DNS lookups)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError("Not a valid email address.")
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(f"Not a valid email address: {exc}") from None


class PhoneField(fields.Field[str]):
    """A phone number in international form, returned as E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            number = phonenumbers.parse(str(value), None)
        except phonenumbers.NumberParseException:
            raise ValidationError("Not a valid phone number (use +country code).") from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError("Not a valid phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NumberField(fields.Field[Decimal]):
    """A decimal number within a sane range."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        return _decimal(value)


_FIELDS: dict[str, Callable[..., fields.Field[Any]]] = {
    "string": fields.String,
    "integer": partial(fields.Integer, strict=True),
    "number": NumberField,
    "boolean": fields.Boolean,
    "date": fields.Date,
    "datetime": partial(fields.AwareDateTime, format="iso"),
    "money": MoneyField,
    "email": EmailField,
    "phone": PhoneField,
    "list": lambda **options: fields.List(fields.Raw(), **options),
    "object": lambda **options: fields.Dict(keys=fields.String(), **options),
}


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be empty.")


def _field(kind: str, required: bool) -> fields.Field[Any]:
    if required and kind == "string":  # "Dear ," is no greeting: a required text has text
        return fields.String(required=True, validate=_not_blank)
    if required:
        return _FIELDS[kind](required=True)
    return _FIELDS[kind](load_default=None, allow_none=True)


def _declaration_errors(index: int, entry: Any, seen: set[str]) -> dict[str, list[str]]:
    at = f"variables.{index}"
    if not isinstance(entry, Mapping):
        return {at: ["Each variable must be an object."]}
    errors = {f"{at}.{key}": ["Unknown field."] for key in entry if key not in _KEYS}
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        errors[f"{at}.name"] = [
            "Must start with a letter; letters, digits and _ only (64 at most)."
        ]
    elif name in RESERVED_NAMES | JINJA_NAMES | _JINJA_WORDS or keyword.iskeyword(name):
        errors[f"{at}.name"] = [f"{name!r} is reserved."]
    elif name in seen:
        errors[f"{at}.name"] = [f"{name!r} is declared twice."]
    if entry.get("type") not in VARIABLE_TYPES:
        errors[f"{at}.type"] = [f"Must be one of: {', '.join(VARIABLE_TYPES)}."]
    if entry.get("data_class", "none") not in DATA_CLASSES:
        errors[f"{at}.data_class"] = [f"Must be one of: {', '.join(DATA_CLASSES)}."]
    if not isinstance(entry.get("required", False), bool):
        errors[f"{at}.required"] = ["Must be true or false."]
    if not isinstance(entry.get("description", ""), str):
        errors[f"{at}.description"] = ["Must be text."]
    return errors


def _example_errors(index: int, entry: Mapping[str, Any]) -> dict[str, list[str]]:
    if entry.get("example") is None:
        return {}
    try:
        _field(entry["type"], True).deserialize(entry["example"])
    except ValidationError as exc:
        return {f"variables.{index}.example": _messages(exc.messages)}
    return {}


def _normalized(entry: Mapping[str, Any]) -> dict[str, Any]:
    result = {
        "name": entry["name"],
        "type": entry["type"],
        "required": entry.get("required", False),
        "data_class": entry.get("data_class", "none"),
    }
    result.update({k: entry[k] for k in ("example", "description") if entry.get(k) is not None})
    return result


def check_declarations(variables: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate a version's variable declarations; return them with defaults filled in."""
    if isinstance(variables, str | bytes) or not isinstance(variables, Sequence):
        raise ValidationFailed({"variables": ["Must be a list of variable declarations."]})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(variables):
        found = _declaration_errors(index, entry, seen)
        if not found:
            found = _example_errors(index, entry)
        errors.update(found)
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            seen.add(entry["name"])
    if errors:
        raise ValidationFailed(errors)
    return [_normalized(entry) for entry in variables]


@lru_cache(maxsize=512)
def _schema(canonical: str) -> Schema:
    declared = check_declarations(json.loads(canonical))
    shape = {entry["name"]: _field(entry["type"], entry["required"]) for entry in declared}
    schema: Schema = Schema.from_dict(shape, name="Payload")()
    return schema


_NO = object()  # a quick reader's answer: not plainly good, ask the schema


def _quick_text(value: Any, required: bool) -> Any:
    if type(value) is str and (not required or not value.isspace() and value):
        return value
    return _NO


def _quick_date(value: Any, required: bool) -> Any:
    if type(value) is str:  # what fields.Date reads a string with
        try:
            return date.fromisoformat(value)
        except ValueError:
            return _NO
    return _NO


def _quick_list(value: Any, required: bool) -> Any:
    if type(value) is list and all(item is not None for item in value):
        return list(value)
    return _NO


def _quick_object(value: Any, required: bool) -> Any:
    if type(value) is dict and all(type(key) is str for key in value):
        return dict(value)
    return _NO


# The kinds most payloads are made of, read without marshmallow when a value is plainly good: the
# same result as the schema's (tests/unit/test_variables.py compares them on generated
# payloads), 3.5 µs where the schema took 25 for the bench's order email, paid once a message at
# acceptance and again at finishing. Anything else (a null, a blank, an unknown field, another
# kind) goes the whole way, so every refusal and its message are the schema's.
_QUICK: dict[str, Callable[[Any, bool], Any]] = {
    "string": _quick_text,
    "date": _quick_date,
    "list": _quick_list,
    "object": _quick_object,
}


def _quick_loader(
    variables: Sequence[Mapping[str, Any]],
) -> Callable[[Mapping[str, Any]], dict[str, Any] | None] | None:
    """The quick reading of payloads of these declarations, if every kind has one (None: not)."""
    try:
        plan = [(e["name"], _QUICK[e["type"]], e.get("required", False)) for e in variables]
    except (KeyError, TypeError):
        return None
    names = frozenset(name for name, _, _ in plan)
    if len(names) != len(plan):
        return None

    def quick(data: Mapping[str, Any]) -> dict[str, Any] | None:
        if not names.issuperset(data):
            return None
        loaded: dict[str, Any] = {}
        for name, read, required in plan:
            value = data.get(name)
            if value is None:
                if required:
                    return None
                loaded[name] = None
                continue
            loaded[name] = read(value, required)
            if loaded[name] is _NO:
                return None
        return loaded

    return quick


def payload_loader(
    variables: Sequence[Mapping[str, Any]],
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function that validates and converts payloads against these declarations.

    For callers that check many payloads against one schema: the declarations are checked and
    compiled once, here.
    """
    if isinstance(variables, str | bytes) or not isinstance(variables, Sequence):
        raise ValidationFailed({"variables": ["Must be a list of variable declarations."]})
    schema = _schema(json.dumps(list(variables), sort_keys=True, default=str))
    quick = _quick_loader(variables)

    def load(data: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValidationFailed({"data": ["Must be an object."]})
        if quick is not None and (read := quick(data)) is not None:
            return read
        try:
            loaded: dict[str, Any] = schema.load(dict(data))
        except ValidationError as exc:
            raise ValidationFailed(_flatten("data", exc.messages)) from None
        return loaded

    return load


def load_payload(variables: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert a payload against the declarations; errors name each field."""
    return payload_loader(variables)(data)


def _messages(messages: Any) -> list[str]:
    if isinstance(messages, list):
        return [str(m) for m in messages]
    return [message for found in _flatten("", messages).values() for message in found]


def _flatten(prefix: str, messages: Any) -> dict[str, list[str]]:
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(_flatten(f"{prefix}.{key}" if prefix else str(key), value))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix: list(messages)}
    return {prefix: [str(messages)]}
