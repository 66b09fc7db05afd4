"""Checks before submission: errors block submitting, warnings are shown to reviewers.

Each check reads the version's parts as rendered with its sample data; which checks run, and
how severe each is, is part of the category's policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from channels.core import Level
from hcs.channels.registry import CHANNELS
from hcs.governance.active_content import active_content
from hcs.governance.disclosure import submission_gaps
from hcs.governance.policies import Policy
from hcs.previews.channel import channel_issues
from templates_store.closure import referenced_blocks
from templates_store.composing import Rendered, preview_extras, render_channel
from templates_store.errors import TemplateProblem, ValidationFailed
from templates_store.models import TemplateVersion
from templates_store.parts import stale_translations
from templates_store.samples import default_sample
from templates_store.variables import load_payload

UNSUBSCRIBE_BLOCK = "unsubscribe"
AI_DISCLOSURE_BLOCK = "ai-disclosure"
Findings = Iterator[tuple[str, str]]
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One check's finding about one part."""

    check: str
    severity: str
    part: str
    message: str


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _rendered(session: Session, version: TemplateVersion) -> Iterator[Rendered]:
    data = load_payload(version.variables, default_sample(version.sample_data))
    extra = preview_extras(version)
    for channel in sorted(version.parts):
        for locale in sorted(version.parts[channel]):
            yield render_channel(session, version, channel, locale, data, extra=extra)


def _html_parts(rendered: list[Rendered]) -> Iterator[tuple[str, str]]:
    for item in rendered:
        if "html" in item.unmarked:
            yield f"{item.channel}.html.{item.locale}", item.unmarked["html"]


def check_required_blocks(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    used = referenced_blocks(version)
    template = version.template
    if template.category == "marketing" and "email" in template.channels:
        if UNSUBSCRIBE_BLOCK not in used:
            yield "email", f"marketing email must include {{{{ block('{UNSUBSCRIBE_BLOCK}') }}}}"
    if version.ai_slots and AI_DISCLOSURE_BLOCK not in used:
        yield "ai_slots", f"AI text must be disclosed with {{{{ block('{AI_DISCLOSURE_BLOCK}') }}}}"


def _allowed(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def check_link_domains(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    if not policy.link_domains:
        return
    for item in rendered:
        for field, value in item.unmarked.items():
            urls = URL_IN_TEXT.findall(value if isinstance(value, str) else " ".join(value))
            for url in sorted(set(urls)):
                host = (urlsplit(url).hostname or "").lower()
                if host and not _allowed(host, policy.link_domains):
                    yield f"{item.channel}.{field}.{item.locale}", f"links to {host}, not allowed"


def check_image_alt(version: TemplateVersion, rendered: list[Rendered], policy: Policy) -> Findings:
    for part, html in _html_parts(rendered):
        for tag, attrs in _tags(html):
            if tag == "img" and not (attrs.get("alt") or "").strip():
                yield part, f"image {attrs.get('src') or ''} has no alt text".replace("  ", " ")


def check_html_lang(version: TemplateVersion, rendered: list[Rendered], policy: Policy) -> Findings:
    for part, html in _html_parts(rendered):
        if not any(tag == "html" and attrs.get("lang") for tag, attrs in _tags(html)):
            yield part, 'the HTML has no <html lang="..."> for screen readers'


def check_sms_segments(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    # Only channels that count segments (SMS) report too many of them.
    for item in rendered:
        for issue in channel_issues(item.channel, version.template.category, item.unmarked):
            if issue.code == "too_many_segments":
                yield f"{item.channel}.{issue.part}.{item.locale}", issue.message


# Errors about the installation, not the version: an unsubscribe URL is configuration.
NOT_CONTENT = frozenset({"missing_unsubscribe_url"})


def check_channel_limits(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    # What the worker refuses at send (too many segments, a line break in a subject, an empty
    # body, too long a chat text) would fail every send: the sample shows it at submission.
    # Letters are laid out and checked in their own child process, at preview and at send.
    for item in rendered:
        if CHANNELS[item.channel].renders_isolated:
            continue
        for issue in channel_issues(item.channel, version.template.category, item.unmarked):
            if issue.level is Level.ERROR and issue.code not in NOT_CONTENT:
                yield f"{item.channel}.{issue.part}.{item.locale}", issue.message


def check_stale_translations(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    default = version.template.default_locale
    for stale in stale_translations(version.parts, version.translation_sources, default):
        yield stale, "the translation predates the latest change to its source"


def check_active_content(
    version: TemplateVersion, rendered: list[Rendered], policy: Policy
) -> Findings:
    # Only HTML a recipient's own software displays (email) can carry active content to them.
    for item in rendered:
        if CHANNELS[item.channel].displays_html and "html" in item.unmarked:
            for message in active_content(item.unmarked["html"]):
                yield f"{item.channel}.html.{item.locale}", message


Check = Callable[[TemplateVersion, list[Rendered], Policy], Findings]
CHECKS: dict[str, Check] = {
    "required_blocks": check_required_blocks,
    "link_domains": check_link_domains,
    "image_alt": check_image_alt,
    "html_lang": check_html_lang,
    "sms_segments": check_sms_segments,
    "stale_translations": check_stale_translations,
    "active_content": check_active_content,
    "channel_limits": check_channel_limits,
}
#: checks no policy can soften: active content never reaches a mailbox, AI text is disclosed,
#: and a version whose sample breaks its channel's limits would fail every send
ALWAYS_ERRORS = frozenset({"active_content", "ai_disclosure", "channel_limits"})


def run_checks(session: Session, version: TemplateVersion, policy: Policy) -> list[Finding]:
    """Every enabled check's findings; a version that cannot render yields render errors."""
    try:
        rendered = list(_rendered(session, version))
    except (TemplateProblem, ValidationFailed) as exc:
        return [Finding("render", "error", getattr(exc, "part", "sample_data"), str(exc))]
    findings = []
    for name, check in CHECKS.items():
        severity = "error" if name in ALWAYS_ERRORS else policy.checks.get(name, "warning")
        if severity != "off":
            findings += [Finding(name, severity, p, m) for p, m in check(version, rendered, policy)]
    # AI text undisclosed on any channel never goes out, whatever the policy says.
    gaps = submission_gaps(session, version)
    return findings + [Finding("ai_disclosure", "error", p, m) for p, m in gaps]


def blocking(findings: list[Finding]) -> dict[str, list[str]]:
    """The error findings as validation errors keyed `checks.<check>.<part>`."""
    errors: dict[str, list[str]] = {}
    for f in findings:
        if f.severity == "error":
            errors.setdefault(f"checks.{f.check}.{f.part}", []).append(f.message)
    return errors
