"""SMS numbers, validation, the outbox, and Twilio's real SDK against a loopback server."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer

from channels import files
from channels.core import Category, Level
from channels.errors import ChannelError, InvalidContent, InvalidRecipient, TransientChannelError
from channels.sms import (
    SMS_PROVIDERS,
    Encoding,
    SmsChannel,
    SmsContent,
    SmsSettings,
    normalise_phone,
)
from channels.sms.twilio import TwilioSms
from tests.support.keepalive import keepalive_server

SID, TOKEN = "AC" + "0" * 32, "auth-token"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.mark.parametrize(
    "raw, region", [("+447400123456", None), ("+44 7400 123456", None), ("07400 123456", "GB")]
)
def test_numbers_are_normalised_to_e164(raw: str, region: str | None) -> None:
    assert normalise_phone(raw, region) == "+447400123456"


@pytest.mark.parametrize("raw", ["+44 7700 900123", "12345", "not a number", "07400 123456"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRecipient):
        normalise_phone(raw)


def test_validation_reports_segments_over_the_templates_maximum_and_ucs2() -> None:
    channel = SmsChannel(SmsSettings(max_segments=3), SMS_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    issues = channel.validate(SmsContent("Olá " + "x" * 140), Category.SERVICE, max_segments=1)
    assert [(i.level, i.code) for i in issues] == [
        (Level.ERROR, "too_many_segments"),
        (Level.WARNING, "ucs2_forced"),
    ]
    assert "'á'" in issues[1].message
    assert channel.validate(SmsContent("Olá " + "x" * 140), Category.SERVICE) == issues[1:]


def test_marketing_sms_without_opt_out_wording_is_warned_about() -> None:
    channel = SmsChannel(SmsSettings(), SMS_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    assert [i.code for i in channel.validate(SmsContent("Sale!"), Category.MARKETING)] == [
        "missing_opt_out"
    ]
    assert channel.validate(SmsContent("Sale! Reply STOP to opt out"), Category.MARKETING) == []


def _outbox_channel(tmp_path: Path) -> SmsChannel:
    return SmsChannel(SmsSettings(default_region="GB"), SMS_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]


def test_an_outbox_line_is_on_disk_before_the_sms_counts_as_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _outbox_channel(tmp_path)
    flushed: list[str] = []

    def flush(descriptor: int) -> None:
        flushed.append((tmp_path / "sms.jsonl").read_text(encoding="utf-8"))
        os.fsync(descriptor)

    monkeypatch.setattr(files, "_flush_data", flush)
    channel.send(channel.prepare(SmsContent("Code 1"), "07400 123456", reference="s-1"))
    [line] = flushed  # one flush, once the line was written
    assert json.loads(line)["reference"] == "s-1"


def test_an_outbox_line_written_but_not_flushed_leaves_the_sms_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _outbox_channel(tmp_path)

    def failing(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "_flush_data", failing)
    prepared = channel.prepare(SmsContent("Code 1"), "07400 123456", reference="s-1")
    with pytest.raises(TransientChannelError) as raised:
        channel.send(prepared)
    # Out now, perhaps gone after a crash: neither sent nor refused, so never sent blindly.
    assert raised.value.status is None and not raised.value.refused
    assert (tmp_path / "sms.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_prepare_refuses_an_sms_over_its_maximum(tmp_path: Path) -> None:
    channel = SmsChannel(SmsSettings(max_segments=1), SMS_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]
    with pytest.raises(InvalidContent):
        channel.prepare(SmsContent("a" * 161), "+447400123456", reference="r")
    with pytest.raises(InvalidRecipient):
        channel.prepare(SmsContent("hi"), "+44 7700 900123", reference="r")


def test_the_outbox_writes_one_json_line_per_sms(tmp_path: Path) -> None:
    channel = SmsChannel(SmsSettings(default_region="GB"), SMS_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]
    for n in range(2):
        prepared = channel.prepare(SmsContent(f"Code {n} 😀"), "07400 123456", reference=f"s-{n}")
        assert channel.send(prepared).message_id == f"s-{n}"
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "reference": f"s-{n}",
            "to": "+447400123456",
            "body": f"Code {n} 😀",
            "encoding": "UCS-2",
            "segments": 1,
        }
        for n in range(2)
    ]


def twilio(loopback: HTTPServer, **kw: str) -> TwilioSms:
    return TwilioSms(SID, TOKEN, base_url=loopback.url_for("/"), timeout=5, **kw)


def test_twilio_creates_the_message_with_the_exact_request(loopback: HTTPServer) -> None:
    loopback.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"sid": "SM" + "1" * 32, "status": "queued"}, status=201
    )
    provider = twilio(
        loopback,
        from_number="+447400000001",
        status_callback="https://hcs.example/webhooks/twilio/status",
    )
    channel = SmsChannel(SmsSettings(), provider)
    result = channel.send(
        channel.prepare(SmsContent("Your code is 1234"), "+447400123456", reference="s-1")
    )
    loopback.check_assertions()
    assert (result.provider, result.message_id) == ("twilio", "SM" + "1" * 32)
    [(request, _)] = loopback.log
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == expected_auth
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.get_data(as_text=True)) == {
        "To": ["+447400123456"],
        "From": ["+447400000001"],
        "Body": ["Your code is 1234"],
        # Our message id travels in the (signed) callback URL: a report can name the message.
        "StatusCallback": ["https://hcs.example/webhooks/twilio/status?hcs_reference=s-1"],
    }


def test_twilio_with_a_messaging_service_sends_no_from(loopback: HTTPServer) -> None:
    loopback.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"sid": "SM2"}, status=201
    )
    provider = twilio(loopback, messaging_service_sid="MG" + "2" * 32)
    channel = SmsChannel(SmsSettings(), provider)
    channel.send(channel.prepare(SmsContent("hi"), "+447400123456", reference="s-2"))
    [(request, _)] = loopback.log
    form = parse_qs(request.get_data(as_text=True))
    assert form["MessagingServiceSid"] == ["MG" + "2" * 32] and "From" not in form


@pytest.mark.parametrize("status, transient", [(429, True), (500, True), (400, False)])
def test_twilio_errors_keep_status_and_code(
    loopback: HTTPServer, status: int, transient: bool
) -> None:
    loopback.expect_oneshot_request(MESSAGES).respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid.", "status": status},
        status=status,
    )
    channel = SmsChannel(SmsSettings(), twilio(loopback, from_number="+447400000001"))
    with pytest.raises(ChannelError) as caught:
        channel.send(channel.prepare(SmsContent("hi"), "+447400123456", reference="s-3"))
    assert isinstance(caught.value, TransientChannelError) is transient
    assert isinstance(caught.value, InvalidRecipient) is (not transient)
    assert caught.value.status == status
    assert "21211" in (caught.value.reason or "")


def test_an_unreachable_twilio_is_transient() -> None:
    from tests.support.server import free_port

    provider = TwilioSms(
        SID,
        TOKEN,
        from_number="+447400000001",
        base_url=f"http://127.0.0.1:{free_port()}",
        timeout=2,
    )
    channel = SmsChannel(SmsSettings(), provider)
    with pytest.raises(TransientChannelError):
        channel.send(channel.prepare(SmsContent("hi"), "+447400123456", reference="s-4"))


def test_typography_with_a_gsm_equivalent_is_replaced_and_named_not_billed_as_ucs2() -> None:
    channel = SmsChannel(SmsSettings(), SMS_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    body = SmsContent("It\u2019s ready \u2014 come by at 2:30\u202fPM\u2026")
    [issue] = channel.validate(body, Category.SERVICE)
    assert issue.code == "gsm_substituted"
    assert "U+2019" in issue.message and "U+2014" in issue.message and "U+202F" in issue.message
    prepared = channel.prepare(body, "+447400123456", reference="s-9")
    assert prepared.body == "It's ready - come by at 2:30 PM..."
    assert (prepared.analysis.encoding, prepared.analysis.segments) == (Encoding.GSM7, 1)


def test_a_character_without_a_gsm_equivalent_still_forces_ucs2_and_is_named() -> None:
    channel = SmsChannel(SmsSettings(), SMS_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    [issue] = channel.validate(SmsContent("Ça coûte 5 \u20b9"), Category.SERVICE)
    assert issue.code == "ucs2_forced" and "U+00FB" in issue.message and "U+20B9" in issue.message
    prepared = channel.prepare(SmsContent("Ça coûte 5 \u20b9"), "+447400123456", reference="s-10")
    assert prepared.body == "Ça coûte 5 \u20b9" and prepared.analysis.encoding is Encoding.UCS2


def test_twilio_sends_reuse_one_pooled_connection() -> None:
    # Twilio's API keeps connections open: the SDK's pooled session must send message after
    # message over one connection, not connect again for each.
    with keepalive_server({"sid": "SM" + "1" * 32, "status": "queued"}) as server:
        provider = TwilioSms(
            SID, TOKEN, base_url=server.url, timeout=5, from_number="+447400000001"
        )
        channel = SmsChannel(SmsSettings(), provider)
        for n in range(5):
            sms = channel.prepare(SmsContent(f"Code {n}"), "+447400123456", reference=f"s-{n}")
            assert channel.send(sms).message_id == "SM" + "1" * 32
    assert [path for path, _ in server.requests] == [MESSAGES] * 5
    assert len({port for _, port in server.requests}) == 1
