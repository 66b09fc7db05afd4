"""Pre-submission checks per policy, re-review dates and policy changes, on the domain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hcs.audit import list_entries
from hcs.governance import authoring
from hcs.governance.checks import run_checks
from hcs.governance.policies import policy_for, update_policy
from hcs.governance.reviews import overdue_versions, review_queue
from hcs.identity import create_user
from templates_store.errors import ValidationFailed
from templates_store.orm import utcnow
from templates_store.versioning import update_draft
from tests.support.factories import ORDER_PARTS, make_draft, make_template

REVIEWER = {"reviewer"}


def _findings(session: Session, version) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in run_checks(session, version, policy_for(session, version.template.category)):
        found.setdefault(f.check, []).append(f"{f.severity}:{f.part}:{f.message}")
    return found


def test_images_without_alt_and_html_without_lang_are_flagged(session: Session) -> None:
    make_template(session)
    html = "<p>Hi {{ first_name }}, order {{ order_id }}</p><img src='https://x.example/a.png'>"
    version = make_draft(
        session,
        parts={**ORDER_PARTS, "email": {"en": {"subject": "Order {{ order_id }}", "html": html}}},
    )
    found = _findings(session, version)
    assert found["image_alt"] == [
        "warning:email.html.en:image https://x.example/a.png has no alt text"
    ]
    assert found["html_lang"][0].startswith("warning:email.html.en")


def test_links_outside_the_allowlist_block_submission(session: Session) -> None:
    make_template(session)
    update_policy(
        session, "transactional", {"link_domains": ["northwind.example"]}, actor="root@example.com"
    )
    html = (
        '<html lang="en"><body>{{ first_name }} {{ order_id }} '
        '<a href="https://shop.northwind.example/o">ok</a> '
        '<a href="https://evil.example/x">bad</a></body></html>'
    )
    version = make_draft(
        session,
        parts={**ORDER_PARTS, "email": {"en": {"subject": "Order {{ order_id }}", "html": html}}},
    )
    with pytest.raises(ValidationFailed) as caught:
        authoring.submit(
            session, "template", "order-confirmation", version.number, actor="ana@example.com"
        )
    assert caught.value.errors == {
        "checks.link_domains.email.html.en": ["links to evil.example, not allowed"]
    }


def test_an_sms_over_its_segment_budget_is_flagged(session: Session) -> None:
    make_template(session)
    long_body = "Order {{ order_id }} ✓ " + "é" * 300
    version = make_draft(session, parts={**ORDER_PARTS, "sms": {"en": {"body": long_body}}})
    message = _findings(session, version)["sms_segments"][0]
    assert message.startswith("warning:sms.body.en:") and "segments" in message


def test_a_stale_translation_is_an_error_for_sensitive_templates(session: Session) -> None:
    make_template(session, key="password-reset", category="sensitive", channels=["sms"])
    parts = {"sms": {"en": {"body": "Code {{ order_id }}"}, "fr": {"body": "Code {{ order_id }}"}}}
    version = make_draft(session, "password-reset", parts=parts)
    edited = {
        "sms": {"en": {"body": "Your code {{ order_id }}"}, "fr": {"body": "Code {{ order_id }}"}}
    }
    update_draft(session, "password-reset", version.number, {"parts": edited})
    with pytest.raises(ValidationFailed) as caught:
        authoring.submit(
            session, "template", "password-reset", version.number, actor="ana@example.com"
        )
    assert "checks.stale_translations.sms.fr" in caught.value.errors


def test_published_versions_fall_due_for_re_review(session: Session) -> None:
    create_user(session, email="lee@example.com", roles=["reviewer"], groups=["legal"], actor="t")
    make_template(session)
    version = make_draft(session)
    authoring.submit(
        session, "template", "order-confirmation", version.number, actor="ana@example.com"
    )
    authoring.decide(
        session,
        "template",
        "order-confirmation",
        version.number,
        approve=True,
        actor="lee@example.com",
        roles=REVIEWER,
    )
    authoring.publish(
        session, "template", "order-confirmation", version.number, actor="lee@example.com"
    )
    due = version.review_due_at
    assert due is not None and timedelta(days=364) < due - utcnow() <= timedelta(days=365)
    assert overdue_versions(session) == []
    assert overdue_versions(session, now=due + timedelta(days=1)) == [version]


def test_the_review_queue_shows_each_role_its_stage(session: Session) -> None:
    make_template(session, key="winter-sale", category="marketing", channels=["sms"])
    version = make_draft(
        session, "winter-sale", parts={"sms": {"en": {"body": "Sale {{ order_id }}"}}}
    )
    authoring.submit(session, "template", "winter-sale", version.number, actor="ana@example.com")
    queue = review_queue(session, REVIEWER)
    assert [(p.key, p.stage) for p in queue] == [("winter-sale", "legal")]
    assert review_queue(session, {"author"}) == []


def test_a_policy_change_is_validated_and_audited(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        update_policy(
            session,
            "service",
            {"stages": [{"name": "legal", "role": "boss"}]},
            actor="root@example.com",
        )
    assert "stages.0.role" in caught.value.errors
    update_policy(session, "service", {"review_days": 90}, actor="root@example.com")
    assert policy_for(session, "service").review_days == 90
    entries, _ = list_entries(session, action="policy.update")
    assert entries[0].before["review_days"] == 365 and entries[0].after["review_days"] == 90
