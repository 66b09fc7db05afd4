"""Templates, blocks and themes written as files (see `templates_store.folders`), for git."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store.closure import referenced_blocks
from templates_store.errors import ValidationFailed
from templates_store.folders import (
    BLOCK_EXTENSIONS,
    EXTENSIONS,
    MANIFEST_FIELDS,
    Item,
    dump_yaml,
)
from templates_store.lookup import get_block, get_template, get_theme
from templates_store.models import ContentBlock, Template, Theme, VersionMixin
from templates_store.names import check_asset_name, check_key, inside
from templates_store.parts import PART_FIELDS, beside_designs, iter_parts
from templates_store.status import Status

V = TypeVar("V", bound=VersionMixin)
# What an export holds by default: what was approved, not work in progress or refused.
EXPORTED = (Status.APPROVED, Status.PUBLISHED)


def exported_version(versions: Sequence[V], drafts: bool = False) -> V | None:
    """The newest approved or published version (with `drafts`, the newest of any status)."""
    chosen = [v for v in versions if drafts or v.status in EXPORTED]
    return max(chosen, key=lambda v: v.number) if chosen else None


def export_items(session: Session, key: str | None = None, *, drafts: bool = False) -> list[Item]:
    """What an export holds: everything with a version to export, or one template and its parts."""
    if key is not None:
        return _template_with_parts(session, key, drafts)
    themes = session.scalars(select(Theme).order_by(Theme.key))
    blocks = session.scalars(select(ContentBlock).order_by(ContentBlock.key))
    templates = session.scalars(select(Template).order_by(Template.key))
    found = [Item("theme", t.key, drafts) for t in themes if exported_version(t.versions, drafts)]
    found += [Item("block", b.key, drafts) for b in blocks if exported_version(b.versions, drafts)]
    return found + [
        Item("template", t.key, drafts) for t in templates if exported_version(t.versions, drafts)
    ]


def _template_with_parts(session: Session, key: str, drafts: bool) -> list[Item]:
    """The template's theme and the blocks its exported version includes, when they exist."""
    version = exported_version(get_template(session, key).versions, drafts)
    if version is None:
        return []
    theme = session.scalar(select(Theme).where(Theme.key == version.template.theme_key))
    found = []
    if theme is not None and exported_version(theme.versions, drafts):
        found.append(Item("theme", theme.key, drafts))
    used = sorted(referenced_blocks(version))
    blocks = session.scalars(
        select(ContentBlock).where(ContentBlock.key.in_(used)).order_by(ContentBlock.key)
    )
    found += [Item("block", b.key, drafts) for b in blocks if exported_version(b.versions, drafts)]
    return [*found, Item("template", key, drafts)]


def folder_files(session: Session, item: Item) -> dict[str, bytes]:
    """The files of one item's exported version, by their path inside its folder."""
    check_key(item.key, item.folder)
    if item.kind == "theme":
        return _theme_files(get_theme(session, item.key), item.drafts)
    if item.kind == "block":
        return _block_files(get_block(session, item.key), item.drafts)
    return _template_files(get_template(session, item.key), item.drafts)


def _chosen(versions: Sequence[V], drafts: bool, key: str) -> V:
    version = exported_version(versions, drafts)
    if version is None:
        raise ValidationFailed({key: ["has no approved or published version to export"]})
    return version


def _template_files(template: Template, drafts: bool) -> dict[str, bytes]:
    version = _chosen(template.versions, drafts, template.key)
    manifest = {"key": template.key, **{name: getattr(template, name) for name in MANIFEST_FIELDS}}
    manifest["theme"] = template.theme_key
    manifest["variables"] = version.variables
    manifest["sample_data"] = version.sample_data
    manifest["ai_slots"] = version.ai_slots
    files = {"template.yaml": dump_yaml(manifest)}
    designed = set(beside_designs(version.parts))
    for channel, locale, name, value in iter_parts(version.parts):
        kind = PART_FIELDS[channel][name]
        if (locale, name) in designed:
            continue  # compiled from the design, and compiled again on import

        path = f"{channel}.{name}.{locale}.{EXTENSIONS[kind]}"
        files[path] = dump_yaml(value) if kind == "list" else _encoded(kind, value)
    return files


def _encoded(kind: str, value: Any) -> bytes:
    if kind == "blocks":  # the visual document, as readable and stable as a diff wants it
        text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
        return (text + "\n").encode("utf-8")
    return str(value).encode("utf-8")


def _block_files(block: ContentBlock, drafts: bool) -> dict[str, bytes]:
    manifest = {"key": block.key, "name": block.name, "description": block.description}
    files = {"block.yaml": dump_yaml(manifest)}
    for fmt, locales in sorted(_chosen(block.versions, drafts, block.key).content.items()):
        for locale, source in sorted(locales.items()):
            files[f"{fmt}.{locale}.{BLOCK_EXTENSIONS[fmt]}"] = source.encode("utf-8")
    return files


def _theme_files(theme: Theme, drafts: bool) -> dict[str, bytes]:
    version = _chosen(theme.versions, drafts, theme.key)
    types = {name: asset["content_type"] for name, asset in sorted(version.assets.items())}
    manifest = {"key": theme.key, "name": theme.name, "settings": version.settings, "assets": types}
    files = {"theme.yaml": dump_yaml(manifest)}
    for name, asset in sorted(version.assets.items()):
        # a name stored before the grammar was enforced is refused, never written
        files[f"assets/{check_asset_name(name, f'{theme.key}/assets')}"] = base64.b64decode(
            asset["data"]
        )
    return files


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace what `folder` holds with `files` (a file gone from the version goes from disk)."""
    paths = {name: inside(folder, name) for name in files}  # all checked before any is written
    if folder.is_symlink():
        raise ValidationFailed({str(folder): ["is a symbolic link"]})
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.rglob("*"):
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    for name, data in files.items():
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        inside(folder, name).write_bytes(data)


def export_all(session: Session, target: Path, *, drafts: bool = False) -> list[str]:
    """Write the newest approved or published version (or with `drafts`, the newest) of every
    template, block and theme under `target`."""
    written = []
    for item in export_items(session, drafts=drafts):
        write_folder(inside(target, item.folder), folder_files(session, item))
        written.append(item.folder)
    return written
