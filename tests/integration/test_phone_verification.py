"""A person proves their phone with a one-time code before any test goes there."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from channels.core import SendResult
from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.errors import CodeRefused
from hcs.identity.phones import confirm_code, request_code
from hcs.identity.users import get_user
from hcs.infrastructure.db import transaction
from templates_store.orm import utcnow
from tests.support.web import Person, make_draft
from tests.support.world import World

ANA_PHONE, BO_PHONE = "+447400123456", "+447400123457"


def _texts(app: Flask) -> list[dict[str, Any]]:
    path = Path(app.extensions["hcs"].settings.outbox_dir) / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _code_sent_to(app: Flask, phone: str) -> str:
    text = [t for t in _texts(app) if t["to"] == phone][-1]["body"]
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found[1]


def _audit(app: Flask, email: str) -> list[AuditEntry]:
    with transaction(app.extensions["hcs"].sessions) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.target == email).order_by(AuditEntry.id)
        ).all()
        session.expunge_all()
        return list(entries)


def _verified_at(app: Flask, email: str) -> Any:
    with transaction(app.extensions["hcs"].sessions) as session:
        return get_user(session, email).phone_verified_at


def test_a_person_proves_their_phone_with_the_code_texted_to_it_and_then_gets_test_sms(
    world: World,
) -> None:
    ana = Person(world.app, "ana@example.com")
    number = make_draft(world.app, "verify-sms")
    path = f"/templates/verify-sms/versions/{number}/test"
    assert ana.post("/account", {"phone": "+44 7400 123456"}).status_code == 303
    ana.post(path, {"pair": "sms|en"})  # not verified yet: nothing goes out
    assert [t["to"] for t in _texts(world.app)] == [ANA_PHONE]  # only the code
    assert "verify your phone number" in ana.get(f"/templates/verify-sms/versions/{number}").text
    page = ana.get("/account").text
    assert "is not verified yet" in page and "Code sent to +447400123456" in page
    code = _code_sent_to(world.app, ANA_PHONE)
    assert ana.post("/account/phone/verify", {"code": code}).status_code == 303
    assert "+447400123456 is verified" in ana.get("/account").text
    assert ana.post(path, {"pair": "sms|en"}).status_code == 303
    assert _texts(world.app)[-1]["to"] == ANA_PHONE
    assert _texts(world.app)[-1]["body"].startswith("[TEST] ")
    actions = [e.action for e in _audit(world.app, "ana@example.com")]
    assert actions[-3:] == ["user.phone", "user.phone_code_sent", "user.phone_verified"]


def test_a_wrong_code_six_times_locks_so_even_the_right_code_then_fails(world: World) -> None:
    ana = Person(world.app, "ana@example.com")
    ana.post("/account", {"phone": ANA_PHONE})
    code = _code_sent_to(world.app, ANA_PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        answer = ana.post("/account/phone/verify", {"code": wrong})
        assert answer.status_code == 422 and f"{left} tries left" in answer.text
    assert "no tries left" in ana.post("/account/phone/verify", {"code": wrong}).text
    locked = ana.post("/account/phone/verify", {"code": code})
    assert locked.status_code == 422 and "too many wrong codes" in locked.text
    assert _verified_at(world.app, "ana@example.com") is None
    refused = [e for e in _audit(world.app, "ana@example.com") if "refused" in e.action]
    assert [e.detail["reason"] for e in refused] == ["wrong"] * 5 + ["locked"]


def test_an_expired_code_fails(world: World) -> None:
    sent: list[str] = []

    def send(phone: str, text: str, reference: str) -> SendResult:
        sent.append(text)
        return SendResult("fake", reference)

    with transaction(world.app.extensions["hcs"].sessions) as session:
        eleven_minutes_ago = utcnow() - timedelta(minutes=11)
        request_code(
            session,
            "bo@example.com",
            BO_PHONE,
            secret=b"k",
            send=send,
            actor="bo@example.com",
            now=eleven_minutes_ago,
        )
    code = re.findall(r"\d{6}", sent[0])[0]
    with transaction(world.app.extensions["hcs"].sessions) as session:
        with pytest.raises(CodeRefused, match="expired"):
            confirm_code(session, "bo@example.com", code, secret=b"k", actor="bo@example.com")
    assert _verified_at(world.app, "bo@example.com") is None


def test_person_b_can_neither_verify_nor_use_person_a_phone(world: World) -> None:
    ana, bo = Person(world.app, "ana@example.com"), Person(world.app, "max@example.com")
    ana.post("/account", {"phone": ANA_PHONE})
    anas_code = _code_sent_to(world.app, ANA_PHONE)
    first = bo.post("/account/phone/verify", {"code": anas_code})
    assert first.status_code == 422 and "ask for a code first" in first.text
    bo.post("/account", {"phone": ANA_PHONE})  # a code goes to Ana's phone, not to Bo
    assert bo.post("/account/phone/verify", {"code": anas_code}).status_code == 422
    assert _verified_at(world.app, "max@example.com") is None
    number = make_draft(world.app, "verify-theft", author="cy@example.com")
    before = len(_texts(world.app))
    bo.post(f"/templates/verify-theft/versions/{number}/test", {"pair": "sms|en"})
    assert len(_texts(world.app)) == before  # no test went to Ana's phone
    assert _verified_at(world.app, "ana@example.com") is None


def test_the_code_is_never_in_the_audit_log_a_page_or_an_answer(world: World) -> None:
    ana = Person(world.app, "ana@example.com")
    answers = [ana.post("/account", {"phone": ANA_PHONE})]
    code = _code_sent_to(world.app, ANA_PHONE)
    answers += [ana.get("/account"), ana.post("/account/phone/verify", {"code": "000000"})]
    answers += [ana.post("/account/phone/verify", {"code": code}), ana.get("/account")]
    assert all(code not in a.get_data(as_text=True) for a in answers)
    assert all(code not in str(dict(a.headers)) for a in answers)
    entries = _audit(world.app, "ana@example.com")
    assert entries and all(code not in json.dumps([e.detail, e.before, e.after]) for e in entries)
    assert _verified_at(world.app, "ana@example.com") is not None


def test_the_phone_forms_without_their_csrf_token_are_refused(world: World) -> None:
    ana = Person(world.app, "ana@example.com")
    assert ana.post("/account", {"phone": ANA_PHONE}, csrf=False).status_code == 400
    assert _texts(world.app) == []
    ana.post("/account", {"phone": ANA_PHONE})
    code = _code_sent_to(world.app, ANA_PHONE)
    assert ana.post("/account/phone/verify", {"code": code}, csrf=False).status_code == 400
    assert _verified_at(world.app, "ana@example.com") is None


def test_a_new_code_waits_a_minute_and_a_new_number_is_unverified(world: World) -> None:
    ana = Person(world.app, "ana@example.com")
    ana.post("/account", {"phone": ANA_PHONE})
    again = ana.post("/account", {"phone": ANA_PHONE})
    assert again.status_code == 429 and "a code was just sent" in again.text
    assert len(_texts(world.app)) == 1
    ana.post("/account/phone/verify", {"code": _code_sent_to(world.app, ANA_PHONE)})
    assert _verified_at(world.app, "ana@example.com") is not None
    assert ana.post("/account", {"phone": BO_PHONE}).status_code == 429  # still within the minute
    assert _verified_at(world.app, "ana@example.com") is not None  # refused: nothing changed
    with transaction(world.app.extensions["hcs"].sessions) as session:
        from hcs.identity.users import set_phone

        set_phone(session, "ana@example.com", BO_PHONE, actor="ana@example.com")
    assert _verified_at(world.app, "ana@example.com") is None


def test_an_admin_may_vouch_for_a_phone_from_the_command_line_audited(world: World) -> None:
    url = str(world.app.extensions["hcs"].settings.database_url)
    result = CliRunner().invoke(
        main,
        ["users", "phone", "--email", "bo@example.com", "--phone", BO_PHONE, "--verified"],
        env={"HCS_DATABASE_URL": url},
    )
    assert result.exit_code == 0 and "(verified)" in result.output, result.output
    assert _verified_at(world.app, "bo@example.com") is not None
    vouched = _audit(world.app, "bo@example.com")[-1]
    assert vouched.action == "user.phone_verified" and vouched.detail["how"] == "admin"
    plain = CliRunner().invoke(
        main,
        ["users", "phone", "--email", "bo@example.com", "--phone", ANA_PHONE],
        env={"HCS_DATABASE_URL": url},
    )
    assert "not verified" in plain.output and _verified_at(world.app, "bo@example.com") is None
