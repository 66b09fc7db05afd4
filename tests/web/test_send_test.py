"""Send a test: a version to the signed-in person themself, marked, audited, never a message."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from templates_store import versioning
from tests.support.web import Person

EMAIL = {
    "subject": "Your order {{ order_id }}",
    "html": "<html><body><p>Order {{ order_id }} is on its way.</p></body></html>",
    "text": "Order {{ order_id }} is on its way.",
}


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Person]:
    return {n: Person(app, f"{n}@example.com") for n in ("ana", "lee", "aud", "sam", "max")}


def _draft(app: Flask, key: str) -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key=key, name=key, category="transactional", channels=["email", "sms"]
        )
        content = {
            "parts": {"email": {"en": EMAIL}, "sms": {"en": {"body": "Order {{ order_id }}."}}},
            "variables": [{"name": "order_id", "type": "string", "required": True}],
            "sample_data": {"order_id": "A-77"},
        }
        return versioning.create_draft(
            session, key, author="ana@example.com", content=content
        ).number


def _outbox(app: Flask) -> Path:
    return Path(app.extensions["hcs"].settings.outbox_dir)


def _counts(app: Flask, key: str) -> tuple[int, list[AuditEntry]]:
    with transaction(app.extensions["hcs"].sessions) as session:
        messages = session.scalar(select(func.count()).select_from(Message)) or 0
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "template.test_send")
        ).all()
        return messages, [e for e in entries if e.target.startswith(key)]


def test_an_author_sends_a_draft_email_to_herself_marked_as_a_test_and_audited(
    app: Flask, people: dict[str, Person]
) -> None:
    number = _draft(app, "proof-mail")
    before = (
        set((_outbox(app) / "email").glob("*.eml")) if (_outbox(app) / "email").exists() else set()
    )
    messages_before = _counts(app, "proof-mail")[0]
    # The form names only a channel and locale; an address slipped in is never read.
    form = {
        "pair": "email|en",
        "back": "edit",
        "to": "victim@example.net",
        "email": "victim@example.net",
    }
    answer = people["ana"].post(f"/templates/proof-mail/versions/{number}/test", form)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/edit")
    written = set((_outbox(app) / "email").glob("*.eml")) - before
    assert len(written) == 1
    mail = message_from_bytes(written.pop().read_bytes())
    assert mail["To"] == "ana@example.com" and "victim" not in str(mail)
    assert mail["Subject"].startswith("[TEST] ") and "A-77" in mail["Subject"]
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    body = html.get_payload(decode=True).decode()
    assert "TEST MESSAGE sent to you from the editor" in body and "DRAFT PREVIEW" in body
    messages, entries = _counts(app, "proof-mail")
    assert messages == messages_before  # never a customer message
    assert entries[-1].actor == "ana@example.com"
    assert (
        entries[-1].detail["to"] == "ana@example.com" and entries[-1].detail["provider"] == "outbox"
    )
    assert (
        "was sent to you at ana@example.com"
        in people["ana"].get(f"/templates/proof-mail/versions/{number}/edit").text
    )


def test_a_test_sms_needs_the_persons_own_phone_and_goes_only_there(
    app: Flask, people: dict[str, Person]
) -> None:
    number = _draft(app, "proof-sms")
    path = f"/templates/proof-sms/versions/{number}/test"
    max_ = people["max"]
    refused = max_.post(path, {"pair": "sms|en"})
    assert refused.status_code == 303
    assert "add your phone number" in max_.get(f"/templates/proof-sms/versions/{number}").text
    assert max_.post("/account", {"phone": "not a phone"}).status_code == 422
    assert max_.post("/account", {"phone": "+44 7400 123456"}).status_code == 303
    max_.post(path, {"pair": "sms|en"})
    assert "verify your phone number" in max_.get(f"/templates/proof-sms/versions/{number}").text
    texted = json.loads((_outbox(app) / "sms.jsonl").read_text().splitlines()[-1])["body"]
    code = re.findall(r"\b\d{6}\b", texted)[0]
    assert max_.post("/account/phone/verify", {"code": code}).status_code == 303
    assert max_.post(path, {"pair": "sms|en", "phone": "+15005550006"}).status_code == 303
    lines = (_outbox(app) / "sms.jsonl").read_text().splitlines()
    sent = json.loads(lines[-1])
    assert sent["to"] == "+447400123456" and sent["body"] == "[TEST] [DRAFT] Order A-77."


@pytest.mark.parametrize("who", ["aud", "sam"])
def test_only_authors_and_reviewers_send_tests(
    app: Flask, people: dict[str, Person], who: str
) -> None:
    number = _draft(app, f"proof-role-{who}")
    answer = people[who].post(
        f"/templates/proof-role-{who}/versions/{number}/test", {"pair": "email|en"}
    )
    assert answer.status_code == 403
    assert _counts(app, f"proof-role-{who}")[1] == []


def test_a_test_send_without_its_csrf_token_is_refused(
    app: Flask, people: dict[str, Person]
) -> None:
    number = _draft(app, "proof-csrf")
    answer = people["ana"].post(
        f"/templates/proof-csrf/versions/{number}/test", {"pair": "email|en"}, csrf=False
    )
    assert answer.status_code == 400
    assert _counts(app, "proof-csrf")[1] == []


def test_an_unknown_channel_or_a_channel_the_version_lacks_is_not_sent_as_a_test(
    app: Flask, people: dict[str, Person]
) -> None:
    number = _draft(app, "proof-letter")
    for pair in ("letter|en", "pigeon|en", ""):
        people["lee"].post(f"/templates/proof-letter/versions/{number}/test", {"pair": pair})
    assert _counts(app, "proof-letter")[1] == []
    assert (
        "The test was not sent"
        in people["lee"].get(f"/templates/proof-letter/versions/{number}").text
    )
