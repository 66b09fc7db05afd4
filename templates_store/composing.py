"""Rendering a whole version for one channel and locale, with its blocks and brand theme."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from templates_store.closure import Closure, resolve_closure
from templates_store.errors import NotFound, TemplateProblem
from templates_store.isolation import PartJob, render_isolated, render_jobs
from templates_store.locales import formatting_locale, resolve_locale
from templates_store.models import TemplateVersion
from templates_store.parts import PART_FIELDS, part_name
from templates_store.rendering import BlockSource, Limits
from templates_store.status import SENDABLE

DRAFT_BANNER = (
    '<div role="note" style="background:#b00020;color:#fff;padding:8px;'
    'font:bold 14px sans-serif;text-align:center">DRAFT PREVIEW: version {n} is {status}, '
    "not approved for sending</div>"
)
PREVIEW_UNSUBSCRIBE_URL = "https://unsubscribe.invalid/preview"
BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    """One version rendered for one channel and locale."""

    template: str
    version: int
    channel: str
    locale: str
    parts: dict[str, Any]
    closure_hash: str | None
    is_preview: bool
    # The parts without the draft watermark: what checks and channel validation read.
    unmarked: dict[str, Any]


def brand_of(closure: Closure) -> dict[str, Any]:
    """What templates see as `brand`: the theme's settings and the names of its assets."""
    theme = closure.theme
    if theme is None:
        return {}
    return {**theme.settings, "key": theme.theme.key, "assets": sorted(theme.assets)}


def block_sources(closure: Closure, locale: str, default: str) -> dict[str, BlockSource]:
    """Each pinned block's sources in the closest locale it has."""
    sources = {}
    for key, block in closure.blocks.items():
        html, text = block.content.get("html", {}), block.content.get("text", {})
        sources[key] = BlockSource(
            key=key,
            html=html.get(resolve_locale(html, locale, default) or ""),
            text=text.get(resolve_locale(text, locale, default) or ""),
        )
    return sources


def _watermark(parts: dict[str, Any], version: TemplateVersion) -> dict[str, Any]:
    banner = DRAFT_BANNER.format(n=version.number, status=version.status.value)
    marked = dict(parts)
    for field, value in parts.items():
        if field == "html":
            # inside the body, styled or not: a banner before the doctype makes quirks mode
            marked[field] = BODY_TAG.sub(lambda tag: tag[0] + banner, value, count=1)
            if marked[field] == value:
                marked[field] = banner + value
        elif field in ("subject", "body", "text"):
            marked[field] = "[DRAFT] " + value
    return marked


def _jobs(
    closure: Closure,
    sources: Mapping[str, Any],
    channel: str,
    locales: tuple[str, str],
    default_locale: str,
    context: Mapping[str, Any],
) -> tuple[list[PartJob], dict[str, int | None]]:
    """The parts to render, and each field's shape (None: one text, n: a list of n texts).

    `locales` is the content's locale (part names, blocks) and the one that formats values.
    """
    locale, formats = locales
    brand = brand_of(closure)
    blocks = block_sources(closure, locale, default_locale)
    jobs: list[PartJob] = []
    shape: dict[str, int | None] = {}
    for field, source in sources.items():
        name, kind = part_name(channel, field, locale), PART_FIELDS[channel][field]
        if kind == "blocks":
            continue  # the visual document renders through the html and text compiled from it
        if kind == "list":
            items = [(f"{name}.{i}", item, "text") for i, item in enumerate(source)]
            shape[field] = len(items)
        else:
            items = [(name, source, kind if kind in ("html", "css") else "text")]
            shape[field] = None
        for part, text, how in items:
            jobs.append(PartJob(text, part, how, formats, context, brand, blocks))
    return jobs, shape


def render_channel(
    session: Session,
    version: TemplateVersion,
    channel: str,
    locale: str | None,
    data: Mapping[str, Any],
    *,
    extra: Mapping[str, Any] | None = None,
    closure: Closure | None = None,
    limits: Limits = Limits(),
    isolated: bool = True,
) -> Rendered:
    """Render every part of one channel; drafts and versions in review come out watermarked.

    With `isolated` (the default) the parts render in a child process under hard limits
    (templates_store.isolation); only approved versions being sent may render in-process.
    """
    template = version.template
    available = version.parts.get(channel, {})
    chosen = resolve_locale(available, locale, template.default_locale)
    if chosen is None:
        raise NotFound(f"version {version.number} of {template.key!r} has no {channel} content")
    closure = closure or resolve_closure(session, version)
    context = {**data, **(extra or {})}
    sources, default = available[chosen], template.default_locale
    # blocks in the chosen locale's language; numbers and dates in the asked-for locale's format
    formats = formatting_locale(locale, chosen)
    jobs, shape = _jobs(closure, sources, channel, (chosen, formats), default, context)
    outputs = iter(render_isolated(jobs, limits) if isolated else render_jobs(jobs, limits))
    parts: dict[str, Any] = {
        field: [next(outputs) for _ in range(count)] if count is not None else next(outputs)
        for field, count in shape.items()
    }
    is_preview = version.status not in SENDABLE
    return Rendered(
        template=template.key,
        version=version.number,
        channel=channel,
        locale=chosen,
        parts=_watermark(parts, version) if is_preview else parts,
        closure_hash=version.closure_hash,
        is_preview=is_preview,
        unmarked=parts,
    )


def preview_extras(version: TemplateVersion) -> dict[str, Any]:
    """Stand-ins for previews: each AI slot's approved fallback, a dummy unsubscribe link."""
    extras: dict[str, Any] = {"unsubscribe_url": PREVIEW_UNSUBSCRIBE_URL, "recipient": {}}
    extras.update({slot["name"]: slot["fallback"] for slot in version.ai_slots})
    return extras


def render_all(
    session: Session, version: TemplateVersion, data: Mapping[str, Any], *, isolated: bool = True
) -> list[TemplateProblem]:
    """Render every channel and locale with `data`; the problems found, none when all render."""
    closure = resolve_closure(session, version)
    extra = preview_extras(version)
    problems = []
    for channel, locales in sorted(version.parts.items()):
        for locale in sorted(locales):
            try:
                render_channel(
                    session,
                    version,
                    channel,
                    locale,
                    data,
                    extra=extra,
                    closure=closure,
                    isolated=isolated,
                )
            except TemplateProblem as exc:
                problems.append(exc)
    return problems
