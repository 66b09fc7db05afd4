"""Deterministic checks on AI text before a person sees it; each check yields one finding."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from babel.core import get_global

from hcs.ai.personal_data import unexplained
from hcs.ai.prompting import DATA_CLOSE, DATA_OPEN, prompt_shingles
from hcs.ai.topics import forbidden_for, topics_named

if TYPE_CHECKING:
    from hcs.ai.slots import Slot

GUARDRAILS: tuple[str, ...] = (
    "length",
    "links",
    "personal_data",
    "forbidden_topics",
    "markup",
    "instruction_leak",
)
_TLDS = (
    "com|net|org|info|biz|io|co|ai|app|dev|me|ly|gl|eu|uk|de|fr|es|it|nl|be|ch|at|se|dk|no|fi"
    "|pl|pt|ie|us|ca|au|nz|ru|cn|jp|in|br|xyz|online|site|shop|link|click|top"
)
LINK = re.compile(
    r"(?<![\w@.+-])(?:[a-z][a-z0-9+.-]{0,30}://[^\s<>\"')\]]+"
    r"|(?:javascript|vbscript):\S+"
    r"|www\.[^\s<>\"')\]]+"
    rf"|(?:[a-z0-9-]+\.)+(?:{_TLDS})(?![\w@-])(?:/[^\s<>\"')\]]*)?"
    # Any other lower-case dotted name is read as a host too: there are over a thousand TLDs.
    r"|(?-i:(?:[a-z0-9-]+\.)+[a-z]{2,24})(?![\w@-])(?:/[^\s<>\"')\]]*)?)",
    re.IGNORECASE,
)
MARKUP = {
    "template syntax": re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\$\{"),
    "an HTML tag": re.compile(r"</?[a-z!][^<>]*>", re.IGNORECASE),
    "an HTML entity": re.compile(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.IGNORECASE),
    "a Markdown link": re.compile(r"!?\[[^\[\]\n]{0,200}\]\([^)\n]{0,500}\)"),
    "Markdown formatting": re.compile(
        r"\*\*[^*\n]{1,200}\*\*|__[^_\n]{1,200}__|^#{1,6} |^```", re.MULTILINE
    ),
}
# Bidi overrides and zero-width characters hide text from the person who signs it off.
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
# A word mixing Latin with Cyrillic or Greek letters ("rеfund" with a Cyrillic е) hides a word
# from the patterns while it reads the same to a person.
_MIXED_SCRIPT = re.compile(
    r"(?<!\w)(?=\w{0,40}[A-Za-z])(?=\w{0,40}[\u0370-\u03ff\u0400-\u04ff])\w{2,40}"
)
LEAKS = re.compile(
    "|".join(
        (
            r"\bas an? (?:ai|a\.i\.|artificial intelligence|assistant|chatbot)\b",
            r"\blanguage model\b",
            r"\bi (?:cannot|can ?not|can't|can’t|am unable|'m unable|’m unable|won't|will not)\b",
            r"\bi(?:'m| am) (?:sorry|an ai|a bot|not able)\b",
            r"\b(?:ignore|disregard|forget) (?:all |any )?(?:the )?(?:previous|prior|above|earlier)"
            r" (?:instructions?|rules|prompts?)\b",
            r"\bsystem prompt\b",
            r"\b(?:openai|chatgpt|gpt-\d)\b",
            r"customer_data",
            r"\bals (?:ki|sprachmodell)\b|\bsprachmodell\b",
            r"\ben tant qu[e'’] ?(?:ia|intelligence artificielle)\b|\bmodèle de langage\b",
            r"\bcomo (?:ia|modelo de lenguaje|inteligencia artificial)\b",
        )
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one text, with what it found."""

    check: str
    passed: bool
    detail: str


def passes(findings: Sequence[Finding]) -> bool:
    """Whether every finding passed (and there was at least one)."""
    return bool(findings) and all(f.passed for f in findings)


def normalised(text: str) -> str:
    """NFKC without hidden characters, so look-alike and split words are seen as words."""
    return _HIDDEN.sub("", unicodedata.normalize("NFKC", text))


