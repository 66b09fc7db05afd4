"""`/api/v1/archive`: auditors search, read and export; nobody else does; reading is audited."""

from __future__ import annotations

import base64
import io
import json
import zipfile

from sqlalchemy import select, text

from hcs import archive
from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from templates_store.orm import utcnow
from tests.support.archive import EMAIL, OUTPUT, make_entry
from tests.support.world import World

PDF = b"%PDF-1.7\n\x00\xff\xfe letter\n%%EOF"


def _seed(world: World) -> dict[str, int]:
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        email = make_entry(session, 1, keys=keys)
        letter = make_entry(
            session, 2, keys=keys, channel="letter", output=PDF, content_type="application/pdf"
        )
        other = make_entry(session, 3, keys=keys, recipient_key="bo@example.com")
        archive.add_delivery_event(
            session,
            message_id=email.message_id,
            kind="delivered",
            at=utcnow(),
            provider="sendgrid",
            detail={"smtp-id": "<x@example.com>"},
            keys=keys,
        )
        archive.seal_archive(session)
        return {"email": email.id, "letter": letter.id, "other": other.id}


def test_an_auditor_searches_by_recipient_and_sees_no_personal_data(world: World) -> None:
    ids = _seed(world)
    answer = world.as_("aud@example.com").get(f"/archive?recipient={EMAIL}&page_size=1")
    assert answer.status_code == 200
    assert json.loads(answer.headers["X-Pagination"])["total"] == 2
    (first,) = answer.get_json()
    assert first["id"] == ids["letter"] and first["sealed"] is True
    assert EMAIL not in answer.get_data(as_text=True)
    channel = world.as_("aud@example.com").get("/archive?channel=email").get_json()
    assert {e["id"] for e in channel} == {ids["email"], ids["other"]}


def test_searches_and_exports_are_audited_without_the_recipients_address(
    world: World,
) -> None:
    _seed(world)
    auditor = world.as_("aud@example.com")
    assert auditor.get(f"/archive?recipient={EMAIL}&page=2&page_size=1").status_code == 200
    assert auditor.get(f"/archive/export?recipient={EMAIL}&channel=email").status_code == 200
    lookup = archive.keyring(world.app.extensions["hcs"].settings).lookup(EMAIL)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("archive.%")).order_by(AuditEntry.id)
        ).all()
    assert [(a.action, a.actor, a.detail) for a in logged] == [
        (
            "archive.search",
            "aud@example.com",
            {"filters": {"recipient": lookup}, "results": 2, "offset": 1, "shown": 1},
        ),
        (
            "archive.export",
            "aud@example.com",
            {"filters": {"recipient": lookup, "channel": "email"}, "entries": 1},
        ),
    ]
    assert all(EMAIL not in a.target and EMAIL not in json.dumps(a.detail) for a in logged)


def test_an_auditor_reads_an_entry_with_its_exact_output_and_events(world: World) -> None:
    ids = _seed(world)
    body = world.as_("aud@example.com").get(f"/archive/{ids['email']}").get_json()
    assert (body["output_encoding"], body["output"].encode()) == ("text", OUTPUT)
    assert body["recipient"]["to"]["email"] == EMAIL and body["intact"] is True
    assert [(e["kind"], e["detail"]) for e in body["events"]] == [
        ("delivered", {"smtp-id": "<x@example.com>"})
    ]
    letter = world.as_("root@example.com").get(f"/archive/{ids['letter']}").get_json()
    assert letter["output_encoding"] == "base64"
    assert base64.b64decode(letter["output"]) == PDF
    with transaction(world.app.extensions["hcs"].sessions) as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.read"))
        assert [(r.actor, r.target) for r in reads] == [
            ("aud@example.com", str(ids["email"])),
            ("root@example.com", str(ids["letter"])),
        ]


def test_an_erased_entry_says_so(world: World) -> None:
    ids = _seed(world)
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        archive.erase_recipient(session, EMAIL, actor="dpo@example.com", keys=keys)
    body = world.as_("aud@example.com").get(f"/archive/{ids['email']}").get_json()
    assert body["erased"] is True and body["output"] is None and body["data"] is None
    assert body["intact"] is True and body["template"] == "order-confirmation"


def test_a_tampered_entry_reads_as_not_intact(world: World) -> None:
    ids = _seed(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        session.execute(
            text("UPDATE archive_entries SET provider = 'forged' WHERE id = :id"),
            {"id": ids["other"]},
        )
    body = world.as_("aud@example.com").get(f"/archive/{ids['other']}").get_json()
    assert body["intact"] is False and body["provider"] == "forged"


def test_an_export_is_a_zip_of_json_lines_and_outputs(world: World) -> None:
    ids = _seed(world)
    answer = world.as_("aud@example.com").get(f"/archive/export?recipient={EMAIL}")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.data)) as zipped:
        assert zipped.read(f"{ids['email']}.eml") == OUTPUT
        assert zipped.read(f"{ids['letter']}.pdf") == PDF
        assert len(zipped.read("entries.jsonl").splitlines()) == 2


def test_authors_reviewers_and_system_keys_get_403(world: World) -> None:
    ids = _seed(world)
    for who in ("ana@example.com", "lee@example.com", "system"):
        for path in ("/archive", f"/archive/{ids['email']}", "/archive/export"):
            assert world.as_(who).get(path).status_code == 403, (who, path)


def test_an_unknown_entry_is_404_and_bad_filters_are_422(world: World) -> None:
    auditor = world.as_("aud@example.com")
    assert auditor.get("/archive/999999").status_code == 404
    assert auditor.get("/archive/99999999999999999999").status_code == 404
    answer = auditor.get("/archive?channel=fax&since=yesterday")
    assert answer.status_code == 422
    assert set(answer.get_json()["errors"]["query"]) == {"channel", "since"}
