"""Benchmark plumbing: prints the table of every benchmark's medians and ratio."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.perf.timing import ROWS, report
from tests.reliability import faults


@pytest.fixture
def bench_report() -> Callable[..., None]:
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if faults.ROWS:
        terminalreporter.write_sep("=", "fault matrix")
        terminalreporter.write_line(faults.table(faults.ROWS))
    if not ROWS:
        return
    header = ("benchmark", "pipeline (median)", "raw (median)", "throughput", "ratio")
    widths = [max(len(r[i]) for r in [header, *ROWS]) for i in range(len(header))]
    terminalreporter.write_sep("=", "benchmarks")
    for row in [header, *ROWS]:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
