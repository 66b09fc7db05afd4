"""SMS finishing and validation (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.core import Category, Issue, error, warning
from channels.errors import InvalidContent
from channels.invisible import strip_invisible
from channels.sms.numbers import normalise_phone
from channels.sms.segments import (
    GSM_LOOKALIKES,
    Encoding,
    GsmSafe,
    SmsAnalysis,
    analyse_sms,
    gsm_safe,
)

_OPT_OUT_HINT = re.compile(r"\b(stop|unsubscribe|opt[\s-]?out)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SmsContent:
    """The rendered SMS body."""

    body: str


@dataclass(frozen=True)
class SmsSettings:
    """Sender and limits, passed in by the application."""

    default_region: str | None = None
    max_segments: int = 3


@dataclass(frozen=True)
class PreparedSms:
    """Exactly what will be sent: the E.164 recipient, the body and its analysis."""

    reference: str
    recipient: str
    body: str
    analysis: SmsAnalysis

    def as_record(self) -> dict[str, object]:
        """A JSON-ready record of exactly what is sent, for the outbox and the archive."""
        return {
            "reference": self.reference,
            "to": self.recipient,
            "body": self.body,
            "encoding": str(self.analysis.encoding),
            "segments": self.analysis.segments,
        }


def _ucs2_warning(analysis: SmsAnalysis) -> Issue:
    culprits = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in analysis.ucs2_characters)
    message = f"UCS-2 (70 characters per segment) forced by {culprits}"
    return warning("ucs2_forced", message, "body")


def _substitution_warning(safe: GsmSafe) -> Issue:
    swaps = ", ".join(f"U+{ord(c):04X} {c!r} -> {GSM_LOOKALIKES[c]!r}" for c in safe.replaced)
    return warning("gsm_substituted", f"replaced by their GSM-7 equivalents: {swaps}", "body")


def validate_sms(
    settings: SmsSettings, content: SmsContent, category: Category, max_segments: int | None = None
) -> list[Issue]:
    """Warnings and errors for an SMS body as it will be sent (typography made GSM-7 first):
    length in segments, UCS-2 and its culprits, substitutions made, opt-out wording."""
    if not content.body.strip():
        return [error("empty_body", "the message is empty", "body")]
    safe = gsm_safe(content.body)
    analysis = analyse_sms(safe.text)
    limit = max_segments or settings.max_segments
    issues: list[Issue] = [_substitution_warning(safe)] if safe.replaced else []
    if analysis.segments > limit:
        message = f"{analysis.segments} segments ({analysis.encoding}); at most {limit} allowed"
        issues.append(error("too_many_segments", message, "body"))
    if analysis.encoding is Encoding.UCS2:
        issues.append(_ucs2_warning(analysis))
    if category is Category.MARKETING and not _OPT_OUT_HINT.search(content.body):
        issues.append(warning("missing_opt_out", "marketing SMS should say how to stop", "body"))
    return issues


def prepare_sms(
    settings: SmsSettings,
    content: SmsContent,
    recipient: str,
    *,
    reference: str,
    max_segments: int | None = None,
) -> PreparedSms:
    """The number in E.164 and the analysed body, its typography made GSM-7 where an equivalent
    exists; refuses empty or over-long messages."""
    number = normalise_phone(recipient, settings.default_region)
    # bidi controls and zero-width text never go out; typography becomes GSM-7 where it can
    body = gsm_safe(strip_invisible(content.body)).text
    if not body.strip():
        raise InvalidContent("the SMS body is empty")
    analysis = analyse_sms(body)
    limit = max_segments or settings.max_segments
    if analysis.segments > limit:
        raise InvalidContent(f"the SMS needs {analysis.segments} segments; at most {limit}")
    return PreparedSms(reference, number, body, analysis)
