"""The editor's SMS meter (meter.js) counts with the same GSM-7 tables as the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from channels.sms.segments import GSM_BASIC, GSM_EXTENSION, GSM_LOOKALIKES

METER = Path(__file__).parents[2] / "hcs" / "http" / "static" / "web" / "meter.js"


def table(name: str) -> str:
    found = re.search(rf"^const {name} = (?:new Set\()?(.+?)\)?;$", METER.read_text("utf-8"), re.M)
    assert found, name
    return found[1]


def test_the_meter_knows_the_gsm_alphabet_the_server_counts_with() -> None:
    assert set(json.loads(table("GSM_BASIC"))) == GSM_BASIC
    assert set(json.loads(table("GSM_EXTENSION"))) == GSM_EXTENSION


def test_the_meter_replaces_the_typography_the_server_replaces() -> None:
    assert json.loads(table("GSM_LOOKALIKES")) == GSM_LOOKALIKES
