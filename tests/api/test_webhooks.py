"""Provider webhooks and the unsubscribe link over HTTP, with real signatures.

Emails go out through the SendGrid SDK and texts through the Twilio SDK, both to a loopback
server; their reports come back signed as SendGrid (ECDSA P-256) and Twilio (RequestValidator)
sign them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

from channels.email.unsubscribe import make_unsubscribe_token
from hcs.channels.email import unsubscribe_secret
from hcs.dispatch.rerendering import rerender
from hcs.dispatch.suppressed import archive_suppressed
from hcs.errors import Conflict
from hcs.infrastructure.db import transaction
from hcs.infrastructure.delivery import read_delivery
from hcs.worker.runtime import build_worker
from tests.support.flows import PARTS, dispatch, new_template, published, reviewed
from tests.support.httpservers import LoopbackServer
from tests.support.sendgrid import PUBLIC_KEY, signed
from tests.support.world import World

PUBLIC_URL = "https://hcs.example"
ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-auth-token"
PHONE = "+447400123456"
DATA = {"order_id": "A-1001", "first_name": "Ana"}


@dataclass
class Loopback:
    """A loopback SendGrid and Twilio: what they were sent, and the ids they gave."""

    server: HTTPServer
    mails: list[dict[str, Any]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=itertools.count)
    # Called with a new SID before Twilio answers: a status callback can beat the answer.
    before_answer: Callable[[str], None] | None = None
    texts: list[dict[str, str]] = field(default_factory=list)
    # Numbers Twilio refuses with 21610: they replied STOP to their carrier.
    unsubscribed: set[str] = field(default_factory=set)

    def mail_send(self, request: Request) -> Response:
        self.mails.append(json.loads(request.get_data()))
        return Response("", 202, {"X-Message-Id": f"sg{next(self.ids)}"})

    def twilio_create(self, request: Request) -> Response:
        if request.form.get("To") in self.unsubscribed:
            refusal = {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
            body = json.dumps({**refusal, "status": 400})
            return Response(body, 400, {"Content-Type": "application/json"})
        self.texts.append(dict(request.form))
        sid = f"SM{next(self.ids):032d}"
        if self.before_answer is not None:
            self.before_answer(sid)
        return Response(
            json.dumps({"sid": sid, "status": "queued"}), 201, {"Content-Type": "application/json"}
        )


@dataclass
class Hooks:
    world: World
    loopback: Loopback

    def send(self, template: str, channel: str, to: dict[str, str]) -> dict[str, Any]:
        body = {"template": template, "channel": channel, "to": to, "data": DATA}
        return self.world.as_("system").post("/messages", body).get_json()

    def message(self, message_id: str) -> dict[str, Any]:
        return self.world.as_("root@example.com").get(f"/messages/{message_id}").get_json()

    def opt_in(self, recipient: str, channel: str, category: str = "marketing") -> None:
        choice = {"channel": channel, "category": category, "status": "opted_in"}
        answer = self.world.as_("system").post(f"/recipients/{recipient}/preferences", choice)
        assert answer.status_code == 200


@pytest.fixture
def hooks(make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    # Both variables rewrite the Twilio host, which would defeat the loopback server.
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    server = LoopbackServer(host="127.0.0.1", port=0)
    server.start()
    loopback = Loopback(server)
    server.expect_request("/v3/mail/send", method="POST").respond_with_handler(loopback.mail_send)
    server.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json", method="POST"
    ).respond_with_handler(loopback.twilio_create)
    world = make_world()
    services = world.app.extensions["hcs"]
    services.settings = replace(
        services.settings,
        public_url=PUBLIC_URL,
        delivery=read_delivery(
            {
                "HCS_EMAIL_PROVIDER": "sendgrid",
                "HCS_SMS_PROVIDER": "twilio",
                "SENDGRID_API_KEY": "SG.test",
                "HCS_SENDGRID_HOST": server.url_for("").rstrip("/"),
                "SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC_KEY,
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "HCS_TWILIO_FROM": "+447400000001",
                "HCS_TWILIO_BASE_URL": server.url_for("/"),
            }
        ),
    )
    yield Hooks(world, loopback)
    server.clear()
    server.stop()


# --- SendGrid ---------------------------------------------------------------------------------


def report(message: dict[str, Any], event: str, n: int = 1, **fields: Any) -> dict[str, Any]:
    """One SendGrid event about `message`, carrying the custom argument the email was sent with."""
    return {
        "email": message["to"]["email"],
        "timestamp": int(datetime.now(UTC).timestamp()),
        "event": event,
        "sg_message_id": f"{message['provider_message_id']}.filter0001.{n}.0",
        "sg_event_id": f"{event}-{n}",
        "hcs_reference": message["id"],
        **fields,
    }


def post_events(hooks: Hooks, events: list[dict[str, Any]], **headers: str) -> Any:
    body = json.dumps(events).encode()
    client = hooks.world.app.test_client()
    return client.post("/webhooks/sendgrid", data=body, headers=signed(body) | headers)


def sent_email(hooks: Hooks) -> dict[str, Any]:
    published(hooks.world)
    accepted = hooks.send("order-confirmation", "email", {"email": "ana@example.com"})
    assert dispatch(hooks.world) == 1
    message = hooks.message(accepted["id"])
    assert message["status"] == "sent" and message["provider"] == "sendgrid"
    return message


def test_the_email_carries_its_reference_and_a_delivery_report_marks_it_delivered(
    hooks: Hooks,
) -> None:
    message = sent_email(hooks)
    assert hooks.loopback.mails[-1]["custom_args"] == {"hcs_reference": message["id"]}
    answer = post_events(hooks, [report(message, "delivered"), report(message, "open", 2)])
    assert answer.status_code == 200 and answer.get_json() == {"events": 2, "matched": 2}
    after = hooks.message(message["id"])
    assert after["status"] == "delivered"
    assert [e["kind"] for e in after["events"]] == ["accepted", "sent", "delivered", "opened"]
    # SendGrid retries what it thinks failed: the same events again change nothing.
    assert post_events(hooks, [report(message, "delivered")]).status_code == 200
    assert hooks.message(message["id"])["events"] == after["events"]


def test_a_report_without_our_reference_finds_the_email_by_sendgrids_id(hooks: Hooks) -> None:
    message = sent_email(hooks)
    event = report(message, "delivered")
    del event["hcs_reference"]
    assert post_events(hooks, [event]).get_json() == {"events": 1, "matched": 1}
    assert hooks.message(message["id"])["status"] == "delivered"


def test_a_bounce_fails_the_email_with_the_providers_reason(hooks: Hooks) -> None:
    message = sent_email(hooks)
    post_events(hooks, [report(message, "delivered")])
    bounce = report(message, "bounce", 2, reason="550 5.1.1 The email account does not exist")
    assert post_events(hooks, [bounce]).status_code == 200
    after = hooks.message(message["id"])
    assert after["status"] == "failed"
    assert after["reason"] == "550 5.1.1 The email account does not exist"


def test_reports_are_appended_to_the_archive_entry_of_the_email(hooks: Hooks) -> None:
    published(hooks.world)
    accepted = hooks.send("order-confirmation", "email", {"email": "ana@example.com"})
    services = hooks.world.app.extensions["hcs"]
    assert build_worker(services.settings, services.sessions).run_once() == 1
    message = hooks.message(accepted["id"])
    bounce = report(message, "bounce", reason="550 5.1.1 unknown user")
    assert post_events(hooks, [report(message, "delivered"), bounce]).status_code == 200
    auditor = hooks.world.as_("aud@example.com")
    [entry] = auditor.get("/archive").get_json()
    events = auditor.get(f"/archive/{entry['id']}").get_json()["events"]
    assert [(e["kind"], e["provider"]) for e in events] == [
        ("delivered", "sendgrid"),
        ("bounced", "sendgrid"),
    ]
    assert events[1]["detail"]["reason"] == "550 5.1.1 unknown user"


def _altered(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body.replace(b"delivered", b"bounce"), signed(body)


def _unsigned(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {}


def _replayed(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, signed(body, datetime.now(UTC) - timedelta(minutes=10))


def _garbage(body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = signed(body)
    return body, headers | {"X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl"}


@pytest.mark.parametrize("tamper", [_altered, _unsigned, _replayed, _garbage])
def test_altered_unsigned_or_replayed_sendgrid_reports_are_refused_and_change_nothing(
    hooks: Hooks, tamper: Any
) -> None:
    message = sent_email(hooks)
    body, headers = tamper(json.dumps([report(message, "delivered")]).encode())
    answer = hooks.world.app.test_client().post("/webhooks/sendgrid", data=body, headers=headers)
    assert answer.status_code == 403 and answer.is_json
    assert hooks.message(message["id"]) == message


def test_without_a_configured_public_key_every_sendgrid_report_is_refused(hooks: Hooks) -> None:
    services = hooks.world.app.extensions["hcs"]
    services.settings = replace(services.settings, delivery=read_delivery({}))
    answer = post_events(hooks, [])
    assert (
        answer.status_code == 403 and "SENDGRID_WEBHOOK_PUBLIC_KEY" in answer.get_json()["message"]
    )


# --- Twilio -----------------------------------------------------------------------------------


def twilio_post(hooks: Hooks, path: str, params: dict[str, str], url: str = "") -> Any:
    signature = RequestValidator(TOKEN).compute_signature(url or PUBLIC_URL + path, params)
    client = hooks.world.app.test_client()
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def sent_sms(hooks: Hooks, template: str = "order-confirmation") -> dict[str, Any]:
    accepted = hooks.send(template, "sms", {"phone": PHONE})
    assert dispatch(hooks.world) == 1
    message = hooks.message(accepted["id"])
    assert message["status"] == "sent" and message["provider"] == "twilio"
    return message


def status(message: dict[str, Any], value: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "MessageSid": message["provider_message_id"],
        "MessageStatus": value,
        "To": PHONE,
        **extra,
    }


def test_a_signed_status_callback_updates_the_sms_once(hooks: Hooks) -> None:
    published(hooks.world)
    message = sent_sms(hooks)
    for value in ("sent", "delivered", "delivered", "sent"):
        answer = twilio_post(hooks, "/webhooks/twilio/status", status(message, value))
        assert answer.status_code == 204
    after = hooks.message(message["id"])
    assert after["status"] == "delivered"
    # (MessageSid, status) is recorded once; the late "sent" did not move it back.
    assert [e["kind"] for e in after["events"]] == ["accepted", "sent", "sent", "delivered"]


def test_a_status_callback_that_beats_sent_is_applied_when_sent_is_recorded(
    hooks: Hooks,
) -> None:
    published(hooks.world)
    answers: list[int] = []

    def delivered_at_once(sid: str) -> None:
        params = {"AccountSid": ACCOUNT, "MessageSid": sid, "MessageStatus": "delivered"}
        answers.append(twilio_post(hooks, "/webhooks/twilio/status", params).status_code)

    hooks.loopback.before_answer = delivered_at_once
    accepted = hooks.send("order-confirmation", "sms", {"phone": PHONE})
    services = hooks.world.app.extensions["hcs"]
    assert build_worker(services.settings, services.sessions).run_once() == 1
    assert answers == [204]
    message = hooks.message(accepted["id"])
    assert message["status"] == "delivered"
    assert [e["kind"] for e in message["events"]] == ["accepted", "sent", "delivered"]
    auditor = hooks.world.as_("aud@example.com")
    [entry] = auditor.get("/archive").get_json()
    events = auditor.get(f"/archive/{entry['id']}").get_json()["events"]
    assert [(e["kind"], e["provider"]) for e in events] == [("delivered", "twilio")]


def test_an_undelivered_sms_fails_with_twilios_error_code(hooks: Hooks) -> None:
    published(hooks.world)
    message = sent_sms(hooks)
    params = status(message, "undelivered", ErrorCode="30003")
    assert twilio_post(hooks, "/webhooks/twilio/status", params).status_code == 204
    after = hooks.message(message["id"])
    assert (after["status"], after["reason"]) == ("failed", "Twilio error 30003")


def test_unsigned_altered_or_misaddressed_twilio_callbacks_are_refused(hooks: Hooks) -> None:
    published(hooks.world)
    message = sent_sms(hooks)
    params = status(message, "delivered")
    client = hooks.world.app.test_client()
    signature = RequestValidator(TOKEN).compute_signature(
        PUBLIC_URL + "/webhooks/twilio/status", params
    )
    altered = {**params, "MessageStatus": "failed"}
    refused = [
        client.post("/webhooks/twilio/status", data=params),
        client.post(
            "/webhooks/twilio/status", data=altered, headers={"X-Twilio-Signature": signature}
        ),
        # Signed for the address the app sees, not the public one Twilio was given.
        twilio_post(
            hooks, "/webhooks/twilio/status", params, url="http://localhost/webhooks/twilio/status"
        ),
    ]
    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert hooks.message(message["id"]) == message


def inbound(hooks: Hooks, body: str, n: int) -> Any:
    params = {
        "AccountSid": ACCOUNT,
        "MessageSid": f"SM{n:032d}",
        "From": PHONE,
        "To": "+447400000001",
        "Body": body,
    }
    return twilio_post(hooks, "/webhooks/twilio/inbound", params)


def test_a_stop_text_suppresses_later_optional_sms_and_start_lifts_it(hooks: Hooks) -> None:
    published(hooks.world)
    published(hooks.world, key="sms-news", category="service")
    marketing_email(hooks)  # marketing on email and SMS
    hooks.opt_in(PHONE, "sms")
    assert hooks.send("winter-sale", "sms", {"phone": PHONE})["status"] == "accepted"
    answer = inbound(hooks, "Stop ", 1)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert answer.get_data(as_text=True).endswith("<Response></Response>")
    service = hooks.send("sms-news", "sms", {"phone": PHONE})
    assert service["status"] == "suppressed"
    assert "STOP keyword" in hooks.message(service["id"])["reason"]
    assert hooks.send("winter-sale", "sms", {"phone": PHONE})["status"] == "suppressed"
    transactional = hooks.send("order-confirmation", "sms", {"phone": PHONE})
    assert transactional["status"] == "accepted"

    assert inbound(hooks, "START", 2).status_code == 200
    assert hooks.send("sms-news", "sms", {"phone": PHONE})["status"] == "accepted"
    choices = hooks.world.as_("system").get(f"/recipients/{PHONE}/preferences").get_json()
    # START lifts the STOP; it does not bring back (or create) a marketing opt-in.
    assert choices == []
    assert hooks.send("winter-sale", "sms", {"phone": PHONE})["status"] == "suppressed"
    # Twilio signs no timestamp: the START replayed after a later STOP counts for nothing.
    inbound(hooks, "STOP", 3)
    assert inbound(hooks, "START", 2).status_code == 200
    assert hooks.send("sms-news", "sms", {"phone": PHONE})["status"] == "suppressed"


def test_an_unsigned_stop_changes_nothing(hooks: Hooks) -> None:
    published(hooks.world, key="sms-news", category="service")
    params = {"AccountSid": ACCOUNT, "MessageSid": "SM" + "9" * 32, "From": PHONE, "Body": "STOP"}
    answer = hooks.world.app.test_client().post("/webhooks/twilio/inbound", data=params)
    assert answer.status_code == 403
    assert hooks.send("sms-news", "sms", {"phone": PHONE})["status"] == "accepted"


# --- Unsubscribe ------------------------------------------------------------------------------


def marketing_email(hooks: Hooks) -> None:
    """A published marketing email, which must include the approved unsubscribe block."""
    ana, lee = hooks.world.as_("ana@example.com"), hooks.world.as_("lee@example.com")
    ana.post("/blocks", {"key": "unsubscribe", "name": "Unsubscribe"})
    link = '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    content = {"html": {"en": link}, "text": {"en": "Unsubscribe: {{ unsubscribe_url }}"}}
    ana.post("/blocks/unsubscribe/versions", {"content": content})
    ana.post("/blocks/unsubscribe/versions/1/submit")
    lee.post("/blocks/unsubscribe/versions/1/approve")
    lee.post("/blocks/unsubscribe/versions/1/publish")
    new_template(hooks.world, key="winter-sale", category="marketing")
    html = PARTS["email"]["en"]["html"].replace("</body>", "{{ block('unsubscribe') }}</body>")
    parts = {**PARTS, "email": {"en": {**PARTS["email"]["en"], "html": html}}}
    assert ana.patch("/templates/winter-sale/versions/1", {"parts": parts}).status_code == 200
    reviewed(hooks.world, "winter-sale", 1, "lee@example.com", "bo@example.com")
    assert lee.post("/templates/winter-sale/versions/1/publish").status_code == 200


def unsubscribe_link(hooks: Hooks) -> str:
    """Send one marketing email and return its List-Unsubscribe URL's path and query."""
    marketing_email(hooks)
    hooks.opt_in("ana@example.com", "email")
    assert hooks.send("winter-sale", "email", {"email": "ana@example.com"})["status"] == "accepted"
    assert dispatch(hooks.world) == 1
    headers = hooks.loopback.mails[-1]["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = urlsplit(headers["List-Unsubscribe"].split(",")[0].strip("<> "))
    assert f"{url.scheme}://{url.netloc}" == PUBLIC_URL and url.path == "/unsubscribe"
    return f"{url.path}?{url.query}"


def next_marketing_status(hooks: Hooks) -> str:
    sent = hooks.send("winter-sale", "email", {"email": "ana@example.com"})
    return sent["status"]


def test_a_one_click_post_unsubscribes_from_later_marketing_email(hooks: Hooks) -> None:
    link = unsubscribe_link(hooks)
    client = hooks.world.app.test_client()
    answer = client.post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200 and answer.get_data() == b""
    assert next_marketing_status(hooks) == "suppressed"


def test_following_the_link_only_asks_and_the_button_unsubscribes(hooks: Hooks) -> None:
    link = unsubscribe_link(hooks)
    client = hooks.world.app.test_client()
    page = client.get(link)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Stop sending marketing emails to ana@example.com?" in html
    assert client.head(link).status_code == 200
    # Mail scanners follow links: a GET (or HEAD) unsubscribes no one.
    assert next_marketing_status(hooks) == "accepted"
    assert client.post(link, data={}).status_code == 400
    assert next_marketing_status(hooks) == "accepted"
    done = client.post(link, data={"confirm": "yes"})
    assert done.status_code == 200 and "will no longer receive marketing" in done.get_data(
        as_text=True
    )
    assert next_marketing_status(hooks) == "suppressed"


def test_an_expired_or_forged_token_is_refused(hooks: Hooks) -> None:
    secret = unsubscribe_secret(hooks.world.app.extensions["hcs"].settings)
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = make_unsubscribe_token(secret, "ana@example.com", "marketing", past)
    future = datetime.now(UTC) + timedelta(days=1)
    forged = make_unsubscribe_token(b"another secret", "ana@example.com", "marketing", future)
    client = hooks.world.app.test_client()
    for token in (expired, forged, "", "nonsense"):
        page = client.get(f"/unsubscribe?token={token}")
        assert page.status_code == 400 and "cannot be used" in page.get_data(as_text=True)
        one_click = client.post(
            f"/unsubscribe?token={token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert one_click.status_code == 400 and "token" in one_click.get_json()["errors"]
    choices = hooks.world.as_("system").get("/recipients/ana@example.com/preferences").get_json()
    assert choices == []


def test_a_status_callback_reconciles_an_sms_whose_create_answer_was_lost(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(hooks.world)
    services = hooks.world.app.extensions["hcs"]
    twilio = replace(services.settings.delivery.twilio, timeout=0.3)
    delivery = replace(services.settings.delivery, twilio=twilio)
    services.settings = replace(services.settings, delivery=delivery)
    callbacks: list[str] = []

    def slow(request: Request) -> Response:  # Twilio takes the message; its answer never comes
        callbacks.append(request.form["StatusCallback"])
        time.sleep(0.6)
        return Response("{}", 201, {"Content-Type": "application/json"})

    hooks.loopback.server.clear()
    hooks.loopback.server.expect_request(
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json", method="POST"
    ).respond_with_handler(slow)
    accepted = hooks.send("order-confirmation", "sms", {"phone": PHONE})
    assert build_worker(services.settings, services.sessions).run_once() == 1
    assert hooks.message(accepted["id"])["status"] == "unknown"  # no SID: only our id
    [callback] = callbacks
    assert urlsplit(callback).query == f"hcs_reference={accepted['id']}"
    params = {"AccountSid": ACCOUNT, "MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"}
    path = callback.removeprefix(PUBLIC_URL)
    assert twilio_post(hooks, path, params, url=callback).status_code == 204
    after = hooks.message(accepted["id"])
    assert (after["status"], after["provider_message_id"]) == ("delivered", "SM" + "7" * 32)
    assert [e["kind"] for e in after["events"]][-3:] == ["unknown", "reconciled", "delivered"]


# --- Suppression ------------------------------------------------------------------------------


def test_a_hard_bounce_suppresses_every_later_email_to_the_address_a_soft_one_does_not(
    hooks: Hooks,
) -> None:
    message = sent_email(hooks)
    soft = report(message, "bounce", 2, type="blocked", reason="421 try again later")
    assert post_events(hooks, [soft]).status_code == 200
    waiting = hooks.send("order-confirmation", "email", {"email": "ana@example.com"})
    assert waiting["status"] == "accepted"
    hard = report(message, "bounce", 3, type="bounce", reason="550 5.1.1 no such user")
    assert post_events(hooks, [hard]).status_code == 200
    later = hooks.send("order-confirmation", "email", {"email": "ana@example.com"})
    assert later["status"] == "suppressed"
    assert "hard bounce" in hooks.message(later["id"])["reason"]
    mails = len(hooks.loopback.mails)
    assert dispatch(hooks.world) == 1  # accepted before the bounce: suppressed when taken
    assert hooks.message(waiting["id"])["status"] == "suppressed"
    assert len(hooks.loopback.mails) == mails


def test_a_spam_report_suppresses_even_receipts_to_the_address(hooks: Hooks) -> None:
    message = sent_email(hooks)
    assert post_events(hooks, [report(message, "spamreport", 2)]).status_code == 200
    later = hooks.send("order-confirmation", "email", {"email": "ana@example.com"})
    assert later["status"] == "suppressed"
    assert "spam complaint" in hooks.message(later["id"])["reason"]
    other = hooks.send("order-confirmation", "email", {"email": "bo@example.com"})
    assert other["status"] == "accepted"


def test_a_status_callback_with_error_21610_suppresses_the_number_until_start(
    hooks: Hooks,
) -> None:
    published(hooks.world)
    message = sent_sms(hooks)
    params = status(message, "failed", ErrorCode="21610")
    assert twilio_post(hooks, "/webhooks/twilio/status", params).status_code == 204
    later = hooks.send("order-confirmation", "sms", {"phone": PHONE})
    assert later["status"] == "suppressed"
    assert "21610" in hooks.message(later["id"])["reason"]
    assert inbound(hooks, "start", 1).status_code == 200
    assert hooks.send("order-confirmation", "sms", {"phone": PHONE})["status"] == "accepted"


def test_twilio_refusing_an_unsubscribed_number_suppresses_the_message_and_the_number(
    hooks: Hooks,
) -> None:
    published(hooks.world)
    hooks.loopback.unsubscribed.add(PHONE)
    accepted = hooks.send("order-confirmation", "sms", {"phone": PHONE})
    assert dispatch(hooks.world) == 1
    message = hooks.message(accepted["id"])
    assert message["status"] == "suppressed" and "21610" in message["reason"]
    assert hooks.send("order-confirmation", "sms", {"phone": PHONE})["status"] == "suppressed"


def test_revoke_suppresses_and_a_suppressed_message_is_archived_with_its_reason_never_sent(
    hooks: Hooks,
) -> None:
    published(hooks.world, key="sms-news", category="service")
    first = hooks.send("sms-news", "sms", {"phone": PHONE})
    assert inbound(hooks, "Revoke", 1).status_code == 200
    at_the_door = hooks.send("sms-news", "sms", {"phone": PHONE})
    assert at_the_door["status"] == "suppressed"
    assert dispatch(hooks.world) == 1
    assert hooks.message(first["id"])["status"] == "suppressed"
    assert hooks.loopback.texts == []
    services = hooks.world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    assert worker.archive_late is not None and worker.archive_late() == 2
    auditor = hooks.world.as_("aud@example.com")
    entries = auditor.get("/archive").get_json()
    assert {entry["message_id"] for entry in entries} == {first["id"], at_the_door["id"]}
    for entry in entries:
        shown = auditor.get(f"/archive/{entry['id']}").get_json()
        assert shown["content_type"] == "application/vnd.hcs.suppressed+json"
        record = json.loads(shown["output"])
        assert record["status"] == "suppressed" and "STOP keyword" in record["reason"]
    assert archive_suppressed(services.sessions, None)[0] == 0  # each archived once
    with transaction(services.sessions) as session, pytest.raises(Conflict, match="suppressed"):
        rerender(session, entries[0]["id"], providers=worker.providers, actor="aud@example.com")


def test_a_providers_reason_is_kept_without_the_recipients_address(hooks: Hooks) -> None:
    message = sent_email(hooks)
    reason = "550 5.1.1 <ana@example.com>: Recipient address rejected (also eve@example.org)"
    assert post_events(hooks, [report(message, "bounce", 2, reason=reason)]).status_code == 200
    after = hooks.message(message["id"])
    assert (
        after["reason"] == "550 5.1.1 <[recipient]>: Recipient address rejected (also [recipient])"
    )
    assert "@example" not in json.dumps(after["events"])
