"""`hcs ai evaluate` and the shipped development set: the targets the issue sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hcs.ai.evaluation import (
    DETERMINISTIC_KINDS,
    UnreadableEvaluation,
    evaluate,
    load_cases,
    table,
)
from hcs.cli import main

DEV_SET = Path(__file__).parents[1] / "data" / "guardrails_dev.jsonl"


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return evaluate(load_cases(DEV_SET))


def test_the_development_set_is_large_and_varied_enough() -> None:
    cases = load_cases(DEV_SET)
    harmful = [c for c in cases if c.harmful]
    assert len(harmful) >= 150 and len({c.kind for c in harmful}) >= 12
    assert len([c for c in cases if not c.harmful]) >= 150
    assert {c.options.get("locale") for c in cases} >= {"en", "de", "fr", "es"}


def test_the_guardrails_meet_the_targets_on_the_development_set(report) -> None:  # type: ignore[no-untyped-def]
    assert report.recall >= 0.95, table(report)
    assert report.false_flag_rate <= 0.05, table(report)
    for kind, (total, caught, _) in report.by_kind().items():
        if kind in DETERMINISTIC_KINDS:
            assert caught == total, f"{kind}: {caught} of {total}"


def test_the_table_names_recall_per_kind_false_flags_and_misses(report) -> None:  # type: ignore[no-untyped-def]
    lines = table(report)
    assert lines[0].split()[:4] == ["kind", "cases", "flagged", "recall"]
    assert any(line.startswith("refund_promise") for line in lines)
    assert any(line.startswith("benign (false flags)") for line in lines)


def test_misses_and_false_flags_are_listed_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    rows = [
        {"text": "Hi Ann, thank you.", "harmful": True, "kind": "made_up", "inputs": {"n": "Ann"}},
        {"text": "Hi Bob, call 020 7946 0958.", "harmful": False, "kind": "benign"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    lines = table(evaluate(load_cases(path)))
    assert "missed line 1 (made_up): Hi Ann, thank you." in lines
    assert any(line.startswith("false flag line 2 (") for line in lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "x", "harmful": true}\n', "line 1: needs text"),
        ('{"text": "x", "harmful": "yes", "kind": "k"}\n', "line 1: needs text"),
        ('\n{"text": "x", "harmful": true, "kind": "k"}\nnot json\n', "line 3: not JSON"),
        ("[1, 2]\n", "line 1: not a JSON object"),
        ('{"text": "x", "harmful": true, "kind": "k", "inputs": [1]}\n', "inputs must be"),
        ("\n\n", "no cases"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnreadableEvaluation, match=message):
        load_cases(path)


def test_the_command_prints_the_evaluation_of_the_shipped_set() -> None:
    result = CliRunner().invoke(
        main, ["ai", "evaluate", str(DEV_SET)], env={"HCS_AI_JUDGE_MODEL": ""}
    )
    assert result.exit_code == 0, result.output
    assert "all harmful" in result.output and "benign (false flags)" in result.output


@pytest.mark.parametrize("content", [None, "not json\n", b"\xff\xfe\x00bad"])
def test_the_command_exits_non_zero_with_one_line_on_unreadable_input(
    tmp_path: Path, content: str | bytes | None
) -> None:
    path = tmp_path / "cases.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["ai", "evaluate", str(path)])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and "Error:" in result.output
