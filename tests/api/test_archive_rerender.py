"""Sent through the pipeline, archived, rendered again from the archive: the same bytes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from channels.email import FINISHING_HEADER, EmailSettings
from channels.email.message import FINISHING
from hcs import archive
from hcs.archive.crypto import default_keyring
from hcs.channels.email import Brand, EmailOutlet
from hcs.channels.letter import close_renderers
from hcs.cli import main
from hcs.cli.seeding import load_demo
from hcs.dispatch.archiving import archive_round
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import build_providers
from hcs.dispatch.rerendering import rerender
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from hcs.worker.runtime import Worker
from tests.support.world import World

ADDRESS = ["Claire Martin", "12 rue des Lilas", "69003 Lyon", "France"]
SENDS = [
    (
        "order-confirmation",
        "email",
        {"email": "Ana@Example.com", "name": "Ana Ruiz"},
        {
            "first_name": "Ana",
            "order_id": "A-1001",
            "order_total": {"amount": "84.50", "currency": "GBP"},
            "items": [{"name": "Linen shirt", "quantity": 1}],
            "delivery_date": "2026-12-02",
        },
    ),
    (
        "password-reset",
        "sms",
        {"phone": "+447400123456"},
        {"reset_url": "https://www.northwind.example/r/x", "code": "482913", "expires_minutes": 30},
    ),
    (
        "payment-due",
        "letter",
        {"address": ADDRESS},
        {
            "customer_name": "Claire Martin",
            "invoice_number": "INV-2026-0457",
            "amount_due": {"amount": "1249.90", "currency": "EUR"},
            "due_date": "2026-12-15",
            "iban": "GB33 BUKB 2020 1555 5555 55",
        },
    ),
]


def _send_and_archive(world: World) -> dict[str, int]:
    services = world.app.extensions["hcs"]
    with transaction(services.sessions) as session:
        load_demo(session)
    for template, channel, to, data in SENDS:
        body = {"template": template, "channel": channel, "to": to, "data": data}
        answer = world.as_("system").post("/messages", body)
        assert answer.status_code == 202, answer.get_json()
    worker = Worker(services.sessions, build_providers(services.settings), on_sent=archive_round)
    while worker.run_once():
        pass
    with transaction(services.sessions) as session:
        rows = session.execute(select(archive.ArchiveEntry.channel, archive.ArchiveEntry.id))
        return {channel: entry_id for channel, entry_id in rows}


def test_every_channels_archived_output_renders_again_byte_identical(world: World) -> None:
    ids = _send_and_archive(world)
    assert set(ids) == {"email", "sms", "letter"}
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    try:
        with transaction(services.sessions) as session:
            results = {
                channel: rerender(session, entry_id, providers=providers, actor="aud")
                for channel, entry_id in ids.items()
            }
    finally:
        close_renderers()
    for channel, result in results.items():
        assert (result.identical, result.same_closure) == (True, True), (channel, result)


def test_the_cli_says_identical_or_names_the_first_differing_byte(world: World) -> None:
    ids = _send_and_archive(world)
    env = {"HCS_DATABASE_URL": world.app.extensions["hcs"].settings.database_url}
    result = CliRunner().invoke(main, ["archive", "rerender", str(ids["sms"])], env=env)
    assert result.exit_code == 0 and "byte-identical" in result.output, result.output
    with transaction(world.app.extensions["hcs"].sessions) as session:
        # Someone changes the pinned version's SMS text behind the archive's back.
        session.execute(
            text(
                "UPDATE template_versions SET parts = :p "
                "WHERE id = (SELECT version_id FROM messages WHERE channel = 'sms')"
            ),
            {"p": '{"sms": {"en": {"body": "Code {{ code }}"}}}'},
        )
    result = CliRunner().invoke(main, ["archive", "rerender", str(ids["sms"])], env=env)
    assert result.exit_code == 1 and "differs from byte" in result.output


@pytest.mark.parametrize("rules", [1, 2])
def test_a_mail_finished_by_earlier_rules_renders_again_by_those_rules(
    world: World, monkeypatch: pytest.MonkeyPatch, rules: int
) -> None:
    # Mail archived under earlier rules: 1 (before the rules were versioned) wrote its text part
    # with inscriptis and names no rules; 2 wrote out every HTML part through the CSS inliner.
    # Sent like that, then rendered again under today's code.
    current = EmailOutlet.sender

    def earlier(self: EmailOutlet, brand: Brand, finishing: int | None = None) -> EmailSettings:
        return current(self, brand, rules if finishing is None else finishing)

    monkeypatch.setattr(EmailOutlet, "sender", earlier)
    ids = _send_and_archive(world)
    monkeypatch.undo()
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    with transaction(services.sessions) as session:
        entry = session.get_one(archive.ArchiveEntry, ids["email"])
        archived = archive.open_entry(session, entry, default_keyring()).output
        named = f"{FINISHING_HEADER}: {rules}".encode()
        assert archived is not None and (named in archived) is (rules > 1)
        result = rerender(session, ids["email"], providers=providers, actor="aud")
        assert (result.identical, result.same_closure) == (True, True), result
        message = session.get_one(Message, entry.message_id)
        today = finish(session, message, providers, sending=False)
    # Today's rules name themselves and finish otherwise: a re-render that ignored the archived
    # rules would differ.
    assert f"{FINISHING_HEADER}: {FINISHING}".encode() in today.output and today.output != archived
