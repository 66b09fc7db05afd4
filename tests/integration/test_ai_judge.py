"""The semantic judge against a fake OpenAI-compatible judge on a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hcs.ai.judge import CATEGORIES, Judge, build_judge
from hcs.ai.providers import OfflineProvider, OpenAIProvider, build_provider
from hcs.ai.slots import Slot
from hcs.infrastructure.config import Settings
from hcs.signoffs.generation import generate_slot
from tests.support.httpservers import LoopbackServer

PATH = "/v1/chat/completions"
SLOT = Slot("intro", "Thank the customer for their order.", ("first_name",), 200, "Thank you.")
INPUTS = {"first_name": "Ann"}


def reply(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-judge",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "judge-small",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


def verdicts(**flagged: bool) -> str:
    return json.dumps(
        {"verdicts": {n: {"flagged": flagged.get(n, False), "reason": "ok"} for n in CATEGORIES}}
    )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    loopback = LoopbackServer(host="127.0.0.1", port=0)
    loopback.start()
    yield loopback
    loopback.clear()
    if loopback.is_running():
        loopback.stop()


@pytest.fixture
def judge(server: HTTPServer) -> Iterator[Judge]:
    made = Judge(server.url_for("/v1"), "judge-small", "key", timeout=1.0)
    yield made
    made.close()


def test_a_clean_verdict_passes_and_the_judge_saw_the_policy_and_the_text(
    server: HTTPServer, judge: Judge
) -> None:
    server.expect_request(PATH, method="POST").respond_with_json(reply(verdicts()))
    finding = judge.finding("Hi Ann, thank you!", SLOT, INPUTS)
    assert finding.check == "judge" and finding.passed
    body = json.loads(server.log[0][0].get_data())
    assert body["model"] == "judge-small" and body["temperature"] == 0
    system, user = (m["content"] for m in body["messages"])
    assert all(name in system for name in CATEGORIES) and "one_time_codes" not in system
    assert "Hi Ann, thank you!" in user and SLOT.instruction in user


def test_a_flagged_category_fails_and_names_it(server: HTTPServer, judge: Judge) -> None:
    server.expect_request(PATH).respond_with_json(reply(verdicts(commitments=True)))
    finding = judge.finding("Hi Ann, it's on us.", SLOT, INPUTS)
    assert not finding.passed and "commitments" in finding.detail


@pytest.mark.parametrize(
    "content",
    [
        "Looks fine to me!",
        '{"verdicts": {"requests": {"flagged": false, "reason": "ok"}}}',
        verdicts().replace("false", '"no"', 1),
        '{"verdict": "pass"}',
        "",
    ],
)
def test_a_malformed_answer_fails_closed(server: HTTPServer, judge: Judge, content: str) -> None:
    server.expect_request(PATH).respond_with_json(reply(content))
    finding = judge.finding("Hi Ann, thank you!", SLOT, INPUTS)
    assert not finding.passed and "failed closed" in finding.detail


def test_an_error_status_fails_closed(server: HTTPServer, judge: Judge) -> None:
    server.expect_request(PATH).respond_with_data("boom", status=500)
    finding = judge.finding("Hi Ann, thank you!", SLOT, INPUTS)
    assert not finding.passed and "failed closed" in finding.detail


def test_a_judge_that_does_not_answer_in_time_fails_closed(
    server: HTTPServer, judge: Judge
) -> None:
    released = threading.Event()

    def slow(request: Request) -> Response:
        released.wait(3)
        return Response(json.dumps(reply(verdicts())), content_type="application/json")

    server.expect_request(PATH).respond_with_handler(slow)
    try:
        finding = judge.finding("Hi Ann, thank you!", SLOT, INPUTS)
    finally:
        released.set()
    assert not finding.passed and "no answer within 1 s" in finding.detail


def test_the_verdict_is_recorded_in_the_slots_provenance(server: HTTPServer) -> None:
    server.expect_ordered_request(PATH).respond_with_json(reply("Hi Ann, thank you!"))
    server.expect_ordered_request(PATH).respond_with_json(reply(verdicts(off_instruction=True)))
    judge = Judge(server.url_for("/v1"), "judge-small", timeout=2.0)
    provider = OpenAIProvider(server.url_for("/v1"), "", "m", max_retries=0, judge=judge)
    try:
        record = generate_slot(
            SLOT, INPUTS, provider, category="service", locale="en", guardrails={}
        )
    finally:
        provider.close()
    assert record["judge"] == {
        "model": "judge-small",
        "passed": False,
        "detail": record["findings"][-1]["detail"],
    }
    assert record["findings"][-1]["check"] == "judge" and record["flagged"]
    assert record["text"] == SLOT.fallback


def test_the_judge_is_configured_only_with_a_model_and_never_offline() -> None:
    assert build_judge(Settings(ai_judge_model="")) is None
    settings = Settings(
        ai_provider="openai",
        ai_model="m",
        ai_base_url="http://127.0.0.1:9/v1",
        ai_judge_model="judge-small",
        ai_judge_base_url="http://127.0.0.1:8/v1",
        allowed_private_destinations=("127.0.0.1",),
    )
    provider = build_provider(settings)
    assert provider.judge is not None and provider.judge.model == "judge-small"
    assert provider.judge.base_url == "http://127.0.0.1:8/v1"
    assert isinstance(provider, OpenAIProvider)
    provider.close()
    assert build_provider(Settings(ai_judge_model="judge-small")).judge is None
    assert OfflineProvider.judge is None
