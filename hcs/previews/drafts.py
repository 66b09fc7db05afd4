"""Previews of a whole version on every channel: saved, or unsaved as the author types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hcs.previews.channel import PreviewResult, preview
from templates_store import versioning
from templates_store.errors import NotFound, TemplateProblem, ValidationFailed
from templates_store.lookup import get_version
from templates_store.parts import iter_parts
from templates_store.samples import sample_named


@dataclass(frozen=True)
class ChannelPreview:
    """One channel and locale of an unsaved draft: its output, or why it did not render."""

    channel: str
    locale: str
    result: PreviewResult | None = None
    problem: str = ""
    part: str = ""  # the part that caused the problem, e.g. `sms.body.en`, when one did

    @property
    def said(self) -> str:
        """The problem for a person: without the part's internal name, which the page shows."""
        for prefix in (f"{self.part}, ", f"{self.part}: "):
            if self.part and self.problem.startswith(prefix):
                rest = self.problem.removeprefix(prefix)
                return rest[:1].upper() + rest[1:]
        return self.problem


@dataclass(frozen=True)
class DraftPreview:
    """Every channel and locale of an unsaved draft, or the errors that stop rendering it."""

    channels: list[ChannelPreview] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _one(
    session: Session,
    key: str,
    number: int,
    channel: str,
    locale: str,
    data: Mapping[str, Any] | None = None,
) -> ChannelPreview:
    try:
        result = preview(session, key, channel, locale=locale, version=number, data=data)
    except TemplateProblem as exc:
        return ChannelPreview(channel, locale, problem=str(exc), part=exc.part)
    except (ValidationFailed, NotFound) as exc:
        return ChannelPreview(channel, locale, problem=str(exc))
    return ChannelPreview(channel, locale, result=result)


def broken_parts(errors: Mapping[str, list[str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Per channel and locale, the part and message of each syntax error; empty if any other."""
    broken: dict[tuple[str, str], tuple[str, str]] = {}
    for key, messages in errors.items():
        tokens = key.split(".")
        if tokens[0] != "parts" or len(tokens) < 4:
            return {}
        broken.setdefault((tokens[1], tokens[3]), (".".join(tokens[1:]), messages[0]))
    return broken


def _without(changes: Mapping[str, Any], broken: Mapping[tuple[str, str], Any]) -> dict[str, Any]:
    parts = {
        channel: {loc: f for loc, f in locales.items() if (channel, loc) not in broken}
        for channel, locales in (changes.get("parts") or {}).items()
    }
    return {**changes, "parts": {c: locales for c, locales in parts.items() if locales}}


def preview_unsaved(
    session: Session,
    key: str,
    number: int,
    changes: Mapping[str, Any],
    sample: str | None = None,
) -> DraftPreview:
    """Render draft `number` as if `changes` were saved, then undo them (a savepoint).

    A part that does not compile shows its error in its own channel and locale; the others
    still render. `sample` names the sample set to render with (default: the default set).
    """
    savepoint = session.begin_nested()
    try:
        try:
            draft = versioning.update_draft(session, key, number, changes)
            broken = {}
        except ValidationFailed as exc:
            broken = broken_parts(exc.errors)
            if not broken:
                return DraftPreview(errors=exc.errors)
            draft = versioning.update_draft(session, key, number, _without(changes, broken))
        pairs = {(channel, locale) for channel, locale, _, _ in iter_parts(draft.parts)}
        data = sample_named(draft.sample_data, sample)
        shown = [
            ChannelPreview(c, loc, problem=broken[c, loc][1], part=broken[c, loc][0])
            if (c, loc) in broken
            else _one(session, key, number, c, loc, data)
            for c, loc in sorted(pairs | set(broken))
        ]
        return DraftPreview(shown)
    except ValidationFailed as exc:
        return DraftPreview(errors=exc.errors)
    finally:
        savepoint.rollback()


def render_unsaved(
    session: Session,
    key: str,
    number: int,
    changes: Mapping[str, Any],
    where: tuple[str, str],
    sample: str | None = None,
) -> ChannelPreview:
    """One channel and locale (`where`) of draft `number` as if `changes` were saved."""
    channel, locale = where
    savepoint = session.begin_nested()
    try:
        draft = versioning.update_draft(session, key, number, changes)
        data = sample_named(draft.sample_data, sample)
        return _one(session, key, number, channel, locale, data)
    except ValidationFailed as exc:
        return ChannelPreview(channel, locale, problem=str(exc))
    finally:
        savepoint.rollback()


def preview_saved(session: Session, key: str, number: int) -> DraftPreview:
    """Every channel and locale of a saved version, rendered with its sample data."""
    version = get_version(session, key, number)
    pairs = sorted({(channel, locale) for channel, locale, _, _ in iter_parts(version.parts)})
    return DraftPreview([_one(session, key, number, c, loc) for c, loc in pairs])


def render_saved(
    session: Session, key: str, number: int, channel: str, locale: str
) -> ChannelPreview:
    """One channel and locale of a saved version, rendered with its sample data."""
    return _one(session, key, number, channel, locale)
