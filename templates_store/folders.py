"""The layout of templates, blocks and themes as files: which folder holds what, and how.

Layout of a folder::

    <template-key>/template.yaml            the manifest: metadata, variables, samples, AI slots
    <template-key>/email.subject.en.txt     one file per part: <channel>.<field>.<locale>.<ext>
    _blocks/<block-key>/block.yaml          a content block: name, description
    _blocks/<block-key>/html.en.j2          one file per format and locale
    _themes/<theme-key>/theme.yaml          a brand theme: name, settings, asset content types
    _themes/<theme-key>/assets/<name>       its files, byte for byte
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from templates_store.errors import ValidationFailed
from templates_store.names import KEY_RULE, is_key

EXTENSIONS = {"html": "j2", "text": "txt", "css": "css", "list": "yaml", "blocks": "json"}
BLOCK_EXTENSIONS = {"html": "j2", "text": "txt"}
MANIFEST_FIELDS = ("name", "description", "category", "channels", "default_locale", "owner_team")
PREFIXES = {"theme": "_themes/", "block": "_blocks/", "template": ""}
MANIFESTS = {"theme": "theme.yaml", "block": "block.yaml", "template": "template.yaml"}


@dataclass(frozen=True)
class Item:
    """One folder of a tree: a theme, a block or a template, by key."""

    kind: str
    key: str
    # Export the newest version whatever its status; else the newest approved or published one.
    drafts: bool = False

    @property
    def folder(self) -> str:
        """Its folder, relative to the tree's root: `_blocks/footer`, `order-confirmation`."""
        return f"{PREFIXES[self.kind]}{self.key}"

    @property
    def manifest(self) -> str:
        """Its manifest's name inside the folder."""
        return MANIFESTS[self.kind]


def items_in(source: Path) -> list[Item]:
    """Every folder of the tree at `source` with a manifest, themes first, then blocks.

    A tree holding a symbolic link, or a folder whose name is not a key, is refused whole.
    """
    if not source.is_dir() or source.is_symlink():
        raise ValidationFailed({"directory": [f"{source} is not a directory"]})
    refuse_links(source)
    found = [Item("theme", p.parent.name) for p in sorted(source.glob("_themes/*/theme.yaml"))]
    found += [Item("block", p.parent.name) for p in sorted(source.glob("_blocks/*/block.yaml"))]
    found += [Item("template", p.parent.name) for p in sorted(source.glob("*/template.yaml"))]
    errors = {item.folder: [KEY_RULE] for item in found if not is_key(item.key)}
    if errors:
        raise ValidationFailed(errors)
    return found


def refuse_links(source: Path) -> None:
    """Refuse a tree that holds any symbolic link: it could lead an import out of the tree."""
    links = []
    for folder, dirs, files in os.walk(source, followlinks=False):
        links += [Path(folder, name) for name in dirs + files if Path(folder, name).is_symlink()]
    if links:
        named = {str(p.relative_to(source)): ["is a symbolic link"] for p in sorted(links)[:20]}
        raise ValidationFailed(named)


def dump_yaml(data: Any) -> bytes:
    """YAML as the files hold it: in the data's own order, UTF-8, lines up to 100 characters."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text.encode("utf-8")
