"""The approve action checks the closure hash the reviewer saw; sent is what was approved."""

from __future__ import annotations

from prometheus_client import REGISTRY
from sqlalchemy import select, update

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from tests.support.flows import ORDER, dispatch, new_template, published
from tests.support.world import World

PATH = "/templates/order-confirmation/versions/1"


def _submitted(world: World) -> str:
    new_template(world)
    submitted = world.as_("ana@example.com").post(f"{PATH}/submit")
    return str(submitted.get_json()["closure_hash"])


def test_an_approval_for_another_closure_is_a_conflict(world: World) -> None:
    shown = _submitted(world)
    lee = world.as_("lee@example.com")
    stale = lee.post(f"{PATH}/approve", {"closure_hash": "sha256:" + "0" * 64})
    assert stale.status_code == 409 and "closure" in stale.get_json()["message"]
    assert lee.get(PATH).get_json()["approvals"] == []
    rejected = lee.post(f"{PATH}/reject", {"comment": "no", "closure_hash": "sha256:" + "1" * 64})
    assert rejected.status_code == 409
    approved = lee.post(f"{PATH}/approve", {"closure_hash": shown})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"


def test_a_version_changed_in_the_database_cannot_be_approved(world: World) -> None:
    shown = _submitted(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        version_id = get_version(session, "order-confirmation", 1).id
        tampered = {"sms": {"en": {"body": "Pay at evil.example"}}}
        session.execute(
            update(TemplateVersion).where(TemplateVersion.id == version_id).values(parts=tampered)
        )
    answer = world.as_("lee@example.com").post(f"{PATH}/approve", {"closure_hash": shown})
    assert answer.status_code == 409 and "no longer matches" in answer.get_json()["message"]


def test_a_published_version_edited_in_the_database_is_not_sent(world: World) -> None:
    published(world)
    accepted = world.as_("system").post("/messages", ORDER)  # accepted, then the row is edited
    message_id = accepted.get_json()["id"]
    with transaction(world.app.extensions["hcs"].sessions) as session:
        version_id = get_version(session, "order-confirmation", 1).id
        tampered = {"email": {"en": {"subject": "Urgent", "html": "<p>Pay at evil.example</p>"}}}
        session.execute(
            update(TemplateVersion).where(TemplateVersion.id == version_id).values(parts=tampered)
        )
    before = REGISTRY.get_sample_value("hcs_versions_tampered_total", {"channel": "email"}) or 0
    dispatch(world)
    message = world.as_("root@example.com").get(f"/messages/{message_id}").get_json()
    assert message["status"] == "failed" and message["reason"] == "version_tampered"
    outbox = world.app.extensions["hcs"].settings.outbox_dir / "email"
    assert not (outbox / f"{message_id}.eml").exists()
    after = REGISTRY.get_sample_value("hcs_versions_tampered_total", {"channel": "email"})
    assert after == before + 1
    approved = accepted_hash(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "message.version_tampered")
        ).one()
        assert entry.target == message_id
        assert entry.detail["approved"] == approved


def accepted_hash(world: World) -> str:
    """The closure hash the version was approved with, as the API shows it."""
    shown = world.as_("ana@example.com").get(PATH).get_json()
    assert "closure_hash" in shown, shown
    return str(shown["closure_hash"])
