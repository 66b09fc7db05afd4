"""Timing helpers for benchmarks: medians of the pipeline and of the raw work, as ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

ROWS: list[tuple[str, str, str, str, str]] = []


def median_seconds(work: Callable[[], object], *, repeat: int = 7, number: int = 1) -> float:
    """Median wall time of `number` calls of `work`, over `repeat` runs, per call."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def report(
    name: str, pipeline_s: float, raw_s: float, *, unit: str = "op", per: float = 1.0
) -> None:
    """Record one benchmark row: medians per unit and the pipeline/raw ratio."""
    ROWS.append(
        (
            name,
            f"{pipeline_s * 1e3 / per:.3f} ms/{unit}",
            f"{raw_s * 1e3 / per:.3f} ms/{unit}",
            f"{per / pipeline_s:,.0f} {unit}/s",
            f"{pipeline_s / raw_s:.2f}x",
        )
    )
