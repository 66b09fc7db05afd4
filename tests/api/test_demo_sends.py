"""The demo set, published by `hcs init --demo`, sends on every channel through the pipeline."""

from __future__ import annotations

import io

from pypdf import PdfReader

from hcs.cli.seeding import load_demo
from hcs.infrastructure.db import transaction
from tests.support.flows import dispatch
from tests.support.world import World

ADDRESS = ["Claire Martin", "12 rue des Lilas", "69003 Lyon", "France"]
PAYMENT = {
    "customer_name": "Claire Martin",
    "invoice_number": "INV-2026-0457",
    "amount_due": {"amount": "1249.90", "currency": "EUR"},
    "due_date": "2026-12-15",
    "iban": "GB33 BUKB 2020 1555 5555 55",
}


def test_every_demo_template_sends_on_its_channels(world: World) -> None:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        load_demo(session)
    system = world.as_("system")
    sends = [
        (
            "order-confirmation",
            "email",
            {"email": "ana@example.com"},
            {
                "first_name": "Ana",
                "order_id": "A-1001",
                "order_total": {"amount": "84.50", "currency": "GBP"},
                "items": [{"name": "Linen shirt", "quantity": 1}],
                "delivery_date": "2026-12-02",
            },
        ),
        (
            "appointment-reminder",
            "chat",
            {"chat": "conv-42"},
            {
                "first_name": "Sam",
                "appointment_at": "2026-12-03T14:30:00+00:00",
                "store_name": "Bristol Harbourside",
            },
        ),
        ("payment-due", "letter", {"address": ADDRESS}, PAYMENT),
        (
            "password-reset",
            "sms",
            {"phone": "+447400123456"},
            {
                "reset_url": "https://www.northwind.example/reset/x",
                "code": "482913",
                "expires_minutes": 30,
            },
        ),
    ]
    ids = {}
    for template, channel, to, data in sends:
        locale = "fr-FR" if channel == "letter" else None
        body = {"template": template, "channel": channel, "to": to, "data": data}
        answer = system.post("/messages", {**body, **({"locale": locale} if locale else {})})
        assert answer.status_code == 202, answer.get_json()
        ids[channel] = answer.get_json()["id"]
    while dispatch(world):
        pass
    root = world.as_("root@example.com")
    statuses = {c: root.get(f"/messages/{i}").get_json()["status"] for c, i in ids.items()}
    assert statuses == {"email": "sent", "chat": "sent", "letter": "sent", "sms": "sent"}
    outbox = world.app.extensions["hcs"].settings.outbox_dir
    pdf = PdfReader(io.BytesIO((outbox / "letters" / f"{ids['letter']}.pdf").read_bytes()))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Rappel de paiement" in text and "249,90" in text and "Claire Martin" in text
