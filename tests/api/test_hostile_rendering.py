"""A hostile template renders in a child: the server keeps answering, the author gets a 422."""

from __future__ import annotations

import threading
import time
import urllib.request

from tests.support.flows import PARTS, new_template
from tests.support.server import post_json, serving
from tests.support.world import World

FREEZING = "{% set L = ('a'*500000)|list %}{{ ([L]*120)|sum(start=[])|length }}"


def _healthz_latencies(url: str, stop: threading.Event, seen: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        with urllib.request.urlopen(f"{url}/healthz", timeout=30) as answer:
            answer.read()
        seen.append(time.monotonic() - started)
        time.sleep(0.05)


def test_a_freezing_draft_preview_answers_render_timeout_while_healthz_stays_fast(
    world: World,
) -> None:
    new_template(world)
    ana = world.as_("ana@example.com")
    # a running server has its render processes started: one ordinary preview starts them here
    assert (
        ana.post(
            "/templates/order-confirmation/preview", {"channel": "sms", "version": 1}
        ).status_code
        == 200
    )
    parts = {**PARTS, "sms": {"en": {"body": FREEZING}}}
    assert (
        ana.patch("/templates/order-confirmation/versions/1", {"parts": parts}).status_code == 200
    )
    stop, latencies = threading.Event(), []
    with serving(world.app) as url:
        probe = threading.Thread(target=_healthz_latencies, args=(url, stop, latencies))
        probe.start()
        started = time.monotonic()
        status, body = post_json(
            f"{url}/api/v1/templates/order-confirmation/preview",
            {"channel": "sms", "version": 1},
            world.keys["ana@example.com"],
        )
        took = time.monotonic() - started
        stop.set()
        probe.join(timeout=30)
    assert status == 422, body
    assert body["reason"] == "render_timeout"
    assert "sms.body.en" in str(body["errors"])
    assert took < 4.0  # the 2 s render deadline and its 0.5 s grace, then the child is killed
    assert len(latencies) >= 5
    # Never waiting on the frozen render (2 s and its grace): a probe is answered well within a
    # second even while the suite's other worker loads both cores.
    assert max(latencies) < 1.0, latencies
    # the killed child was replaced: the next preview renders
    sms = {"sms": {"en": {"body": "Order {{ order_id }} is confirmed."}}}
    assert ana.patch("/templates/order-confirmation/versions/1", {"parts": {**PARTS, **sms}})
    assert (
        ana.post(
            "/templates/order-confirmation/preview", {"channel": "sms", "version": 1}
        ).status_code
        == 200
    )
