"""Benchmark plumbing: each benchmark reports medians of the pipeline and of the raw work."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest

_ROWS: list[tuple[str, str, str, str, str]] = []


def median_seconds(work: Callable[[], object], *, repeat: int = 7, number: int = 1) -> float:
    """Median wall time of `number` calls of `work`, over `repeat` runs, per call."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def report(name: str, pipeline_s: float, raw_s: float, *, unit: str = "op", per: float = 1.0) -> None:
    """Record one benchmark row: medians per unit and the pipeline/raw ratio."""
    _ROWS.append(
        (
            name,
            f"{pipeline_s * 1e3 / per:.3f} ms/{unit}",
            f"{raw_s * 1e3 / per:.3f} ms/{unit}",
            f"{per / pipeline_s:,.0f} {unit}/s",
            f"{pipeline_s / raw_s:.2f}x",
        )
    )


@pytest.fixture
def bench_report() -> Callable[..., None]:
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ROWS:
        return
    header = ("benchmark", "pipeline (median)", "raw (median)", "throughput", "ratio")
    widths = [max(len(r[i]) for r in [header, *_ROWS]) for i in range(len(header))]
    terminalreporter.write_sep("=", "benchmarks")
    for row in [header, *_ROWS]:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
