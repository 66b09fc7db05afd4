"""What customers would see, compared: two versions rendered with the same sample data, diffed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inscriptis import get_text
from sqlalchemy.orm import Session

from templates_store.composing import preview_extras, render_channel
from templates_store.diffing import PartDiff, diff_part
from templates_store.errors import NotFound, TemplateProblem, ValidationFailed
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS, part_name
from templates_store.samples import default_sample
from templates_store.variables import load_payload


def _seen(channel: str, field: str, value: Any) -> str | None:
    kind = PART_FIELDS[channel][field]
    if kind == "css":
        return None  # styles show in the rendered page, not as text
    if kind == "list":
        return "\n".join(value)
    return get_text(value).strip() if kind == "html" else str(value)


def rendered_text(
    session: Session, version: TemplateVersion, data: Mapping[str, Any]
) -> dict[str, str]:
    """Each part of `version` as a customer reads it, rendered with `data`."""
    seen: dict[str, str] = {}
    extra = preview_extras(version)
    for channel in sorted(version.parts):
        for locale in sorted(version.parts[channel]):
            try:
                payload = load_payload(version.variables, data)
                rendered = render_channel(session, version, channel, locale, payload, extra=extra)
            except (TemplateProblem, ValidationFailed, NotFound) as exc:
                seen[f"{channel}.{locale}"] = f"(does not render: {exc})"
                continue
            for field, value in rendered.unmarked.items():
                text = _seen(channel, field, value)
                if text is not None:
                    seen[part_name(channel, field, locale)] = text
    return seen


def diff_rendered(session: Session, old: TemplateVersion, new: TemplateVersion) -> list[PartDiff]:
    """Both versions rendered with the new one's sample data, diffed part by part."""
    sample = default_sample(new.sample_data)
    before = rendered_text(session, old, sample)
    after = rendered_text(session, new, sample)
    labels = (f"v{old.number}", f"v{new.number}")
    return [
        diff_part(name, before.get(name), after.get(name), labels)
        for name in sorted(before.keys() | after.keys())
    ]
