"""The shape of a version's content: which parts each channel has, and how they are checked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from templates_store.errors import ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.visual_document import clean_document
from templates_store.visual_email import compile_email

# Per channel, each field and how it renders: "html" (autoescaped), "text", "css" or "list";
# "blocks" is the visual editor's document, the source the email's html and text compile from.
PART_FIELDS: dict[str, dict[str, str]] = {
    "email": {"subject": "text", "blocks": "blocks", "html": "html", "text": "text"},
    "sms": {"body": "text"},
    "chat": {"body": "text", "quick_replies": "list"},
    "letter": {"html": "html", "css": "css"},
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "html"),
    "sms": ("body",),
    "chat": ("body",),
    "letter": ("html",),
}
MAX_SOURCE_CHARS = 200_000


def part_name(channel: str, field: str, locale: str) -> str:
    """The name authors see for one part, e.g. `email.html.en`."""
    return f"{channel}.{field}.{locale}"


def iter_parts(parts: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """Every (channel, locale, field, value) in a version's parts, in a stable order."""
    for channel in sorted(parts):
        for locale in sorted(parts[channel]):
            for field in sorted(parts[channel][locale]):
                yield channel, locale, field, parts[channel][locale][field]


def iter_sources(parts: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Every template source as (part name, kind, source); quick replies count one by one."""
    for channel, locale, field, value in iter_parts(parts):
        kind = PART_FIELDS[channel][field]
        name = part_name(channel, field, locale)
        if kind == "blocks":
            continue  # data, not template source: its compiled html and text are the sources
        if kind == "list":
            for index, item in enumerate(value):
                yield f"{name}.{index}", "text", item
        else:
            yield name, kind, value


def _clean_field(where: str, kind: str, value: Any, errors: dict[str, list[str]]) -> Any:
    if kind == "blocks":
        try:
            return clean_document(value, where)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[where] = ["must be a list of strings"]
        return value
    if not isinstance(value, str):
        errors[where] = ["must be a string"]
    elif len(value) > MAX_SOURCE_CHARS:
        errors[where] = [f"is longer than {MAX_SOURCE_CHARS} characters"]
    else:
        # Browsers post text areas with CRLF: stored as LF, a git round trip changes nothing.
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def clean_parts(parts: Any, channels: list[str]) -> dict[str, Any]:
    """Check the nesting channel → locale → field, normalising locales; raise naming the part."""
    if not isinstance(parts, dict):
        raise ValidationFailed({"parts": ["must be an object of channels"]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for channel, locales in parts.items():
        if channel not in channels:
            errors[f"parts.{channel}"] = [f"the template does not serve channel {channel!r}"]
            continue
        if not isinstance(locales, dict):
            errors[f"parts.{channel}"] = ["must be an object of locales"]
            continue
        for raw_locale, fields in locales.items():
            try:
                locale = normalize_locale(raw_locale)
            except ValidationFailed:
                errors[f"parts.{channel}.{raw_locale}"] = ["is not a known locale"]
                continue
            if not isinstance(fields, dict):
                errors[f"parts.{channel}.{locale}"] = ["must be an object of fields"]
                continue
            for field, value in fields.items():
                where = f"parts.{channel}.{locale}.{field}"
                if field not in PART_FIELDS[channel]:
                    allowed = ", ".join(PART_FIELDS[channel])
                    errors[where] = [f"unknown field; {channel} has {allowed}"]
                    continue
                cleaned.setdefault(channel, {}).setdefault(locale, {})[field] = _clean_field(
                    where, PART_FIELDS[channel][field], value, errors
                )
    if errors:
        raise ValidationFailed(errors)
    return compile_documents(cleaned)


def compile_documents(parts: dict[str, Any]) -> dict[str, Any]:
    """Each email part with a block document gets the html and text compiled from it."""
    for locale, fields in parts.get("email", {}).items():
        if "blocks" in fields:
            fields.update(compile_email(fields["blocks"], locale=locale))
            if len(fields["html"]) > MAX_SOURCE_CHARS:
                where = f"parts.email.{locale}.blocks"
                raise ValidationFailed(
                    {where: [f"compiles to more than {MAX_SOURCE_CHARS} characters"]}
                )
    return parts


def beside_designs(parts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (locale, field) of each email html or text given next to a design it compiles from."""
    return [
        (locale, field)
        for locale, fields in sorted(parts.get("email", {}).items())
        if "blocks" in fields
        for field in ("html", "text")
        if field in fields
    ]


def with_compiled(parts: dict[str, Any]) -> dict[str, Any]:
    """Parts read from files, each valid design with its compiled html and text (as stored)."""
    for locale, fields in parts.get("email", {}).items():
        try:
            fields["blocks"] = clean_document(fields["blocks"])
        except (KeyError, ValidationFailed):
            continue  # no design, or one that creating the draft refuses, naming the block
        fields.update(compile_email(fields["blocks"], locale=locale))
    return parts


def source_digest(fields: Mapping[str, Any]) -> str:
    """A short digest of one locale's fields, to notice when a translation's source moved on."""
    text = "\x1e".join(f"{k}\x1f{fields[k]!r}" for k in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def track_translations(
    old_parts: Mapping[str, Any],
    new_parts: Mapping[str, Any],
    sources: Mapping[str, Any],
    default_locale: str,
) -> dict[str, Any]:
    """Record, for each translation that was edited, the default-locale source it now matches."""
    updated: dict[str, Any] = {}
    for channel, locales in new_parts.items():
        default = locales.get(default_locale)
        for locale, fields in locales.items():
            if locale == default_locale or default is None:
                continue
            previous = sources.get(channel, {}).get(locale)
            edited = old_parts.get(channel, {}).get(locale) != fields
            digest = source_digest(default) if edited or previous is None else previous
            updated.setdefault(channel, {})[locale] = digest
    return updated


def stale_translations(
    parts: Mapping[str, Any], sources: Mapping[str, Any], default_locale: str
) -> list[str]:
    """The `channel.locale` translations whose default-locale source changed after their edit."""
    stale = []
    for channel, locales in sorted(parts.items()):
        default = locales.get(default_locale)
        for locale in sorted(locales):
            recorded = sources.get(channel, {}).get(locale)
            if default is not None and recorded and recorded != source_digest(default):
                stale.append(f"{channel}.{locale}")
    return stale


def missing_required(
    parts: Mapping[str, Any], channels: list[str], locale: str
) -> dict[str, list[str]]:
    """The required fields each served channel lacks in the default locale."""
    errors: dict[str, list[str]] = {}
    for channel in channels:
        fields = parts.get(channel, {}).get(locale, {})
        for field in REQUIRED_FIELDS[channel]:
            if not str(fields.get(field, "")).strip():
                errors[f"parts.{channel}.{locale}.{field}"] = ["is required before submission"]
    return errors
