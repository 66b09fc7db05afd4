"""Deterministic checks on AI text before a person sees it; each check yields one finding."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from babel.core import get_global

from hcs.ai.conduct import check_conduct, check_forbidden_topics
from hcs.ai.facts import novel_facts, source_texts, sources
from hcs.ai.links import bad_links
from hcs.ai.personal_data import unexplained
from hcs.ai.prompting import DATA_CLOSE, DATA_OPEN, prompt_shingles
from hcs.ai.topics import forbidden_for
from hcs.ai.unicode import hidden_characters, look_alike_words, skeleton

if TYPE_CHECKING:
    from hcs.ai.slots import Slot

GUARDRAILS: tuple[str, ...] = (
    "answer_state",
    "length",
    "hidden_characters",
    "look_alikes",
    "links",
    "personal_data",
    "novel_facts",
    "requests",
    "pressure",
    "advice",
    "commitments",
    "forbidden_topics",
    "markup",
    "instruction_leak",
)
# Scripts whose letters look like Latin ones but are the locale's own writing.
_NATIVE_SCRIPTS = {
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "bg": "CYRILLIC",
    "sr": "CYRILLIC",
    "mk": "CYRILLIC",
    "be": "CYRILLIC",
    "kk": "CYRILLIC",
    "el": "GREEK",
    "hy": "ARMENIAN",
}
MARKUP = {
    "template syntax": re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\$\{"),
    "an HTML tag": re.compile(r"</?[a-z!][^<>]*>", re.IGNORECASE),
    "an HTML entity": re.compile(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.IGNORECASE),
    "a Markdown link": re.compile(r"!?\[[^\[\]\n]{0,200}\]\([^)\n]{0,500}\)"),
    "Markdown formatting": re.compile(
        r"\*\*[^*\n]{1,200}\*\*|__[^_\n]{1,200}__|^#{1,6} |(?<!\S)#{2,6} \w|^```", re.MULTILINE
    ),
}
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


@dataclass(frozen=True)
class Context:
    """What one slot text is checked against: its sources, policy and the model's answer state."""

    slot: Slot
    inputs: Mapping[str, Any]
    category: str
    link_domains: Sequence[str] = ()
    forbidden: Sequence[str] | None = None
    locale: str = ""
    approved: Sequence[str] = ()
    finish_reason: str | None = None

    @property
    def approved_texts(self) -> list[str]:
        """The instruction, the fallback and the template's approved text: sources of facts."""
        return [self.slot.instruction, self.slot.fallback, *self.approved]

    @property
    def policy_texts(self) -> list[str]:
        """The instruction and the template's text: what they ask or set, the slot may repeat."""
        return [self.slot.instruction, *self.approved]

    @property
    def language(self) -> str:
        """The locale's language code ("en" when none)."""
        return (self.locale or "en").replace("-", "_").split("_")[0].lower()


def passes(findings: Sequence[Finding]) -> bool:
    """Whether every finding passed (and there was at least one)."""
    return bool(findings) and all(f.passed for f in findings)


def normalised(text: str) -> str:
    """NFKC, hidden characters gone and look-alike letters folded to Latin."""
    return skeleton(text)


