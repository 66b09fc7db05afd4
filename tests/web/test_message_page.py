"""A message's page: its facts and events; an admin settles a send in doubt there, audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from tests.support.flows import ORDER, published
from tests.support.rounds import dispatch_round, flaky, kinds
from tests.support.web import Person
from tests.support.world import World


def in_doubt(world: World, policy: str = "hold") -> str:
    """A transactional email whose provider call lost its answer: `unknown`, then, past the
    reconciliation window with `hold`, waiting for a person."""
    published(world)
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    message_id = str(answer.get_json()["id"])
    providers, outlet = flaky(world, drops=1)
    assert dispatch_round(world, providers, 0) == ["unknown"]
    if policy == "hold":
        assert dispatch_round(world, providers, 11) == ["unknown"]
        assert kinds(world, message_id)[-1] == "awaiting_resolution"
    assert outlet.copies == 1
    return message_id


def status_of(world: World, message_id: str) -> str:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return str(session.get_one(Message, message_id).status)


def settlements(world: World) -> list[tuple[str, str, dict]]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(AuditEntry).where(AuditEntry.action == "message.resolve")
        return [(e.actor, e.target, e.after) for e in session.scalars(query)]


@pytest.fixture
def held(make_world: Callable[..., World]) -> World:
    return make_world(unknown_policy=(("transactional", "hold"),))


def test_an_admin_finds_a_held_message_from_home_and_sends_it_again_audited(held: World) -> None:
    message_id = in_doubt(held)
    root = Person(held.app, "root@example.com")
    home = root.get("/").text
    assert "/messages?status=unknown" in home
    log = root.get("/messages?status=unknown").text
    assert f'href="/messages/{message_id}"' in log
    page = root.get(f"/messages/{message_id}")
    assert page.status_code == 200
    assert "wait for a person" in page.text and 'id="settle"' in page.text
    assert "awaiting_resolution" in page.text and "customer@example.com" in page.text.lower()
    woken: list[list[str]] = []
    held.app.extensions["hcs.dispatcher"] = woken.append
    answer = root.post(f"/messages/{message_id}/settle", {"outcome": "resend"})
    assert answer.status_code == 302 and woken == [[message_id]]  # goes now, not at the sweep
    shown = root.get(answer.headers["Location"]).text
    assert f"Message {message_id} queued to be sent again." in shown
    assert 'id="settle"' not in shown  # no longer in doubt
    assert status_of(held, message_id) == "queued"
    assert kinds(held, message_id)[-1] == "possible_duplicate"
    assert settlements(held) == [
        ("root@example.com", message_id, {"status": "queued", "outcome": "resend"})
    ]


@pytest.mark.parametrize(("outcome", "status"), [("sent", "sent"), ("fail", "failed")])
def test_an_admin_marks_a_message_in_doubt_sent_or_failed(
    world: World, outcome: str, status: str
) -> None:
    message_id = in_doubt(world, policy="resend")  # still in its window: settling is allowed
    root = Person(world.app, "root@example.com")
    assert "waits for the provider" in root.get(f"/messages/{message_id}").text
    woken: list[list[str]] = []
    world.app.extensions["hcs.dispatcher"] = woken.append
    answer = root.post(f"/messages/{message_id}/settle", {"outcome": outcome})
    assert answer.status_code == 302 and status_of(world, message_id) == status
    assert woken == []  # nothing to send
    assert [after["outcome"] for _, _, after in settlements(world)] == [outcome]


@pytest.mark.parametrize("outcome", ["", "resend,sent", "delete"])
def test_a_settlement_without_a_valid_choice_says_so_and_changes_nothing(
    held: World, outcome: str
) -> None:
    message_id = in_doubt(held)
    root = Person(held.app, "root@example.com")
    answer = root.post(f"/messages/{message_id}/settle", {"outcome": outcome})
    assert answer.status_code == 400
    assert "choose what became of it" in answer.text and 'aria-invalid="true"' in answer.text
    assert status_of(held, message_id) == "unknown" and settlements(held) == []


def test_a_second_admin_settling_the_same_message_is_told_and_changes_nothing(
    held: World,
) -> None:
    message_id = in_doubt(held)
    first, second = Person(held.app, "root@example.com"), Person(held.app, "root@example.com")
    pages = [p.get(f"/messages/{message_id}").text for p in (first, second)]
    assert all('id="settle"' in page for page in pages)  # both saw it in doubt
    assert first.post(f"/messages/{message_id}/settle", {"outcome": "sent"}).status_code == 302
    late = second.post(f"/messages/{message_id}/settle", {"outcome": "resend"})
    assert late.status_code == 409
    assert "is sent; only an unknown one can be resolved: nothing was changed" in late.text
    assert status_of(held, message_id) == "sent" and len(settlements(held)) == 1
    assert "possible_duplicate" not in kinds(held, message_id)


def test_only_admins_settle_and_a_form_without_its_token_is_refused(held: World) -> None:
    message_id = in_doubt(held)
    auditor = Person(held.app, "aud@example.com")
    page = auditor.get(f"/messages/{message_id}")
    assert page.status_code == 200 and 'id="settle"' not in page.text
    assert "/messages?status=unknown" not in auditor.get("/").text
    assert auditor.post(f"/messages/{message_id}/settle", {"outcome": "sent"}).status_code == 403
    root = Person(held.app, "root@example.com")
    forged = root.post(f"/messages/{message_id}/settle", {"outcome": "sent"}, csrf=False)
    assert forged.status_code == 400
    assert status_of(held, message_id) == "unknown" and settlements(held) == []


def test_sign_off_staff_see_the_page_with_the_recipient_masked_and_authors_do_not(
    world: World,
) -> None:
    published(world)
    message_id = world.as_("system").post("/messages", ORDER).get_json()["id"]
    staff = Person(world.app, "sam@example.com")
    page = staff.get(f"/messages/{message_id}")
    assert page.status_code == 200 and "accepted" in page.text
    assert "customer@example.com" not in page.text.lower() and "C•••@Example.com" in page.text
    author = Person(world.app, "ana@example.com")
    assert author.get(f"/messages/{message_id}").status_code == 403
    assert staff.get("/messages/msg_nothing").status_code == 404
