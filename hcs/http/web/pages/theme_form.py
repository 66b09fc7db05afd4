"""A brand theme's settings as a form: text, colour pickers, font lists and a logo upload."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from templates_store.errors import ValidationFailed

TEXT_SETTINGS = {
    "company_name": "Company name",
    "from_name": "Sender name",
    "support_email": "Support email",
    "support_phone": "Support phone",
    "website": "Website",
    "address": "Address",
}
COLOURS = {
    "primary": "Primary (buttons, links)",
    "text": "Text",
    "muted": "Muted text",
    "background": "Background",
}
DEFAULT_COLOURS = {
    "primary": "#0B5FFF",
    "text": "#1A1A1A",
    "muted": "#5F6B7A",
    "background": "#FFFFFF",
}
FONT_ROLES = {"body": "Body font", "heading": "Heading font"}
# Fonts every mail client and the letter renderer can show (DejaVu ships with it).
FONTS = (
    "DejaVu Sans",
    "DejaVu Serif",
    "Arial",
    "Helvetica",
    "Verdana",
    "Tahoma",
    "Trebuchet MS",
    "Georgia",
    "Times New Roman",
    "Courier New",
)
MAX_LOGO_BYTES = 512 * 1024
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}\Z")
# What a logo's first bytes must be for the type it claims: never trust the name or the header.
_SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "gif": (b"GIF8", "image/gif"),
}
_SVG_REFUSED = re.compile(
    rb"<script|<foreignobject|<!entity|<!doctype|\son\w+\s*=|href\s*=\s*['\"]\s*(?!#)", re.I
)


def settings_from(form: MultiDict[str, str], stored: dict[str, Any]) -> dict[str, Any]:
    """The stored settings with the form's fields written over them (other keys kept)."""
    settings = dict(stored)
    errors: dict[str, list[str]] = {}
    for key in TEXT_SETTINGS:
        value = form.get(f"settings.{key}", "").strip()
        if value:
            settings[key] = value
        else:
            settings.pop(key, None)
    colours = dict(settings.get("colors") or {})
    for key in COLOURS:
        value = form.get(f"settings.colors.{key}", "").strip()
        if value and not _COLOUR.match(value):
            errors[f"settings.colors.{key}"] = ["must be a colour such as #0B5FFF"]
        elif value:
            colours[key] = value.upper()
    settings["colors"] = colours
    fonts = dict(settings.get("fonts") or {})
    for key in FONT_ROLES:
        value = form.get(f"settings.fonts.{key}", "").strip()
        if value and value not in FONTS:
            errors[f"settings.fonts.{key}"] = [f"must be one of: {', '.join(FONTS)}"]
        elif value:
            fonts[key] = value
    settings["fonts"] = fonts
    if errors:
        raise ValidationFailed(errors)
    return settings


def logo_from(upload: FileStorage) -> tuple[str, dict[str, str], bytes]:
    """An uploaded logo's file name, its asset entry's type, and its bytes, once checked."""
    data = upload.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed({"logo": [f"is larger than {MAX_LOGO_BYTES // 1024} KB"]})
    for ext, (signature, content_type) in _SIGNATURES.items():
        if data.startswith(signature):
            return f"logo.{ext}", {"content_type": content_type}, data
    if data[:12].startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "logo.webp", {"content_type": "image/webp"}, data
    if _is_plain_svg(data):
        return "logo.svg", {"content_type": "image/svg+xml"}, data
    raise ValidationFailed({"logo": ["must be a PNG, JPEG, GIF, WebP or plain SVG image"]})


def _is_plain_svg(data: bytes) -> bool:
    """An SVG with no script, events, entities or outside references."""
    head = data.lstrip()[:512].lower()
    is_svg = head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)
    return is_svg and not _SVG_REFUSED.search(data)
