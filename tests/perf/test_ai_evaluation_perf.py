"""The guardrails' evaluation on the shipped development set, printed by `make bench`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hcs.ai import intents, personal_data
from hcs.ai.evaluation import DETERMINISTIC_KINDS, check_case, evaluate, load_cases, table

pytestmark = pytest.mark.perf

DEV_SET = Path(__file__).parents[1] / "data" / "guardrails_dev.jsonl"


def _cold_caches() -> None:
    # Every text once, as a campaign's distinct texts would be: no answer comes from a cache.
    intents.clauses.cache_clear()
    intents._done_by.cache_clear()
    personal_data.phone_matches.cache_clear()


def test_the_evaluation_table_of_the_development_set(bench_report: Callable[..., None]) -> None:
    cases = load_cases(DEV_SET)
    check_case(cases[0])  # word lists and Unicode tables load once per process
    _cold_caches()
    start = time.perf_counter()
    report = evaluate(cases)
    elapsed = time.perf_counter() - start
    print("\nAI guardrails on tests/data/guardrails_dev.jsonl (deterministic checks only)")
    print("\n".join(table(report)))
    bench_report(
        "AI guardrails, every check, distinct texts",
        elapsed,
        elapsed,
        unit="text",
        per=len(cases),
    )
    assert report.recall >= 0.95 and report.false_flag_rate <= 0.05
    assert all(c == t for k, (t, c, _) in report.by_kind().items() if k in DETERMINISTIC_KINDS)
