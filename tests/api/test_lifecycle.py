"""The whole life of a template through the API: create, draft, preview, review, publish, retire."""

from __future__ import annotations

from tests.support.flows import PARTS, new_template, reviewed
from tests.support.world import World


def test_a_template_goes_from_draft_to_published_and_back(world: World) -> None:
    new_template(world)
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    preview = ana.post("/templates/order-confirmation/preview", {"channel": "sms", "version": 1})
    assert preview.status_code == 200
    assert preview.get_json()["output"]["body"] == "[DRAFT] Order A-1001 is confirmed."
    assert preview.get_json()["output"]["segments"] == 1

    approved = reviewed(world, "order-confirmation", 1, "lee@example.com")
    assert approved["status"] == "approved"
    assert approved["approvals"][0]["by"] == "lee@example.com"
    assert approved["closure_hash"].startswith("sha256:")
    published = lee.post("/templates/order-confirmation/versions/1/publish")
    assert published.get_json()["status"] == "published"
    assert published.get_json()["review_due_at"]

    changed = {**PARTS, "sms": {"en": {"body": "Order {{ order_id }} is confirmed, thank you."}}}
    draft = ana.post("/templates/order-confirmation/versions", {"parts": changed})
    assert draft.get_json()["number"] == 2 and draft.get_json()["based_on"] == 1
    reviewed(world, "order-confirmation", 2, "bo@example.com")
    lee.post("/templates/order-confirmation/versions/2/publish")
    template = ana.get("/templates/order-confirmation").get_json()
    assert template["published_version"] == 2
    assert [v["status"] for v in template["versions"]] == ["superseded", "published"]

    diff = ana.get("/templates/order-confirmation/versions/2/diff?against=1").get_json()
    changes = {p["part"]: p["change"] for p in diff["parts"]}
    assert changes["sms.body.en"] == "modified" and changes["email.subject.en"] == "unchanged"

    rollback = lee.post("/templates/order-confirmation/versions/1/publish")
    assert rollback.status_code == 200
    assert ana.get("/templates/order-confirmation").get_json()["published_version"] == 1
    actions = [e["action"] for e in world.as_("aud@example.com").get("/audit").get_json()]
    assert actions[0] == "template.rollback"

    retired = lee.post("/templates/order-confirmation/retire")
    assert retired.get_json()["retired"] is True
    assert {v["status"] for v in retired.get_json()["versions"]} == {"retired"}
    assert ana.post("/templates/order-confirmation/versions", {}).status_code == 409


def test_every_governance_action_lands_in_the_audit_log(world: World) -> None:
    new_template(world)
    reviewed(world, "order-confirmation", 1, "lee@example.com")
    world.as_("lee@example.com").post("/templates/order-confirmation/versions/1/publish")
    entries = world.as_("aud@example.com").get("/audit?per_page=100").get_json()
    seen = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert ("ana@example.com", "template.create", "order-confirmation") in seen
    assert ("ana@example.com", "template.submit", "order-confirmation v1") in seen
    assert ("lee@example.com", "template.approve", "order-confirmation v1") in seen
    assert ("lee@example.com", "template.publish", "order-confirmation v1") in seen
    assert world.as_("ana@example.com").get("/audit").status_code == 403


def test_a_rejection_needs_a_comment_and_freezes_the_version(world: World) -> None:
    new_template(world)
    ana, lee = world.as_("ana@example.com"), world.as_("lee@example.com")
    ana.post("/templates/order-confirmation/versions/1/submit")
    bare = lee.post("/templates/order-confirmation/versions/1/reject", {})
    assert bare.status_code == 422 and "comment" in bare.get_json()["errors"]
    rejected = lee.post(
        "/templates/order-confirmation/versions/1/reject",
        {"comment": "The SMS must say how to get help."},
    )
    assert rejected.get_json()["status"] == "rejected"
    assert (
        ana.patch("/templates/order-confirmation/versions/1", {"parts": PARTS}).status_code == 409
    )
    again = ana.post("/templates/order-confirmation/versions", {"from_version": 1})
    assert again.status_code == 201 and again.get_json()["status"] == "draft"


def test_marketing_needs_legal_then_brand_from_two_people(world: World) -> None:
    new_template(world, key="winter-sale", category="marketing")
    ana, lee, bo = (world.as_(e) for e in ("ana@example.com", "lee@example.com", "bo@example.com"))
    parts = {
        **PARTS,
        "email": {
            "en": {
                **PARTS["email"]["en"],
                "html": PARTS["email"]["en"]["html"]
                + "<a href='{{ unsubscribe_url }}'>Unsubscribe</a>",
            }
        },
    }
    ana.patch("/templates/winter-sale/versions/1", {"parts": parts})
    blocked = ana.post("/templates/winter-sale/versions/1/submit")
    assert blocked.status_code == 422
    assert any(k.startswith("checks.required_blocks") for k in blocked.get_json()["errors"])


def test_the_policy_stages_run_in_order(world: World) -> None:
    root = world.as_("root@example.com")
    assert (
        root.patch(
            "/policies/transactional",
            {
                "stages": [
                    {"name": "legal", "role": "reviewer"},
                    {"name": "brand", "role": "reviewer"},
                ]
            },
        ).status_code
        == 200
    )
    new_template(world)
    world.as_("ana@example.com").post("/templates/order-confirmation/versions/1/submit")
    lee, bo = world.as_("lee@example.com"), world.as_("bo@example.com")
    early = bo.post("/templates/order-confirmation/versions/1/approve", {"stage": "brand"})
    assert early.status_code == 409 and "out of order" in early.get_json()["message"]
    legal = lee.post("/templates/order-confirmation/versions/1/approve", {"stage": "legal"})
    assert legal.get_json()["status"] == "in_review" and legal.get_json()["next_stage"] == "brand"
    twice = lee.post("/templates/order-confirmation/versions/1/approve", {"stage": "brand"})
    assert twice.status_code == 403 and "already decided" in twice.get_json()["message"]
    brand = bo.post("/templates/order-confirmation/versions/1/approve", {"stage": "brand"})
    assert brand.get_json()["status"] == "approved"
    assert [a["stage"] for a in brand.get_json()["approvals"]] == ["legal", "brand"]
