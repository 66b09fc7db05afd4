"""Versions: numbered drafts, checks at submission, and immutability from then on."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from templates_store import versioning
from templates_store.errors import Conflict, ImmutableVersion, InvalidTransition, ValidationFailed
from templates_store.lookup import get_version
from templates_store.status import Status
from tests.support.factories import ORDER_PARTS, make_draft, make_template


def test_a_new_template_gets_numbered_drafts(session: Session) -> None:
    make_template(session)
    first = make_draft(session)
    second = versioning.create_draft(session, "order-confirmation", author="bo@example.com")
    assert (first.number, second.number) == (1, 2)
    assert second.parts == first.parts and second.based_on == 1
    assert second.status is Status.DRAFT and second.author == "bo@example.com"


def test_a_duplicate_key_is_refused(session: Session) -> None:
    make_template(session)
    with pytest.raises(Conflict, match="exists"):
        make_template(session, name="Another")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key": "Bad Key!"}, "key"),
        ({"category": "promo"}, "category"),
        ({"channels": ["fax"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"default_locale": "xx-notreal"}, "locale"),
    ],
)
def test_bad_template_fields_are_named(session: Session, overrides: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_template(session, **overrides)
    assert field in caught.value.errors


def test_submission_freezes_the_version_and_pins_a_hash(session: Session) -> None:
    make_template(session)
    draft = make_draft(session)
    submitted = versioning.submit(session, "order-confirmation", draft.number)
    assert submitted.status is Status.IN_REVIEW
    assert submitted.submitted_at is not None
    assert submitted.closure_hash is not None and submitted.closure_hash.startswith("sha256:")


def test_a_submitted_version_refuses_edits_through_the_domain(session: Session) -> None:
    make_template(session)
    versioning.submit(session, "order-confirmation", make_draft(session).number)
    with pytest.raises(ImmutableVersion, match="start a new draft"):
        versioning.update_draft(session, "order-confirmation", 1, {"parts": ORDER_PARTS})


def test_a_submitted_version_refuses_edits_from_any_caller(session: Session) -> None:
    make_template(session)
    version = versioning.submit(session, "order-confirmation", make_draft(session).number)
    version.parts = {"sms": {"en": {"body": "Sneaky change"}}}
    with pytest.raises(ImmutableVersion, match="parts"):
        session.flush()
    session.refresh(version)
    assert get_version(session, "order-confirmation", 1).parts == ORDER_PARTS


def test_status_moves_outside_the_table_are_refused(session: Session) -> None:
    make_template(session)
    version = make_draft(session)
    with pytest.raises(InvalidTransition):
        version.move_to(Status.PUBLISHED)
    version.status = Status.PUBLISHED
    with pytest.raises(InvalidTransition, match="draft version cannot become published"):
        session.flush()


def test_a_new_draft_can_start_from_any_version(session: Session) -> None:
    make_template(session)
    make_draft(session)
    versioning.submit(session, "order-confirmation", 1)
    changed = {"sms": {"en": {"body": "Order {{ order_id }} is on its way."}}}
    make_draft(session, parts={**ORDER_PARTS, **changed})
    from_first = versioning.create_draft(
        session, "order-confirmation", author="cy@example.com", from_version=1
    )
    assert from_first.number == 3 and from_first.based_on == 1
    assert from_first.parts == ORDER_PARTS


def test_an_undeclared_variable_blocks_submission_and_names_the_part(session: Session) -> None:
    make_template(session)
    parts = {**ORDER_PARTS, "sms": {"en": {"body": "Hi {{ nickname }}"}}}
    draft = make_draft(session, parts=parts)
    with pytest.raises(ValidationFailed) as caught:
        versioning.submit(session, "order-confirmation", draft.number)
    assert "nickname" in caught.value.errors["parts.sms.body.en"][0]
    assert get_version(session, "order-confirmation", 1).status is Status.DRAFT


def test_sample_data_of_the_wrong_type_blocks_submission(session: Session) -> None:
    make_template(session)
    variables = [
        {"name": "order_id", "type": "integer", "required": True},
        {"name": "first_name", "type": "string", "required": True},
    ]
    draft = make_draft(session, variables=variables)
    with pytest.raises(ValidationFailed) as caught:
        versioning.submit(session, "order-confirmation", draft.number)
    assert "sample_data.order_id" in caught.value.errors


def test_missing_required_parts_block_submission(session: Session) -> None:
    make_template(session)
    draft = make_draft(session, parts={"sms": ORDER_PARTS["sms"]})
    with pytest.raises(ValidationFailed) as caught:
        versioning.submit(session, "order-confirmation", draft.number)
    assert set(caught.value.errors) == {"parts.email.en.subject", "parts.email.en.html"}


def test_a_syntax_error_is_caught_when_the_draft_is_saved(session: Session) -> None:
    make_template(session)
    draft = make_draft(session)
    broken = {**ORDER_PARTS, "sms": {"en": {"body": "Line one\nOrder {{ order_id }"}}}
    with pytest.raises(ValidationFailed) as caught:
        versioning.update_draft(session, "order-confirmation", draft.number, {"parts": broken})
    message = caught.value.errors["parts.sms.body.en"][0]
    assert "sms.body.en" in message and "line 2" in message
    assert get_version(session, "order-confirmation", 1).parts == ORDER_PARTS


def test_parts_for_a_channel_the_template_does_not_serve_are_refused(session: Session) -> None:
    make_template(session)
    with pytest.raises(ValidationFailed) as caught:
        make_draft(session, parts={"letter": {"en": {"html": "<p>Hi</p>"}}})
    assert "parts.letter" in caught.value.errors


def test_locales_are_normalised_in_parts(session: Session) -> None:
    make_template(session)
    draft = make_draft(
        session, parts={**ORDER_PARTS, "sms": {"en": {"body": "x"}, "fr_ca": {"body": "y"}}}
    )
    assert set(draft.parts["sms"]) == {"en", "fr-CA"}
