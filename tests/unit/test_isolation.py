"""Renders in child processes: killed at the deadline, bounded in memory and CPU, and replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from templates_store import rendering
from templates_store.errors import RenderLimit, RenderTimeout, SandboxViolation
from templates_store.isolation import PartJob, PoolLimits, RenderPool
from templates_store.rendering import Limits

FREEZING = "{% set L = ('a'*500000)|list %}{{ ([L]*120)|sum(start=[])|length }}"
HUNGRY = "{% set L = ('a'*4000000)|list %}{{ ([L]*20)|sum(start=[])|length }}"


def job(source: str, part: str = "sms.body.en", **data: object) -> PartJob:
    return PartJob(source, part, "text", "en", data, {}, {})


@pytest.fixture
def pool() -> Iterator[RenderPool]:
    pool = RenderPool(size=1)
    assert pool.render([job("warm")]) == ["warm"]  # started, as a running server's would be
    yield pool
    pool.close()


def test_parts_render_in_a_child_with_the_sandbox_rules(pool: RenderPool) -> None:
    jobs = [job("Hi {{ name }}", name="Ana"), job("{{ 1 + 1 }}", part="email.subject.en")]
    assert pool.render(jobs) == ["Hi Ana", "2"]
    with pytest.raises(SandboxViolation) as caught:
        pool.render([job("{{ name.__class__ }}", name="Ana")])
    assert caught.value.part == "sms.body.en"


def test_a_render_past_its_deadline_is_killed_and_the_child_replaced(pool: RenderPool) -> None:
    started = time.monotonic()
    with pytest.raises(RenderTimeout) as caught:
        pool.render([job("fine"), job(FREEZING, part="email.html.en")], Limits(max_seconds=1.0))
    assert time.monotonic() - started < 3.0
    assert caught.value.reason == "render_timeout"
    assert caught.value.part == "email.html.en"  # the part that was running, not the first
    assert pool.render([job("after {{ n }}", n=1)]) == ["after 1"]


def test_a_render_past_its_memory_bound_fails_with_render_limit() -> None:
    pool = RenderPool(size=1, limits=PoolLimits(memory_bytes=400 * 1024 * 1024))
    try:
        with pytest.raises(RenderLimit) as caught:
            pool.render([job(HUNGRY)], Limits(max_seconds=30.0, max_output_chars=5_000_000))
        assert caught.value.reason == "render_limit"
        assert pool.render([job("still {{ n }}", n=2)]) == ["still 2"]
    finally:
        pool.close()


def test_a_render_past_its_cpu_bound_is_stopped_long_before_its_deadline() -> None:
    pool = RenderPool(size=1, limits=PoolLimits(cpu_seconds=1))
    try:
        started = time.monotonic()
        with pytest.raises(RenderLimit):
            pool.render([job(FREEZING)], Limits(max_seconds=60.0))
        assert time.monotonic() - started < 20.0
    finally:
        pool.close()


def test_the_compiled_template_cache_stays_under_its_byte_bound() -> None:
    big = "x" * 150_000
    for i in range(130):  # 19.5 MB of distinct sources
        rendering.compiled(f"{i} {{{{ a }}}} {big}", html=False)
        assert rendering.cache_usage()[1] <= rendering._CACHE_BYTES
    entries, size = rendering.cache_usage()
    assert size > rendering._CACHE_BYTES // 2  # it still caches
    assert entries < 130