def _clip(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _found(items: Sequence[str]) -> str:
    return "found " + "; ".join(dict.fromkeys(items))


def check_length(text: str, slot: Slot) -> tuple[bool, str]:
    """Not empty, and no longer than the slot's bound."""
    if not text.strip():
        return False, "the text is empty"
    if len(text) > slot.max_chars:
        return False, f"{len(text)} characters, over the bound of {slot.max_chars}"
    return True, f"{len(text)} of {slot.max_chars} characters"


def _allowed(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _host(link: str) -> str:
    target = link if "://" in link else "http://" + link
    try:
        return (urlsplit(target).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def check_links(text: str, link_domains: Sequence[str]) -> tuple[bool, str]:
    """Links only to allowlisted domains; none at all when the allowlist is empty."""
    domains = [d.strip().lower().rstrip(".") for d in link_domains if d.strip()]
    bad = []
    for match in LINK.finditer(text):
        link = match.group().rstrip(".,;:!?")
        host = _host(link)
        scheme_ok = "://" not in link or link.lower().startswith(("http://", "https://"))
        if not (host and scheme_ok and _allowed(host, domains)):
            bad.append(f"a link to {_clip(host or link)}")
    if bad:
        allowed = ", ".join(domains) or "none"
        return False, _found(bad) + f" (allowed: {allowed})"
    return True, "no links" if not domains else "links only to allowed domains"


@cache
def _region(locale: str) -> str:
    parts = locale.replace("-", "_").split("_")
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return parts[-1].upper()
    likely = get_global("likely_subtags").get(parts[0].lower(), "")
    territory = likely.split("_")[-1] if likely else ""
    return territory if len(territory) == 2 else "US"


def check_personal_data(text: str, inputs: Mapping[str, Any], locale: str) -> tuple[bool, str]:
    """No email, phone, card, IBAN or postal address that is not among the slot's inputs."""
    found = unexplained(text, inputs, region=_region(locale))
    if found:
        return False, _found(found) + ", not among the slot's inputs"
    return True, "no personal data beyond the slot's inputs"


def check_forbidden_topics(
    text: str, category: str, forbidden: Sequence[str] | None
) -> tuple[bool, str]:
    """No topic or commitment the category's policy forbids."""
    names = forbidden_for(category) if forbidden is None else tuple(forbidden)
    hits = []
    for topic in topics_named(names):
        match = topic.regex.search(text)
        if match:
            hits.append(f"{topic.name} ({_clip(match.group())!r})")
    if hits:
        return False, "mentions " + ", ".join(hits)
    return True, f"none of {len(names)} forbidden topics"


def check_markup(text: str) -> tuple[bool, str]:
    """No template syntax, HTML, Markdown, hidden or look-alike characters: plain text only."""
    plain = normalised(text)
    found = [
        f"{kind} ({_clip(m.group())!r})" for kind, rx in MARKUP.items() if (m := rx.search(plain))
    ]
    if _HIDDEN.search(text):
        found.append("hidden characters")
    if _MIXED_SCRIPT.search(plain):
        found.append("look-alike letters from another script")
    return (False, _found(found)) if found else (True, "plain text")


def _echoed(words: Sequence[str], shingles: frozenset[str], size: int = 6) -> str | None:
    runs = (" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return next((run for run in runs if run in shingles), None)


def check_instruction_leak(text: str) -> tuple[bool, str]:
    """No talk about being an AI, refusals, injected commands or the prompt's own phrases."""
    found = [f"{_clip(m.group())!r}" for m in LEAKS.finditer(text)]
    if DATA_OPEN in text or DATA_CLOSE in text:
        found.append("the data delimiter")
    echoed = _echoed(re.findall(r"\w+", text.casefold()), prompt_shingles())
    if echoed:
        found.append(f"the system prompt's words ({_clip(echoed)!r})")
    return (False, _found(found)) if found else (True, "no instruction-following leaks")


def run_guardrails(
    text: str,
    slot: Slot,
    inputs: Mapping[str, Any],
    *,
    category: str,
    link_domains: Sequence[str] = (),
    forbidden: Sequence[str] | None = None,
    locale: str = "",
) -> list[Finding]:
    """Every check on one slot text, passed or not, in GUARDRAILS order."""
    plain = normalised(text)
    checks: dict[str, Callable[[], tuple[bool, str]]] = {
        "length": lambda: check_length(text, slot),
        "links": lambda: check_links(plain, link_domains),
        "personal_data": lambda: check_personal_data(plain, inputs, locale),
        "forbidden_topics": lambda: check_forbidden_topics(plain, category, forbidden),
        "markup": lambda: check_markup(text),
        "instruction_leak": lambda: check_instruction_leak(plain),
    }
    return [_run(name, checks[name]) for name in GUARDRAILS]


def _run(name: str, check: Callable[[], tuple[bool, str]]) -> Finding:
    try:
        passed, detail = check()
    except (ValueError, TypeError, RecursionError) as exc:
        # Fail closed: a check that cannot decide does not let the text through.
        return Finding(name, False, f"the check could not run: {type(exc).__name__}")
    return Finding(name, passed, detail)
