"""Templates, blocks and themes as files, for review in git: export, and import as drafts.

The layout is described in `templates_store.folders`; writing it is `templates_store.exporting`.
An import reads every folder and creates a draft for each one that changed; a bad file anywhere
refuses the whole import, with every problem named by its file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store import blocks as block_store
from templates_store import versioning
from templates_store.errors import Conflict, TemplateStoreError, ValidationFailed
from templates_store.exporting import export_all
from templates_store.folders import BLOCK_EXTENSIONS, EXTENSIONS, MANIFEST_FIELDS, Item, items_in
from templates_store.models import ContentBlock, Template, Theme
from templates_store.names import check_asset_name, inside
from templates_store.parts import PART_FIELDS, beside_designs, with_compiled


@dataclass
class ImportReport:
    """What an import created: new drafts, and what matched the newest version already."""

    drafts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Templates, blocks and themes that did not exist before (their folders).
    created: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Folder:
    """One item as read from its files: its manifest and its content, not yet checked."""

    item: Item
    manifest: dict[str, Any]
    content: dict[str, Any]
    files: tuple[str, ...]
    # Files that could not be read, by name: the rest is read (and checked) all the same.
    problems: dict[str, list[str]] = field(default_factory=dict)


def _read(path: Path, name: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed({name: [f"is not UTF-8 text: {exc.reason}"]}) from exc


def _yaml(path: Path, name: str) -> Any:
    try:
        return yaml.safe_load(_read(path, name))
    except yaml.YAMLError as exc:
        raise ValidationFailed({name: [f"cannot be read as YAML: {exc}"]}) from exc


def _json(path: Path, name: str) -> Any:
    try:
        return json.loads(_read(path, name))
    except ValueError as exc:
        raise ValidationFailed({name: [f"cannot be read as JSON: {exc}"]}) from exc


def read_folder(source: Path, item: Item) -> Folder:
    """Read one item's files; a file that cannot be read is named in `problems`.

    Only a manifest that cannot be read raises: without it nothing else can be.
    """
    root = source / item.folder
    name = f"{item.folder}/{item.manifest}"
    manifest = _yaml(root / item.manifest, name)
    if not isinstance(manifest, dict) or manifest.get("key") != item.key:
        raise ValidationFailed({name: ["needs a 'key' equal to its folder's name"]})
    files = tuple(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()))
    readers = {"template": _template_content, "block": _block_content, "theme": _theme_content}
    problems: dict[str, list[str]] = {}
    content = readers[item.kind](root, item.folder, manifest, problems)
    return Folder(item, manifest, content, files, problems)


def _template_content(
    root: Path, folder: str, manifest: dict[str, Any], problems: dict[str, list[str]]
) -> dict[str, Any]:
    parts: dict[str, Any] = {}

    def read_part(path: Path, name: str) -> None:
        pieces = path.name.split(".")
        if len(pieces) != 4 or pieces[1] not in PART_FIELDS.get(pieces[0], {}):
            raise ValidationFailed({name: ["is not named <channel>.<field>.<locale>.<ext>"]})
        channel, part, locale, _ = pieces
        readers = {".yaml": _yaml, ".json": _json}
        value = readers.get(path.suffix, _read)(path, name)
        parts.setdefault(channel, {}).setdefault(locale, {})[part] = value

    _read_each(root, folder, "template.yaml", read_part, problems)
    for locale, name in beside_designs(parts):  # compiled from the design: an edit would be lost
        design = f"email.blocks.{locale}.json"
        problems[f"{folder}/email.{name}.{locale}.{EXTENSIONS[PART_FIELDS['email'][name]]}"] = [
            f"is compiled from {design}: change the design, or delete {design} to edit it by hand"
        ]
    return {
        "parts": with_compiled(parts),
        "variables": manifest.get("variables") or [],
        "sample_data": manifest.get("sample_data") or {},
        "ai_slots": manifest.get("ai_slots") or [],
    }


def _block_content(
    root: Path, folder: str, manifest: dict[str, Any], problems: dict[str, list[str]]
) -> dict[str, Any]:
    content: dict[str, Any] = {}

    def read_source(path: Path, name: str) -> None:
        pieces = path.name.split(".")
        if len(pieces) != 3 or BLOCK_EXTENSIONS.get(pieces[0]) != pieces[2]:
            raise ValidationFailed({name: ["is not named html.<locale>.j2 or text.<locale>.txt"]})
        content.setdefault(pieces[0], {})[pieces[1]] = _read(path, name)

    _read_each(root, folder, "block.yaml", read_source, problems)
    return content


def _read_each(
    root: Path,
    folder: str,
    manifest: str,
    read: Callable[[Path, str], None],
    problems: dict[str, list[str]],
) -> None:
    """`read` each file beside the manifest; a bad file goes to `problems`, the rest is read."""
    for path in sorted(p for p in root.iterdir() if p.is_file() and p.name != manifest):
        try:
            read(path, f"{folder}/{path.name}")
        except ValidationFailed as exc:
            problems.update(exc.errors)


def _theme_content(
    root: Path, folder: str, manifest: dict[str, Any], problems: dict[str, list[str]]
) -> dict[str, Any]:
    types = manifest.get("assets") or {}
    settings = manifest.get("settings") or {}
    if not isinstance(types, dict) or not isinstance(settings, dict):
        raise ValidationFailed({f"{folder}/theme.yaml": ["settings and assets must be mappings"]})
    assets = {}
    for asset, content_type in types.items():
        where = f"{folder}/assets/{asset}"
        try:
            path = inside(root / "assets", check_asset_name(asset, where), where)
        except ValidationFailed as exc:
            problems.update(exc.errors)
            continue
        if not path.is_file():
            problems[where] = ["is listed but missing"]
            continue
        data = base64.b64encode(path.read_bytes()).decode()
        assets[asset] = {"content_type": content_type, "data": data}
    return {"settings": settings, "assets": assets}


def check_folder(folder: Folder) -> None:
    """The checks an import makes that need no database, with errors named by file."""
    item, errors = folder.item, dict(folder.problems)
    try:
        if item.kind == "template":
            # The channels served are the database's business: an existing template keeps its.
            versioning.clean_content(folder.content, list(folder.content["parts"]))
        elif item.kind == "block":
            block_store.clean_block_content(folder.content)
        else:
            block_store.clean_assets(folder.content["assets"])
    except ValidationFailed as exc:
        errors.update(by_file(folder, exc.errors))
    if errors:
        raise ValidationFailed(errors)


def by_file(folder: Folder, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors keyed by the file they come from (`payment-due/sms.body.en.txt`)."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        file = _file_of(folder, key)
        shown = messages if file != folder.item.manifest else [f"{key}: {m}" for m in messages]
        named.setdefault(f"{folder.item.folder}/{file}", []).extend(shown)
    return named


def _file_of(folder: Folder, key: str) -> str:
    """The file an error key points at: `parts.sms.body.en` or `parts.sms.en.body` → the part."""
    tokens = key.split(".")
    if tokens[0] in ("parts", "content") and len(tokens) >= 4:
        wanted = ([tokens[1], tokens[2], tokens[3]], [tokens[1], tokens[3], tokens[2]])
        for name in folder.files:
            if name.split(".")[:3] in wanted:
                return name
    if tokens[0] == "content" and len(tokens) == 3:
        return next((n for n in folder.files if n.split(".")[:2] == tokens[1:]), key)
    if tokens[0] == "assets" and len(tokens) > 1:
        return f"assets/{key.removeprefix('assets.')}"
    return folder.item.manifest


def import_all(session: Session, source: Path, *, author: str) -> ImportReport:
    """Read a folder written by `export_all`; every change becomes a draft, never approved.

    Every folder is tried; when any fails, ValidationFailed names each bad file and the caller
    rolls back, so nothing is imported.
    """
    report, errors = ImportReport(), {}
    for item in items_in(source):
        try:
            folder = read_folder(source, item)
            errors.update(folder.problems)
            with session.begin_nested():
                _import_folder(session, folder, author, report)
                if folder.problems:  # checked all the same; now undo this folder
                    raise ValidationFailed(folder.problems)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        except Conflict as exc:
            errors[f"{item.folder}/{item.manifest}"] = [str(exc)]
    if errors:
        raise ValidationFailed(errors)
    return report


def _import_folder(session: Session, folder: Folder, author: str, report: ImportReport) -> None:
    importers = {"template": _import_template, "block": _import_block, "theme": _import_theme}
    try:
        importers[folder.item.kind](session, folder, author, report)
    except ValidationFailed as exc:
        raise ValidationFailed(by_file(folder, exc.errors)) from exc


def _import_template(session: Session, folder: Folder, author: str, report: ImportReport) -> None:
    manifest, key = folder.manifest, folder.item.key
    template = session.scalar(select(Template).where(Template.key == key))
    if template is None:
        fields = {name: manifest[name] for name in MANIFEST_FIELDS if name in manifest}
        versioning.create_template(
            session, key=key, theme_key=manifest.get("theme", "default"), **fields
        )
        report.created.append(key)
    elif template.versions and _same_content(template.versions[-1], folder.content):
        report.unchanged.append(key)
        return
    draft = versioning.create_draft(session, key, author=author, content=folder.content)
    report.drafts.append(f"{key} v{draft.number}")


def _same_content(version: Any, content: dict[str, Any]) -> bool:
    return all(getattr(version, name) == value for name, value in content.items())


def _import_block(session: Session, folder: Folder, author: str, report: ImportReport) -> None:
    manifest, key = folder.manifest, folder.item.key
    block = session.scalar(select(ContentBlock).where(ContentBlock.key == key))
    if block is None:
        block_store.create_block(
            session,
            key=key,
            name=manifest.get("name", key),
            description=manifest.get("description", ""),
        )
        report.created.append(folder.item.folder)
    elif block.versions and block.versions[-1].content == folder.content:
        report.unchanged.append(folder.item.folder)
        return
    draft = block_store.create_block_draft(session, key, author=author, content=folder.content)
    report.drafts.append(f"{folder.item.folder} v{draft.number}")


def _import_theme(session: Session, folder: Folder, author: str, report: ImportReport) -> None:
    key, settings, assets = folder.item.key, folder.content["settings"], folder.content["assets"]
    theme = session.scalar(select(Theme).where(Theme.key == key))
    if theme is None:
        block_store.create_theme(session, key=key, name=folder.manifest.get("name", key))
        report.created.append(folder.item.folder)
    elif theme.versions and (theme.versions[-1].settings, theme.versions[-1].assets) == (
        settings,
        assets,
    ):
        report.unchanged.append(folder.item.folder)
        return
    draft = block_store.create_theme_draft(
        session, key, author=author, settings=settings, assets=assets
    )
    report.drafts.append(f"{folder.item.folder} v{draft.number}")


__all__ = [
    "ImportReport",
    "TemplateStoreError",
    "check_folder",
    "export_all",
    "import_all",
    "read_folder",
]
