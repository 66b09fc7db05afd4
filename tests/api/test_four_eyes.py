"""Four eyes on the whole version: nobody who changed a version decides or publishes it alone."""

from __future__ import annotations

from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.errors import PermissionDenied
from hcs.governance import authoring
from hcs.governance.models import Approval
from hcs.infrastructure.db import transaction
from templates_store.lookup import get_version
from tests.support.flows import PARTS, new_template
from tests.support.world import World

PHISHING = {**PARTS, "sms": {"en": {"body": "Order {{ order_id }}: confirm at evil.example"}}}


def test_an_author_reviewer_who_rewrites_a_draft_cannot_approve_it(world: World) -> None:
    new_template(world)  # ana creates version 1
    max_ = world.as_("max@example.com")  # author + reviewer
    edited = max_.patch("/templates/order-confirmation/versions/1", {"parts": PHISHING})
    assert edited.status_code == 200
    assert edited.get_json()["contributors"] == ["ana@example.com", "max@example.com"]
    assert max_.post("/templates/order-confirmation/versions/1/submit").status_code == 200
    answer = max_.post("/templates/order-confirmation/versions/1/approve", {"comment": "fine"})
    assert answer.status_code == 403
    assert answer.get_json()["rule"] == "SeparationOfDuties"
    assert "you changed version 1" in answer.get_json()["message"]
    shown = max_.get("/templates/order-confirmation/versions/1").get_json()
    assert shown["approvals"] == [] and shown["status"] == "in_review"
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "template.edit")
        ).one()
        assert entry.actor == "max@example.com"
        assert entry.detail["contributors"] == ["ana@example.com", "max@example.com"]


def test_the_submitter_is_a_contributor_and_cannot_approve(world: World) -> None:
    new_template(world)
    max_ = world.as_("max@example.com")
    submitted = max_.post("/templates/order-confirmation/versions/1/submit")
    assert submitted.get_json()["contributors"] == ["ana@example.com", "max@example.com"]
    answer = max_.post("/templates/order-confirmation/versions/1/approve")
    assert answer.status_code == 403 and answer.get_json()["rule"] == "SeparationOfDuties"
    lee = world.as_("lee@example.com")
    assert lee.post("/templates/order-confirmation/versions/1/approve").status_code == 200


def test_a_rewritten_block_cannot_be_approved_by_its_editor(world: World) -> None:
    ana, max_ = world.as_("ana@example.com"), world.as_("max@example.com")
    ana.post("/blocks", {"key": "footer", "name": "Footer"})
    ana.post("/blocks/footer/versions", {"content": {"text": {"en": "-- Northwind"}}})
    edited = max_.patch(
        "/blocks/footer/versions/1", {"content": {"text": {"en": "-- pay at evil.example"}}}
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["contributors"] == ["ana@example.com", "max@example.com"]
    ana.post("/blocks/footer/versions/1/submit")
    answer = max_.post("/blocks/footer/versions/1/approve")
    assert answer.status_code == 403 and answer.get_json()["rule"] == "SeparationOfDuties"


def test_a_theme_rewritten_by_a_reviewer_is_refused_to_them(world: World) -> None:
    ana, max_ = world.as_("ana@example.com"), world.as_("max@example.com")
    ana.post("/themes", {"key": "brand", "name": "Brand"})
    ana.post("/themes/brand/versions", {"settings": {"primary_color": "#123456"}})
    assert (
        max_.patch(
            "/themes/brand/versions/1", {"settings": {"primary_color": "#654321"}}
        ).status_code
        == 200
    )
    ana.post("/themes/brand/versions/1/submit")
    answer = max_.post("/themes/brand/versions/1/approve")
    assert answer.status_code == 403 and answer.get_json()["rule"] == "SeparationOfDuties"


def test_a_version_approved_by_its_own_contributor_cannot_be_published(world: World) -> None:
    """A decision recorded before the rule (an upgrade) does not let its contributor publish."""
    new_template(world)
    max_ = world.as_("max@example.com")
    max_.patch("/templates/order-confirmation/versions/1", {"parts": PHISHING})
    world.as_("ana@example.com").post("/templates/order-confirmation/versions/1/submit")
    with transaction(world.app.extensions["hcs"].sessions) as session:
        version = get_version(session, "order-confirmation", 1)
        session.add(
            Approval(
                subject_type="template",
                subject_id=version.id,
                stage="legal",
                reviewer="max@example.com",
                decision="approved",
            )
        )
        version.move_to(version.status.APPROVED)
    answer = max_.post("/templates/order-confirmation/versions/1/publish")
    assert answer.status_code == 403 and answer.get_json()["rule"] == "SeparationOfDuties"
    with transaction(world.app.extensions["hcs"].sessions) as session:
        assert get_version(session, "order-confirmation", 1).status.value == "approved"


def test_only_authors_edit_a_draft_someone_else_created(world: World) -> None:
    new_template(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        try:
            authoring.edit(
                session,
                "template",
                "order-confirmation",
                1,
                {"parts": PHISHING},
                actor="lee@example.com",
            )
        except PermissionDenied as exc:
            assert "author" in str(exc)
        else:  # pragma: no cover - the assertion's message
            raise AssertionError("a reviewer edited someone else's draft")
        session.rollback()
