"""Previews: a version rendered with sample or given data, and what each channel warns about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from channels.core import Category, Issue, warning
from channels.invisible import strip_data
from hcs.channels.registry import CHANNELS
from templates_store.composing import Rendered, preview_extras, render_channel
from templates_store.errors import ValidationFailed
from templates_store.lookup import get_template, get_version, published_version
from templates_store.models import TemplateVersion
from templates_store.samples import default_sample
from templates_store.variables import load_payload


@dataclass(frozen=True)
class PreviewResult:
    """One channel's rendered output and the warnings an author should see."""

    rendered: Rendered
    output: dict[str, Any]
    warnings: list[Issue]


def channel_issues(channel: str, category: str, parts: Mapping[str, Any]) -> list[Issue]:
    """The channel adapter's validation of rendered parts."""
    return CHANNELS[channel].issues(Category(category), parts)


def _output(rendered: Rendered) -> dict[str, Any]:
    return {**rendered.parts, **CHANNELS[rendered.channel].preview_extras(rendered)}


def pick_version(session: Session, key: str, number: int | None) -> TemplateVersion:
    """The version asked for, else the published one: what a send would send.

    A draft renders only when named, and then watermarked.
    """
    if number is not None:
        return get_version(session, key, number)
    published = published_version(get_template(session, key))
    if published is None:
        message = f"template {key!r} has no published version; name a version to preview it"
        raise ValidationFailed({"version": [message]})
    return published


def preview(
    session: Session,
    key: str,
    channel: str,
    *,
    locale: str | None = None,
    data: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> PreviewResult:
    """Render one channel of a version with `data` (default: its sample data)."""
    chosen = pick_version(session, key, version)
    if channel not in chosen.template.channels:
        raise ValidationFailed({"channel": [f"template {key!r} does not serve {channel}"]})
    given, cleaned = strip_data(
        dict(default_sample(chosen.sample_data) if data is None else data), "data"
    )
    payload = load_payload(chosen.variables, given)
    rendered = render_channel(
        session, chosen, channel, locale, payload, extra=preview_extras(chosen)
    )
    issues = channel_issues(channel, chosen.template.category, rendered.unmarked)
    return PreviewResult(rendered, _output(rendered), _cleaning_issues(cleaned) + issues)


def _cleaning_issues(cleaned: list[str]) -> list[Issue]:
    """A warning naming the data fields invisible characters were taken out of, if any."""
    if not cleaned:
        return []
    fields = ", ".join(name.removeprefix("data.") for name in cleaned)
    message = f"invisible characters (bidi controls, zero-width, tags) were removed from {fields}"
    return [warning("invisible_characters", message, "data")]
