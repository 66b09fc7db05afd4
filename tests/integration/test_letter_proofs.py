"""A letter as a test: the PDF a send would make, watermarked TEST on every page, mailed to the
signed-in person as an attachment; never posted, archived or counted as a customer message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from hcs.archive.models import ArchiveEntry
from hcs.audit import AuditEntry
from hcs.channels.letter import close_renderers
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from templates_store import versioning
from tests.support.web import Person
from tests.support.world import World

LONG = "".join(
    f"<p>Paragraph {n} of the notice about order {{{{ order_id }}}}.</p>" for n in range(90)
)


@pytest.fixture(autouse=True)
def _renderers() -> Iterator[None]:
    yield
    close_renderers()


def _draft(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="notice", name="Notice", category="service", channels=["letter"]
        )
        html = "<h1>Notice {{ order_id }}</h1>" + LONG
        content = {
            "parts": {"letter": {"en": {"html": html}}},
            "variables": [{"name": "order_id", "type": "string"}],
            "sample_data": {"order_id": "A-7"},
        }
        versioning.create_draft(session, "notice", author="ana@example.com", content=content)


def _counts(world: World) -> tuple[int, int]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        messages = session.scalar(select(func.count()).select_from(Message)) or 0
        archived = session.scalar(select(func.count()).select_from(ArchiveEntry)) or 0
        return messages, archived


def test_a_test_letter_is_mailed_to_oneself_as_its_pdf_watermarked_test_on_every_page(
    world: World,
) -> None:
    _draft(world)
    outbox = Path(world.app.extensions["hcs"].settings.outbox_dir)
    answer = Person(world.app, "max@example.com").post(
        "/templates/notice/versions/1/test", {"pair": "letter|en", "to": "x@example.net"}
    )
    assert answer.status_code == 303
    mails = list((outbox / "email").glob("*.eml"))
    assert len(mails) == 1
    mail = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == "max@example.com" and mail["Subject"].startswith("[TEST] Letter notice")
    attached = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(attached) == 1 and attached[0].get_filename() == "notice-v1-en-TEST.pdf"
    pages = PdfReader(io.BytesIO(attached[0].get_content())).pages
    texts = [page.extract_text() for page in pages]
    assert len(texts) >= 2
    assert all("TEST - not sent to any customer" in text for text in texts)
    assert "Notice A-7" in texts[0] and "Paragraph 89 of the notice about order A-7" in texts[-1]
    assert f"Page {len(texts)} of {len(texts)}" in texts[-1]
    assert not (outbox / "letters").exists() or not list((outbox / "letters").iterdir())
    assert _counts(world) == (0, 0)  # never a customer message, never archived
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "template.test_send")
        ).one()
        assert entry.actor == "max@example.com" and entry.target == "notice v1"
        assert entry.detail["channel"] == "letter" and entry.detail["delivered_by"] == "email"
        assert entry.detail["to"] == "max@example.com"
