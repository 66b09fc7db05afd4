"""The one grammar for names that become paths: template, block and theme keys, asset names.

Every entry (API, web forms, file and zip import) checks names here, and export and import
check every path against the folder it must stay in, so a name can never leave its folder.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from templates_store.errors import ValidationFailed

#: template, block and theme keys: 3-100 lower-case letters, digits and inner dashes
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,98}[a-z0-9]\Z")
KEY_RULE = "use 3-100 lower-case letters, digits and dashes"
#: theme asset names: a file name of letters, digits, `_` and `-`, dot-separated (`logo.png`)
ASSET_PATTERN = re.compile(r"(?=.{1,100}\Z)[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\Z")
ASSET_RULE = "use a file name of letters, digits, '_', '-' and inner dots (e.g. logo.png)"


def is_key(value: object) -> bool:
    """Whether `value` is a valid template, block or theme key."""
    return isinstance(value, str) and KEY_PATTERN.match(value) is not None


def check_key(key: object, field: str = "key") -> str:
    """A stable key, else ValidationFailed naming `field`."""
    if not is_key(key):
        raise ValidationFailed({field: [KEY_RULE]})
    return str(key)


def check_asset_name(name: object, field: str = "assets") -> str:
    """A theme asset's file name, else ValidationFailed naming `field`."""
    if not isinstance(name, str) or ASSET_PATTERN.match(name) is None:
        raise ValidationFailed({field: [f"{str(name)[:100]!r}: {ASSET_RULE}"]})
    return name


def relative_path(name: str, field: str | None = None) -> PurePosixPath:
    """A relative path that stays in its folder: no absolute path, drive, `..`, `.` or `\\`."""
    path = PurePosixPath(name)
    parts = path.parts
    if (
        not parts
        or "\\" in name
        or "\0" in name
        or path.is_absolute()
        or any(p in ("", ".", "..") for p in parts)
        or ":" in parts[0]
    ):
        raise ValidationFailed({field or name: ["has a path outside its folder"]})
    return path


def inside(root: Path, name: str, field: str | None = None) -> Path:
    """`root / name`, refused when it would leave `root` or pass through a symbolic link."""
    target = root.joinpath(*relative_path(name, field).parts)
    step = root
    for part in relative_path(name, field).parts:
        step = step / part
        if step.is_symlink():
            raise ValidationFailed({field or name: ["is a symbolic link"]})
    if not target.resolve().is_relative_to(root.resolve()):
        raise ValidationFailed({field or name: ["has a path outside its folder"]})
    return target
