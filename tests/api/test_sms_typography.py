"""SMS typography: the demo reminder's time (Babel puts U+202F before "PM") costs one segment."""

from __future__ import annotations

import json

from hcs.cli.seeding import load_demo
from hcs.infrastructure.db import transaction
from tests.support.flows import dispatch
from tests.support.world import World

REMINDER = {
    "first_name": "Sam",
    "appointment_at": "2026-12-03T14:30:00+00:00",
    "store_name": "Bristol Harbourside",
}


def test_the_demo_reminder_previews_and_sends_as_one_gsm7_segment(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        load_demo(session)
    system = world.as_("system")
    preview = system.post(
        "/templates/appointment-reminder/preview",
        json={"channel": "sms", "locale": "en", "data": REMINDER},
    )
    assert preview.status_code == 200, preview.get_json()
    output = preview.get_json()["output"]
    assert (output["encoding"], output["segments"]) == ("GSM-7", 1)
    assert "U+202F" in output["gsm_substitutions"] and "\u202f" not in output["body"]
    assert "gsm_substituted" in [w["code"] for w in preview.get_json()["warnings"]]

    sent = system.post(
        "/messages",
        json={
            "template": "appointment-reminder",
            "channel": "sms",
            "to": {"phone": "+447400123456"},
            "data": REMINDER,
        },
    )
    assert sent.status_code == 202, sent.get_json()
    dispatch(world)
    outbox = world.app.extensions["hcs"].settings.outbox_dir
    [line] = (outbox / "sms.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert (record["encoding"], record["segments"]) == ("GSM-7", 1)
    assert "2:30:00 PM." in record["body"]
