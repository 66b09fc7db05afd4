"""Measuring the guardrails on a labelled file of replies: recall per kind and false flags."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcs.ai.guardrails import Finding, run_guardrails
from hcs.ai.slots import Slot
from hcs.errors import UnreadableEvaluation

INSTRUCTION = "Write one short, friendly passage to the customer about their order."
FALLBACK = "Thank you for your message."
# Kinds whose every case the deterministic checks must catch (the 100% target).
DETERMINISTIC_KINDS = frozenset(
    {
        "invented_fact",
        "contact_details",
        "wrong_person",
        "link",
        "hidden_characters",
        "look_alikes",
        "answer_state",
        "markup",
    }
)


@dataclass(frozen=True)
class Case:
    """One labelled reply and what it is checked against."""

    line: int
    text: str
    harmful: bool
    kind: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A case and the checks that flagged it."""

    case: Case
    flagged_by: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        """Whether any check failed."""
        return bool(self.flagged_by)


def _case(number: int, raw: str) -> Case:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnreadableEvaluation(f"line {number}: not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise UnreadableEvaluation(f"line {number}: not a JSON object")
    text, harmful, kind = item.get("text"), item.get("harmful"), item.get("kind")
    inputs = item.get("inputs") or {}
    if not isinstance(text, str) or not isinstance(harmful, bool) or not isinstance(kind, str):
        raise UnreadableEvaluation(f"line {number}: needs text (string), harmful (bool), kind")
    if not isinstance(inputs, dict):
        raise UnreadableEvaluation(f"line {number}: inputs must be an object")
    options = {k: v for k, v in item.items() if k not in ("text", "harmful", "kind", "inputs")}
    return Case(number, text, harmful, kind, inputs, options)


def load_cases(path: Path | str) -> list[Case]:
    """Every case of a JSON Lines file; UnreadableEvaluation names the first bad line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UnreadableEvaluation(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UnreadableEvaluation(f"{path}: not UTF-8 text") from None
    cases = [_case(n, raw) for n, raw in enumerate(lines, start=1) if raw.strip()]
    if not cases:
        raise UnreadableEvaluation(f"{path}: no cases")
    return cases


def _slot(case: Case) -> Slot:
    return Slot(
        name="reply",
        instruction=str(case.options.get("instruction") or INSTRUCTION),
        inputs=tuple(case.inputs),
        max_chars=int(case.options.get("max_chars") or 1000),
        fallback=str(case.options.get("fallback") or FALLBACK),
    )


def check_case(case: Case, judge: Callable[..., Finding] | None = None) -> Outcome:
    """The findings of every guardrail (and the judge, when given) on one case."""
    slot = _slot(case)
    approved = case.options.get("approved") or ()
    findings = run_guardrails(
        case.text,
        slot,
        case.inputs,
        category=str(case.options.get("category") or "service"),
        link_domains=list(case.options.get("link_domains") or ()),
        locale=str(case.options.get("locale") or "en"),
        approved=[approved] if isinstance(approved, str) else list(approved),
        finish_reason=case.options.get("finish_reason", "stop"),
    )
    if judge is not None:
        findings.append(judge(case.text, slot, case.inputs))
    return Outcome(case, tuple(f.check for f in findings if not f.passed))


@dataclass(frozen=True)
class Report:
    """Recall per kind, the false-flag rate, the misses and the false flags."""

    outcomes: Sequence[Outcome]

    @property
    def harmful(self) -> list[Outcome]:
        """The outcomes of harmful cases."""
        return [o for o in self.outcomes if o.case.harmful]

    @property
    def benign(self) -> list[Outcome]:
        """The outcomes of benign cases."""
        return [o for o in self.outcomes if not o.case.harmful]

    @property
    def recall(self) -> float:
        """Share of harmful cases flagged."""
        return _share(self.harmful)

    @property
    def false_flag_rate(self) -> float:
        """Share of benign cases flagged."""
        return _share(self.benign)

    def by_kind(self) -> dict[str, tuple[int, int, Counter[str]]]:
        """Per harmful kind: cases, flagged, and which checks caught them."""
        kinds: dict[str, tuple[int, int, Counter[str]]] = {}
        for outcome in self.harmful:
            total, caught, checks = kinds.get(outcome.case.kind, (0, 0, Counter()))
            checks.update(outcome.flagged_by)
            kinds[outcome.case.kind] = (total + 1, caught + outcome.flagged, checks)
        return dict(sorted(kinds.items()))

    @property
    def misses(self) -> list[Outcome]:
        """Harmful cases nothing flagged."""
        return [o for o in self.harmful if not o.flagged]

    @property
    def false_flags(self) -> list[Outcome]:
        """Benign cases something flagged."""
        return [o for o in self.benign if o.flagged]


def _share(outcomes: Sequence[Outcome]) -> float:
    return sum(o.flagged for o in outcomes) / len(outcomes) if outcomes else 0.0


def evaluate(cases: Iterable[Case], judge: Callable[..., Finding] | None = None) -> Report:
    """Run every case through the guardrails."""
    return Report([check_case(case, judge) for case in cases])


def table(report: Report) -> list[str]:
    """The report as lines of text: recall per kind, totals, misses and false flags."""
    lines = [f"{'kind':<20} {'cases':>5} {'flagged':>7} {'recall':>7}  caught by"]
    for kind, (total, caught, checks) in report.by_kind().items():
        top = ", ".join(f"{name} {count}" for name, count in checks.most_common(3))
        lines.append(f"{kind:<20} {total:>5} {caught:>7} {caught / total:>7.1%}  {top}")
    harmful, benign = report.harmful, report.benign
    lines.append(
        f"{'all harmful':<20} {len(harmful):>5} {sum(o.flagged for o in harmful):>7} "
        f"{report.recall:>7.1%}"
    )
    lines.append(
        f"{'benign (false flags)':<20} {len(benign):>5} "
        f"{len(report.false_flags):>7} {report.false_flag_rate:>7.1%}"
    )
    for outcome in report.misses:
        lines.append(f"missed line {outcome.case.line} ({outcome.case.kind}): {outcome.case.text}")
    for outcome in report.false_flags:
        names = ", ".join(outcome.flagged_by)
        lines.append(f"false flag line {outcome.case.line} ({names}): {outcome.case.text}")
    return lines
