"""Templates, blocks and themes as files, for review in git: export, and import as drafts.

Layout of a folder::

    <template-key>/template.yaml            the manifest: metadata, variables, samples, AI slots
    <template-key>/email.subject.en.txt     one file per part: <channel>.<field>.<locale>.<ext>
    _blocks/<block-key>/block.yaml          a content block: name, description
    _blocks/<block-key>/html.en.j2          one file per format and locale
    _themes/<theme-key>/theme.yaml          a brand theme: name, settings, asset content types
    _themes/<theme-key>/assets/<name>       its files, byte for byte
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store import blocks as block_store
from templates_store import versioning
from templates_store.errors import TemplateStoreError, ValidationFailed
from templates_store.models import ContentBlock, Template, Theme
from templates_store.parts import PART_FIELDS, iter_parts

EXTENSIONS = {"html": "j2", "text": "txt", "css": "css", "list": "yaml"}
BLOCK_EXTENSIONS = {"html": "j2", "text": "txt"}
MANIFEST_FIELDS = ("name", "description", "category", "channels", "default_locale", "owner_team")


@dataclass
class ImportReport:
    """What an import created: new drafts, and what matched the newest version already."""

    drafts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _dump_yaml(path: Path, data: Any) -> None:
    path.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def export_all(session: Session, target: Path) -> list[str]:
    """Write the newest version of every template, block and theme under `target`."""
    written = []
    for theme in session.scalars(select(Theme).order_by(Theme.key)):
        if theme.versions:
            _export_theme(theme, target / "_themes" / theme.key)
            written.append(f"_themes/{theme.key}")
    for block in session.scalars(select(ContentBlock).order_by(ContentBlock.key)):
        if block.versions:
            _export_block(block, target / "_blocks" / block.key)
            written.append(f"_blocks/{block.key}")
    for template in session.scalars(select(Template).order_by(Template.key)):
        if template.versions:
            _export_template(template, target / template.key)
            written.append(template.key)
    return written


def _fresh_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.rglob("*"):
        if stale.is_file():
            stale.unlink()


def _export_template(template: Template, folder: Path) -> None:
    _fresh_dir(folder)
    version = template.versions[-1]
    manifest: dict[str, Any] = {"key": template.key}
    manifest.update({name: getattr(template, name) for name in MANIFEST_FIELDS})
    manifest["theme"] = template.theme_key
    manifest["variables"] = version.variables
    manifest["sample_data"] = version.sample_data
    manifest["ai_slots"] = version.ai_slots
    _dump_yaml(folder / "template.yaml", manifest)
    for channel, locale, name, value in iter_parts(version.parts):
        kind = PART_FIELDS[channel][name]
        path = folder / f"{channel}.{name}.{locale}.{EXTENSIONS[kind]}"
        if kind == "list":
            _dump_yaml(path, value)
        else:
            _write(path, value)


def _export_block(block: ContentBlock, folder: Path) -> None:
    _fresh_dir(folder)
    _dump_yaml(
        folder / "block.yaml",
        {"key": block.key, "name": block.name, "description": block.description},
    )
    for fmt, locales in sorted(block.versions[-1].content.items()):
        for locale, source in sorted(locales.items()):
            _write(folder / f"{fmt}.{locale}.{BLOCK_EXTENSIONS[fmt]}", source)


def _export_theme(theme: Theme, folder: Path) -> None:
    _fresh_dir(folder)
    version = theme.versions[-1]
    types = {name: asset["content_type"] for name, asset in sorted(version.assets.items())}
    _dump_yaml(
        folder / "theme.yaml",
        {"key": theme.key, "name": theme.name, "settings": version.settings, "assets": types},
    )
    (folder / "assets").mkdir(exist_ok=True)
    for name, asset in version.assets.items():
        (folder / "assets" / name).write_bytes(base64.b64decode(asset["data"]))


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_read(path))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed({str(path): [f"cannot be read as YAML: {exc}"]}) from exc
    if not isinstance(data, dict) or data.get("key") != path.parent.name:
        raise ValidationFailed({str(path): ["needs a 'key' equal to its folder's name"]})
    return data


def import_all(session: Session, source: Path, *, author: str) -> ImportReport:
    """Read a folder written by `export_all`; every change becomes a draft, never approved."""
    if not source.is_dir():
        raise ValidationFailed({"directory": [f"{source} is not a directory"]})
    report = ImportReport()
    for folder in sorted((source / "_themes").glob("*/theme.yaml")):
        _import_theme(session, folder, author, report)
    for folder in sorted((source / "_blocks").glob("*/block.yaml")):
        _import_block(session, folder, author, report)
    for manifest in sorted(source.glob("*/template.yaml")):
        try:
            _import_template(session, manifest, author, report)
        except ValidationFailed as exc:
            raise ValidationFailed(
                {f"{manifest.parent.name}/{k}": v for k, v in exc.errors.items()}
            ) from exc
    return report


def _read_parts(folder: Path) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.name == "template.yaml":
            continue
        pieces = path.name.split(".")
        if len(pieces) != 4 or pieces[1] not in PART_FIELDS.get(pieces[0], {}):
            raise ValidationFailed({path.name: ["is not <channel>.<field>.<locale>.<ext>"]})
        channel, name, locale, _ = pieces
        value = yaml.safe_load(_read(path)) if path.suffix == ".yaml" else _read(path)
        parts.setdefault(channel, {}).setdefault(locale, {})[name] = value
    return parts


def _import_template(session: Session, path: Path, author: str, report: ImportReport) -> None:
    manifest = _load_manifest(path)
    key = manifest["key"]
    content = {
        "parts": _read_parts(path.parent),
        "variables": manifest.get("variables") or [],
        "sample_data": manifest.get("sample_data") or {},
        "ai_slots": manifest.get("ai_slots") or [],
    }
    template = session.scalar(select(Template).where(Template.key == key))
    if template is None:
        fields = {name: manifest[name] for name in MANIFEST_FIELDS if name in manifest}
        versioning.create_template(
            session, key=key, theme_key=manifest.get("theme", "default"), **fields
        )
    elif template.versions and _same_content(template.versions[-1], content):
        report.unchanged.append(key)
        return
    draft = versioning.create_draft(session, key, author=author, content=content)
    report.drafts.append(f"{key} v{draft.number}")


def _same_content(version: Any, content: dict[str, Any]) -> bool:
    return all(getattr(version, name) == value for name, value in content.items())


def _import_block(session: Session, path: Path, author: str, report: ImportReport) -> None:
    manifest = _load_manifest(path)
    content: dict[str, Any] = {}
    for file in sorted(path.parent.iterdir()):
        if file.name != "block.yaml":
            fmt, locale, _ = file.name.split(".")
            content.setdefault(fmt, {})[locale] = _read(file)
    key = manifest["key"]
    block = session.scalar(select(ContentBlock).where(ContentBlock.key == key))
    if block is None:
        block_store.create_block(
            session,
            key=key,
            name=manifest.get("name", key),
            description=manifest.get("description", ""),
        )
    elif block.versions and block.versions[-1].content == content:
        report.unchanged.append(f"_blocks/{key}")
        return
    draft = block_store.create_block_draft(session, key, author=author, content=content)
    report.drafts.append(f"_blocks/{key} v{draft.number}")


def _import_theme(session: Session, path: Path, author: str, report: ImportReport) -> None:
    manifest = _load_manifest(path)
    key = manifest["key"]
    assets = {
        name: {
            "content_type": ctype,
            "data": base64.b64encode((path.parent / "assets" / name).read_bytes()).decode(),
        }
        for name, ctype in (manifest.get("assets") or {}).items()
    }
    settings = manifest.get("settings") or {}
    theme = session.scalar(select(Theme).where(Theme.key == key))
    if theme is None:
        block_store.create_theme(session, key=key, name=manifest.get("name", key))
    elif theme.versions and (theme.versions[-1].settings, theme.versions[-1].assets) == (
        settings,
        assets,
    ):
        report.unchanged.append(f"_themes/{key}")
        return
    draft = block_store.create_theme_draft(
        session, key, author=author, settings=settings, assets=assets
    )
    report.drafts.append(f"_themes/{key} v{draft.number}")


__all__ = ["ImportReport", "TemplateStoreError", "export_all", "import_all"]
