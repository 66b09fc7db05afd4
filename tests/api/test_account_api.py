"""The API side of a verified phone: codes, verification and test sends as the calling person."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.web import make_draft
from tests.support.world import World

PHONE = "+447400123456"


def _last_text(world: World) -> dict[str, Any]:
    path = Path(world.app.extensions["hcs"].settings.outbox_dir) / "sms.jsonl"
    return json.loads(path.read_text().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_person_key_verifies_its_phone_and_the_code_is_in_no_answer(world: World) -> None:
    ana = world.as_("ana@example.com")
    sent = ana.post("/account/phone", {"phone": "+44 7400 123456"})
    assert sent.status_code == 202
    assert sent.json["phone"] == PHONE and sent.json["phone_verified"] is False
    code = re.findall(r"\b\d{6}\b", _last_text(world)["body"])[0]
    wrong = ana.post("/account/phone/verify", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422 and "code" in wrong.json["errors"]
    done = ana.post("/account/phone/verify", {"code": code})
    assert done.status_code == 200 and done.json["phone_verified"] is True
    answers = [sent, wrong, done, ana.get("/account"), ana.get("/audit")]
    assert all(code not in a.get_data(as_text=True) for a in answers)


def test_an_sms_test_to_an_unverified_phone_is_a_422_naming_the_phone(world: World) -> None:
    number = make_draft(world.app, "api-proof", author="cy@example.com")
    ana = world.as_("ana@example.com")
    path = f"/templates/api-proof/versions/{number}/test"
    refused = ana.post(path, {"channel": "sms", "locale": "en"})
    assert refused.status_code == 422 and "phone" in refused.json["errors"]
    ana.post("/account/phone", {"phone": PHONE})
    refused = ana.post(path, {"channel": "sms", "locale": "en"})
    assert refused.status_code == 422 and "verify" in refused.json["errors"]["phone"][0]
    code = re.findall(r"\b\d{6}\b", _last_text(world)["body"])[0]
    ana.post("/account/phone/verify", {"code": code})
    sent = ana.post(path, {"channel": "sms", "locale": "en"})
    assert sent.status_code == 200 and sent.json["to"] == PHONE
    assert _last_text(world)["body"].startswith("[TEST] ")


def test_a_system_key_has_no_phone_and_sends_no_test(world: World) -> None:
    system = world.as_("system")
    assert system.post("/account/phone", {"phone": PHONE}).status_code == 403
    assert system.get("/account").status_code == 403
