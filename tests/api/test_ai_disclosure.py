"""AI text is disclosed on every channel that carries it: at submission, at send, in the archive."""

from __future__ import annotations

from typing import Any

from hcs.worker.runtime import build_worker
from tests.support.flows import SLOT, disclosure_block, dispatch, status
from tests.support.world import Caller, World

VARIABLES = [
    {"name": "order_id", "type": "string", "required": True},
    {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
    {"name": "vip", "type": "boolean", "required": False},
]
SAMPLE = {"order_id": "A-1", "first_name": "Ana", "vip": False}
HTML = '<html lang="en"><body>{body}</body></html>'
DISCLOSED_HTML = HTML.format(body="<p>{{ opener }}</p>{{ block('ai-disclosure') }}")
DISCLOSED_TEXT = "{{ opener }} Order {{ order_id }}. {{ block('ai-disclosure') }}"


def _draft(world: World, key: str, parts: dict[str, Any]) -> Caller:
    """Ana writes a service template `key` with these parts and the opener slot."""
    ana = world.as_("ana@example.com")
    channels = sorted(parts)
    made = ana.post(
        "/templates", {"key": key, "name": key, "category": "service", "channels": channels}
    )
    assert made.status_code == 201, made.get_json()
    draft = ana.post(
        f"/templates/{key}/versions",
        {"parts": parts, "variables": VARIABLES, "sample_data": SAMPLE, "ai_slots": [SLOT]},
    )
    assert draft.status_code == 201, draft.get_json()
    return ana


def _submitted(world: World, key: str, parts: dict[str, Any]) -> Any:
    return _draft(world, key, parts).post(f"/templates/{key}/versions/1/submit")


def _refusals(answer: Any) -> dict[str, list[str]]:
    assert answer.status_code == 422, answer.get_json()
    return {k: v for k, v in answer.get_json()["errors"].items() if "ai_disclosure" in k}


def test_a_template_disclosing_only_in_the_email_html_is_refused_for_its_sms_part(
    world: World,
) -> None:
    disclosure_block(world)
    answer = _submitted(
        world,
        "welcome",
        {
            "email": {"en": {"subject": "Welcome", "html": DISCLOSED_HTML}},
            "sms": {"en": {"body": "{{ opener }} Order {{ order_id }}."}},
        },
    )
    refused = _refusals(answer)
    assert list(refused) == ["checks.ai_disclosure.sms.body.en"]
    assert "disclos" in refused["checks.ai_disclosure.sms.body.en"][0]


def test_the_email_text_part_must_disclose_too_when_the_html_does(world: World) -> None:
    disclosure_block(world)
    answer = _submitted(
        world,
        "welcome",
        {"email": {"en": {"subject": "Hi", "html": DISCLOSED_HTML, "text": "{{ opener }}"}}},
    )
    assert list(_refusals(answer)) == ["checks.ai_disclosure.email.text.en"]


def test_ai_text_in_the_subject_needs_the_disclosure_in_every_body(world: World) -> None:
    disclosure_block(world)
    html = HTML.format(body="{% if vip %}{{ block('ai-disclosure') }}{% endif %}<p>Hello</p>")
    answer = _submitted(
        world, "welcome", {"email": {"en": {"subject": "{{ opener }}", "html": html}}}
    )
    assert list(_refusals(answer)) == ["checks.ai_disclosure.email.html.en"]


def test_a_disclosure_inside_a_branch_not_taken_is_caught(world: World) -> None:
    disclosure_block(world)
    hidden = (
        "{% if vip %}{{ opener }} {{ block('ai-disclosure') }}"
        "{% else %}{{ opener }} Order {{ order_id }}.{% endif %}"
    )
    refused = _refusals(_submitted(world, "welcome", {"sms": {"en": {"body": hidden}}}))
    assert list(refused) == ["checks.ai_disclosure.sms.body.en"]
    assert "branch" in refused["checks.ai_disclosure.sms.body.en"][0]


def test_a_disclosure_in_a_loop_or_an_expression_branch_does_not_cover_the_slot(
    world: World,
) -> None:
    disclosure_block(world)
    looped = "{% for x in [] %}{{ block('ai-disclosure') }}{% endfor %}{{ opener }}"
    chosen = "{{ block('ai-disclosure') if vip else '' }} {{ opener }}"
    parts = {"sms": {"en": {"body": looped}}, "chat": {"en": {"body": chosen}}}
    refused = _refusals(_submitted(world, "welcome", parts))
    assert sorted(refused) == [
        "checks.ai_disclosure.chat.body.en",
        "checks.ai_disclosure.sms.body.en",
    ]


def test_a_policy_cannot_turn_the_disclosure_check_into_a_warning(world: World) -> None:
    disclosure_block(world)
    root = world.as_("root@example.com")
    turned_off = root.patch("/policies/service", {"checks": {"ai_disclosure": "off"}})
    assert turned_off.status_code == 422
    answer = _submitted(world, "welcome", {"sms": {"en": {"body": "{{ opener }}"}}})
    assert list(_refusals(answer)) == ["checks.ai_disclosure.sms.body.en"]


def test_channels_without_ai_text_need_no_disclosure_and_branches_that_disclose_pass(
    world: World,
) -> None:
    disclosure_block(world)
    branch = (
        "{% if vip %}{{ opener }} {{ block('ai-disclosure') }}"
        "{% else %}Order {{ order_id }}.{% endif %}"
    )
    parts = {
        "email": {"en": {"subject": "Hi", "html": DISCLOSED_HTML, "text": DISCLOSED_TEXT}},
        "sms": {"en": {"body": "Order {{ order_id }} is confirmed."}},
        "chat": {"en": {"body": branch}},
    }
    answer = _submitted(world, "welcome", parts)
    assert answer.status_code == 200, answer.get_json()


def _published(world: World, key: str, parts: dict[str, Any]) -> None:
    answer = _submitted(world, key, parts)
    assert answer.status_code == 200, answer.get_json()
    lee = world.as_("lee@example.com")
    assert lee.post(f"/templates/{key}/versions/1/approve").status_code == 200
    assert lee.post(f"/templates/{key}/versions/1/publish").status_code == 200


def _send_and_sign(world: World, key: str, channel: str, to: dict[str, str], **data: Any) -> str:
    answer = world.as_("system").post(
        "/messages",
        {
            "template": key,
            "channel": channel,
            "to": to,
            "data": {"order_id": "A-1", "first_name": "Ana", **data},
        },
    )
    assert answer.status_code == 202, answer.get_json()
    message_id = str(answer.get_json()["id"])
    dispatch(world)
    sam = world.as_("sam@example.com")
    pending = {i["message_id"]: i["id"] for i in sam.get("/signoffs").get_json()}
    if message_id in pending:
        assert sam.post(f"/signoffs/{pending[message_id]}/approve").status_code == 200
    services = world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()  # sends and archives
    return message_id


def _archived_ai(world: World, message_id: str) -> dict[str, Any]:
    auditor = world.as_("aud@example.com")
    [found] = auditor.get(f"/archive?message_id={message_id}").get_json()
    ai: dict[str, Any] = auditor.get(f"/archive/{found['id']}").get_json()["ai"]
    return ai


def test_the_archive_records_what_was_disclosed_on_the_message_channel(world: World) -> None:
    disclosure_block(world)
    parts = {
        "email": {"en": {"subject": "Hi", "html": DISCLOSED_HTML, "text": DISCLOSED_TEXT}},
        "sms": {"en": {"body": "Order {{ order_id }}: {{ opener }} {{ block('ai-disclosure') }}"}},
    }
    _published(world, "welcome", parts)
    sms = _send_and_sign(world, "welcome", "sms", {"phone": "+447400123456"})
    assert status(world, sms)["status"] == "sent"
    disclosed = _archived_ai(world, sms)["disclosure"]
    assert disclosed == {
        "channel": "sms",
        "locale": "en",
        "carries_ai": True,
        "block": "ai-disclosure",
        "version": 1,
        "parts": {"body": "(Written with AI, checked by our team.)"},
    }
    email = _send_and_sign(world, "welcome", "email", {"email": "ana@example.com"})
    shown = _archived_ai(world, email)["disclosure"]
    assert shown["channel"] == "email" and sorted(shown["parts"]) == ["html", "text"]
    assert shown["parts"]["html"] == "Written with AI, checked by our team."


def test_a_message_whose_disclosure_renders_empty_fails_closed_at_send(world: World) -> None:
    # The block discloses only when it knows the first name: the sample has one, this message not.
    disclosure_block(
        world,
        {
            "text": {"en": "{% if first_name != '-' %}(Written with AI.){% endif %}"},
            "html": {"en": "<p>Written with AI.</p>"},
        },
    )
    _published(world, "welcome", {"sms": {"en": {"body": DISCLOSED_TEXT}}})
    message_id = _send_and_sign(world, "welcome", "sms", {"phone": "+447400123456"}, first_name="-")
    seen = status(world, message_id)
    assert seen["status"] == "failed"
    assert "not disclosed" in seen["reason"]


def test_a_branch_without_ai_text_is_sent_without_a_disclosure(world: World) -> None:
    disclosure_block(world)
    branch = (
        "{% if vip %}{{ opener }} {{ block('ai-disclosure') }}"
        "{% else %}Order {{ order_id }} is confirmed.{% endif %}"
    )
    _published(world, "welcome", {"sms": {"en": {"body": branch}}})
    message_id = _send_and_sign(world, "welcome", "sms", {"phone": "+447400123456"}, vip=False)
    assert status(world, message_id)["status"] == "sent"
    disclosed = _archived_ai(world, message_id)["disclosure"]
    assert disclosed["carries_ai"] is False and disclosed["parts"] == {}


def test_a_disclosure_hidden_from_the_reader_does_not_count(world: World) -> None:
    disclosure_block(world)
    hidden = {"email": HTML.format(body="<p>{{ opener }}</p><!-- {{ block('ai-disclosure') }} -->")}
    styled = HTML.format(
        body="<style>.fine { display: none }</style><p>{{ opener }}</p>"
        "<div class=\"fine\">{{ block('ai-disclosure') }}</div>"
    )
    parts = {
        "email": {"en": {"subject": "Hi", "html": hidden["email"], "text": DISCLOSED_TEXT}},
        "letter": {
            "en": {
                "html": "<p>{{ opener }}</p><div hidden>{{ block('ai-disclosure') }}</div>",
                "css": "",
            }
        },
        "chat": {"en": {"body": DISCLOSED_TEXT}},
    }
    refused = _refusals(_submitted(world, "welcome", parts))
    assert sorted(refused) == [
        "checks.ai_disclosure.email.html.en",
        "checks.ai_disclosure.letter.html.en",
    ]
    parts["email"]["en"]["html"] = styled
    parts["letter"]["en"] = {
        "html": "<p>{{ opener }}</p><div class=\"small\">{{ block('ai-disclosure') }}</div>",
        "css": ".small { visibility: hidden }",
    }
    ana = world.as_("ana@example.com")
    assert ana.patch("/templates/welcome/versions/1", {"parts": parts}).status_code == 200
    again = _refusals(ana.post("/templates/welcome/versions/1/submit"))
    assert sorted(again) == [
        "checks.ai_disclosure.email.html.en",
        "checks.ai_disclosure.letter.html.en",
    ]
