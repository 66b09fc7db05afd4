"""Active content in email HTML: what a maintained sanitiser (nh3, i.e. ammonia) would remove.

The HTML is cleaned by nh3 with every tag and attribute it holds allowed except the active ones
(scripts, frames, forms and their fields, embedded objects, `on...` handlers) and with only
safe URL schemes; both versions are then walked with lxml's parser and whatever active thing
the original has and the cleaned one lacks is reported. nh3 decides what is dangerous (entity-
encoded and space-padded `javascript:` URLs included); lxml only lists it.
"""

from __future__ import annotations

from collections.abc import Iterator

import nh3
from lxml import html as lxml_html
from lxml.etree import ParserError

ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input"}
    | {"button", "textarea", "select", "option", "base", "portal", "noscript"}
)
ACTIVE_ATTRIBUTES = frozenset({"formaction", "srcdoc", "action"})
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "background", "poster", "data", "longdesc"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
Feature = tuple[str, str, str]  # (tag, attribute or "", URL or "")


def _tree(html: str) -> list[lxml_html.HtmlElement]:
    try:
        return list(lxml_html.document_fromstring(html).iter())
    except (ParserError, ValueError):
        return []


def _features(html: str) -> Iterator[Feature]:
    for element in _tree(html):
        tag = element.tag if isinstance(element.tag, str) else ""
        yield tag.lower(), "", ""
        for name, value in element.attrib.items():
            name = name.lower()
            yield tag.lower(), name, value.strip() if name in URL_ATTRIBUTES else ""


def _is_active(feature: Feature) -> bool:
    tag, attribute, url = feature
    if not attribute:
        return tag in ACTIVE_TAGS
    return attribute.startswith("on") or attribute in ACTIVE_ATTRIBUTES or bool(url)


def _cleaned(html: str, found: list[Feature]) -> str:
    tags = {tag for tag, attribute, _ in found if tag and not attribute} - ACTIVE_TAGS
    attributes: dict[str, set[str]] = {}
    for tag, attribute, _ in found:
        if attribute and not (attribute.startswith("on") or attribute in ACTIVE_ATTRIBUTES):
            attributes.setdefault(tag, set()).add(attribute)
    return nh3.clean(
        html,
        tags=tags,
        clean_content_tags={"script"} & {t for t, a, _ in found if not a},
        attributes=attributes,
        url_schemes=set(SAFE_SCHEMES),
        link_rel=None,
        strip_comments=False,
    )


def _described(feature: Feature) -> str:
    tag, attribute, url = feature
    if not attribute:
        return f"<{tag}> elements are not allowed in email"
    if attribute.startswith("on"):
        return f"event handler {attribute} on <{tag}> is not allowed in email"
    if url:
        return f"{attribute} on <{tag}> holds a URL that is not allowed: {url[:60]}"
    return f"attribute {attribute} on <{tag}> is not allowed in email"


def active_content(html: str) -> list[str]:
    """What of `html` is active content (empty when there is none), one message per kind."""
    found = list(_features(html))
    kept = set(_features(_cleaned(html, found)))
    removed = sorted({f for f in found if _is_active(f) and f not in kept})
    return [_described(f) for f in removed]
