"""SMS finishing and validation (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.core import Category, Issue, error, warning
from channels.errors import InvalidContent
from channels.invisible import strip_invisible
from channels.sms.numbers import normalise_phone
from channels.sms.segments import Encoding, SmsAnalysis, analyse_sms

# Typographic characters that force UCS-2 although GSM-7 has a plain equivalent.
GSM_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "-",
    "\u00b4": "'",
}
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
    culprits = analysis.ucs2_characters
    message = f"UCS-2 (70 characters per segment) forced by {' '.join(map(repr, culprits))}"
    swaps = [f"{c!r} -> {GSM_LOOKALIKES[c]!r}" for c in culprits if c in GSM_LOOKALIKES]
    if swaps:
        message += f"; GSM-7 equivalents: {', '.join(swaps)}"
    return warning("ucs2_forced", message, "body")


def validate_sms(
    settings: SmsSettings, content: SmsContent, category: Category, max_segments: int | None = None
) -> list[Issue]:
    """Warnings and errors for an SMS body: length in segments, UCS-2, opt-out wording."""
    if not content.body.strip():
        return [error("empty_body", "the message is empty", "body")]
    analysis = analyse_sms(content.body)
    limit = max_segments or settings.max_segments
    issues: list[Issue] = []
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
    """The number in E.164 and the analysed body; refuses empty or over-long messages."""
    number = normalise_phone(recipient, settings.default_region)
    body = strip_invisible(content.body)  # bidi controls and zero-width text never go out
    if not body.strip():
        raise InvalidContent("the SMS body is empty")
    analysis = analyse_sms(body)
    limit = max_segments or settings.max_segments
    if analysis.segments > limit:
        raise InvalidContent(f"the SMS needs {analysis.segments} segments; at most {limit}")
    return PreparedSms(reference, number, body, analysis)
