"""Each channel's provider built from its registry with typed settings read once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from channels.chat import WebhookChat
from channels.email import SmtpEmail
from channels.errors import ChannelError
from channels.letter import FolderLetter
from channels.sms import TwilioSms
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.config import Settings, load_settings
from hcs.infrastructure.delivery import SmtpSettings, read_delivery
from hcs.infrastructure.destinations import DestinationRefused


def settings_from(tmp_path: Path, environ: dict[str, str]) -> Settings:
    return Settings(secret_key="k", var_dir=tmp_path, delivery=read_delivery(environ))


def test_an_installation_with_no_provider_settings_writes_every_channel_to_the_outbox(
    tmp_path: Path,
) -> None:
    providers = build_providers(settings_from(tmp_path, {}))
    assert {name: providers.name(name) for name in ("email", "sms", "chat", "letter")} == {
        "email": "outbox",
        "sms": "outbox",
        "chat": "outbox",
        "letter": "outbox",
    }
    assert providers.fallbacks == {} and providers.failover_after == 3


def test_the_environment_picks_each_provider_and_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "HCS_VAR_DIR": str(tmp_path),
        "HCS_PUBLIC_URL": "https://hcs.example.com/",
        "HCS_EMAIL_PROVIDER": "smtp",
        "HCS_SMTP_HOST": "mail.example.com",
        "HCS_SMTP_PORT": "2525",
        "HCS_SMTP_STARTTLS": "no",
        "HCS_SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "token",
        "HCS_TWILIO_FROM": "+447400000001",
        "HCS_CHAT_PROVIDER": "webhook",
        "HCS_CHAT_WEBHOOK_URL": "https://93.184.216.34/in",
        "HCS_CHAT_WEBHOOK_SECRET": "s3cret",
        "HCS_LETTER_PROVIDER": "folder",
    }.items():
        monkeypatch.setenv(name, value)
    providers = build_providers(load_settings(None))
    email = providers.outlet("email").provider
    assert isinstance(email, SmtpEmail)
    assert (email.host, email.port, email.starttls) == ("mail.example.com", 2525, False)
    sms = providers.outlet("sms").channel.provider
    assert isinstance(sms, TwilioSms)
    chat = providers.outlet("chat").channel.provider
    assert isinstance(chat, WebhookChat) and chat.secret == b"s3cret"
    letter = providers.outlet("letter").provider
    assert isinstance(letter, FolderLetter) and letter.directory == tmp_path / "print"


def test_a_default_is_the_settings_field_default() -> None:
    assert read_delivery({}).smtp == SmtpSettings() == SmtpSettings("127.0.0.1", 587)
    assert read_delivery({"HCS_SMTP_STARTTLS": "0"}).smtp.starttls is False
    assert read_delivery({"HCS_LETTER_PAGE_SIZE": "Letter"}).letter.page_size == "Letter"


def test_a_provider_missing_its_credentials_is_refused_with_the_variable_named(
    tmp_path: Path,
) -> None:
    settings = settings_from(tmp_path, {"HCS_EMAIL_PROVIDER": "sendgrid"})
    with pytest.raises(ChannelError, match="sendgrid email provider needs SENDGRID_API_KEY"):
        build_providers(settings)


def test_an_unknown_provider_is_refused_by_its_channel(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match="unknown SMS provider 'carrier-pigeon'"):
        build_providers(settings_from(tmp_path, {"HCS_SMS_PROVIDER": "carrier-pigeon"}))


def test_a_number_that_is_not_a_number_names_its_variable() -> None:
    with pytest.raises(ValueError, match="HCS_SMTP_PORT='smtp'"):
        read_delivery({"HCS_SMTP_PORT": "smtp"})


def test_credentials_never_show_in_the_settings_repr(tmp_path: Path) -> None:
    secrets = {
        "SENDGRID_API_KEY": "SG.hidden-1",
        "SENDGRID_WEBHOOK_PUBLIC_KEY": "hidden-2",
        "TWILIO_AUTH_TOKEN": "hidden-3",
        "HCS_SMTP_PASSWORD": "hidden-4",
        "HCS_CHAT_WEBHOOK_SECRET": "hidden-5",
    }
    delivery = read_delivery(secrets)
    assert delivery.sendgrid.api_key == "SG.hidden-1"
    shown = repr(delivery) + repr(replace(settings_from(tmp_path, {}), delivery=delivery))
    assert "hidden" not in shown


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/in", "http://169.254.169.254/", "http://0x7f000001/in"]
)
def test_a_chat_webhook_leading_to_an_internal_address_stops_the_worker_at_start(
    tmp_path: Path, url: str
) -> None:
    environ = {
        "HCS_CHAT_PROVIDER": "webhook",
        "HCS_CHAT_WEBHOOK_URL": url,
        "HCS_CHAT_WEBHOOK_SECRET": "s",
    }
    with pytest.raises(DestinationRefused) as refused:
        build_providers(settings_from(tmp_path, environ))
    assert list(refused.value.errors) == ["HCS_CHAT_WEBHOOK_URL"]