def _clip(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _found(items: Sequence[str]) -> str:
    return "found " + "; ".join(dict.fromkeys(items))


def check_answer_state(text: str, finish_reason: str | None) -> tuple[bool, str]:
    """The model finished normally (not cut off, filtered or calling tools) and said something."""
    if finish_reason not in (None, "stop"):
        return False, f"the model stopped with finish_reason {_clip(str(finish_reason))!r}"
    if not text.strip():
        return False, "the answer is empty"
    return True, "a complete answer" if finish_reason else "not a model answer"


def check_length(text: str, slot: Slot) -> tuple[bool, str]:
    """Not empty, and no longer than the slot's bound."""
    if not text.strip():
        return False, "the text is empty"
    if len(text) > slot.max_chars:
        return False, f"{len(text)} characters, over the bound of {slot.max_chars}"
    return True, f"{len(text)} of {slot.max_chars} characters"


def check_hidden_characters(text: str) -> tuple[bool, str]:
    """No invisible character: format, private-use, default-ignorable or tag."""
    found = hidden_characters(text)
    if found:
        return False, f"{len(found)} kinds of hidden character ({', '.join(found[:5])})"
    return True, "no hidden characters"


def check_look_alikes(text: str, language: str) -> tuple[bool, str]:
    """No word mixing scripts, nor Latin words spelled with look-alikes from another script."""
    native = frozenset({_NATIVE_SCRIPTS[language]} if language in _NATIVE_SCRIPTS else ())
    found = look_alike_words(text, native_scripts=native)
    if found:
        return False, f"{len(found)} words written with look-alike letters from another script"
    return True, "no look-alike letters"


def check_links(text: str, link_domains: Sequence[str]) -> tuple[bool, str]:
    """Links only to allowlisted domains; none at all when the allowlist is empty."""
    bad = bad_links(text, link_domains)
    if bad:
        allowed = ", ".join(d.strip().lower() for d in link_domains if d.strip()) or "none"
        return False, _found(bad) + f" (allowed: {allowed})"
    return True, "no links" if not link_domains else "links only to allowed domains"


@cache
def _region(locale: str) -> str:
    parts = locale.replace("-", "_").split("_")
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return parts[-1].upper()
    likely = get_global("likely_subtags").get(parts[0].lower(), "")
    territory = likely.split("_")[-1] if likely else ""
    return territory if len(territory) == 2 else "US"


def check_personal_data(text: str, context: Context) -> tuple[bool, str]:
    """No email, phone, card, IBAN or postal address that no input value or approved text has."""
    found = unexplained(
        text, context.inputs, region=_region(context.locale), approved=context.approved_texts
    )
    if found:
        return False, _found(found) + ", not among the slot's inputs"
    return True, "no personal data beyond the slot's inputs"


def check_novel_facts(text: str, context: Context) -> tuple[bool, str]:
    """Every fact (number, date, link, contact, name...) comes from the inputs or approved text."""
    known = sources(source_texts(context.inputs, context.approved_texts), context.link_domains)
    kinds = novel_facts(text, known, region=_region(context.locale), language=context.language)
    if kinds:
        return False, "states facts no source has: " + ", ".join(kinds)
    return True, "every fact comes from the inputs or the approved text"


def check_markup(text: str) -> tuple[bool, str]:
    """No template syntax, HTML or Markdown: plain text only."""
    plain = normalised(text)
    found = [
        f"{kind} ({_clip(m.group())!r})" for kind, rx in MARKUP.items() if (m := rx.search(plain))
    ]
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


# Text over the longest slot bound already fails the length check; the costlier checks read no
# further than this, so a runaway answer costs bounded time.
SCAN_CHARS = 4_000


def _checks(full: str, c: Context) -> dict[str, Callable[[], tuple[bool, str]]]:
    text = full[:SCAN_CHARS]
    plain = normalised(text)
    forbidden = forbidden_for(c.category) if c.forbidden is None else tuple(c.forbidden)
    return {
        "answer_state": lambda: check_answer_state(full, c.finish_reason),
        "length": lambda: check_length(full, c.slot),
        "hidden_characters": lambda: check_hidden_characters(full),
        "look_alikes": lambda: check_look_alikes(text, c.language),
        "links": lambda: check_links(plain, c.link_domains),
        "personal_data": lambda: check_personal_data(plain, c),
        "novel_facts": lambda: check_novel_facts(text, c),
        "requests": lambda: check_conduct("requests", text, c.policy_texts),
        "pressure": lambda: check_conduct("pressure", text, c.policy_texts),
        "advice": lambda: check_conduct("advice", text, c.policy_texts),
        "commitments": lambda: check_conduct("commitments", text, c.policy_texts),
        "forbidden_topics": lambda: check_forbidden_topics(plain, forbidden),
        "markup": lambda: check_markup(text),
        "instruction_leak": lambda: check_instruction_leak(plain),
    }


def run_guardrails(
    text: str,
    slot: Slot,
    inputs: Mapping[str, Any],
    *,
    category: str,
    link_domains: Sequence[str] = (),
    forbidden: Sequence[str] | None = None,
    locale: str = "",
    approved: Sequence[str] = (),
    finish_reason: str | None = None,
) -> list[Finding]:
    """Every check on one slot text, passed or not, in GUARDRAILS order."""
    context = Context(
        slot, inputs, category, link_domains, forbidden, locale, approved, finish_reason
    )
    checks = _checks(text, context)
    return [_run(name, checks[name]) for name in GUARDRAILS]


def _run(name: str, check: Callable[[], tuple[bool, str]]) -> Finding:
    try:
        passed, detail = check()
    except (ValueError, TypeError, RecursionError, ArithmeticError) as exc:
        # Fail closed: a check that cannot decide does not let the text through.
        return Finding(name, False, f"the check could not run: {type(exc).__name__}")
    return Finding(name, passed, detail)
