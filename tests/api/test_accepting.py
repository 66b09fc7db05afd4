"""What a send reads and writes: its version and consent in one statement, the callbacks it owes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from hcs.callbacks.models import WebhookDelivery
from hcs.infrastructure.db import transaction
from hcs.messages.consent import BOUNCE_SOURCE, set_preference
from hcs.messages.erasure import erase_messages
from tests.support.flows import ORDER, other_sender, published
from tests.support.statements import statements
from tests.support.world import World, running

DEV = {"webhook_allowed_hosts": ("127.0.0.1",)}
HOOK = "http://127.0.0.1:9/hook"  # never called: these tests read the owed rows


@pytest.fixture
def dev_world(make_world: Callable[..., World]) -> World:
    world = make_world(**DEV)
    published(world)
    return world


def bounced(world: World) -> str:
    """The order's recipient, opted out of transactional email by a bounce; their key."""
    recipient = ORDER["to"]["email"].lower()
    with transaction(world.app.extensions["hcs"].sessions) as session:
        set_preference(
            session,
            recipient,
            "email",
            "transactional",
            "opted_out",
            source=BOUNCE_SOURCE,
            actor="t",
        )
    return recipient


def owed(world: World) -> list[tuple[str, str]]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        rows = session.execute(select(WebhookDelivery.message_id, WebhookDelivery.event))
        return [(message_id, event) for message_id, event in rows]


def register(world: World, events: list[str]) -> None:
    answer = world.as_("system").post("/webhooks", {"url": HOOK, "events": events})
    assert answer.status_code == 201, answer.get_json()


def test_a_send_nobody_listens_for_runs_no_callbacks_statement(dev_world: World) -> None:
    register(dev_world, ["sent"])  # an endpoint, but not for `accepted`
    with statements(dev_world.app.extensions["hcs"].engine) as seen:
        answer = dev_world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202
    assert not [s for s in seen if s.startswith("INSERT INTO webhook_deliveries")]
    assert owed(dev_world) == []


def test_another_owners_endpoint_owes_nothing_for_a_send_and_runs_no_statement(
    dev_world: World,
) -> None:
    system = dev_world.as_("system")
    register(dev_world, ["accepted"])  # the backend's endpoint, and its messages
    first = system.post("/messages", ORDER).get_json()["id"]
    other_sender(dev_world)
    with statements(dev_world.app.extensions["hcs"].engine) as seen:
        answer = dev_world.as_("billing").post("/messages", ORDER)  # nobody listens
    assert answer.status_code == 202, answer.get_json()
    assert not [s for s in seen if s.startswith("INSERT INTO webhook_deliveries")]
    assert owed(dev_world) == [(first, "accepted")]


def test_an_endpoint_another_process_adds_is_owed_the_next_acceptance(dev_world: World) -> None:
    system = dev_world.as_("system")
    assert system.post("/messages", ORDER).status_code == 202  # nobody listened then
    with running(dev_world.app.extensions["hcs"].settings, dev_world.keys) as other:
        register(other, ["accepted"])
    message_id = system.post("/messages", ORDER).get_json()["id"]
    assert owed(dev_world) == [(message_id, "accepted")]


def test_a_suppressed_send_is_owed_to_endpoints_that_chose_suppressed(dev_world: World) -> None:
    system = dev_world.as_("system")
    register(dev_world, ["suppressed"])
    bounced(dev_world)
    sent = system.post("/messages", ORDER).get_json()
    assert sent["status"] == "suppressed"
    assert owed(dev_world) == [(sent["id"], "suppressed")]


def test_a_single_send_reads_its_version_and_consent_in_one_statement(dev_world: World) -> None:
    system = dev_world.as_("system")
    assert system.post("/messages", ORDER).status_code == 202  # the key and schema, read once
    with statements(dev_world.app.extensions["hcs"].engine) as seen:
        answer = system.post("/messages", ORDER)
    assert answer.status_code == 202
    assert len([s for s in seen if s.startswith("SELECT")]) == 1


def test_a_single_sends_statements_bind_nothing_that_makes_sqlite_plan_them_again(
    dev_world: World,
) -> None:
    # SQLite compiles a statement again at every execution when a bound value could change its
    # plan: a LIKE's whole pattern, or a value a partial index's WHERE compares (the published
    # version's unique index): the lookup and the INSERT took 121 and 201 us so, 37 and 41 now.
    register(dev_world, ["accepted"])
    system = dev_world.as_("system")
    with statements(dev_world.app.extensions["hcs"].engine) as seen:
        assert system.post("/messages", ORDER).status_code == 202
    flat = [" ".join(s.split()) for s in seen]
    assert any("template_versions.status = 'published'" in s for s in flat)
    assert not [s for s in flat if re.search(r"LIKE (\?|%\(\w+\)s)", s)]
    assert not [s for s in flat if re.search(r"versions\.status = (\?|%\(\w+\)s)", s)]


def test_a_single_send_to_an_erased_recipient_kept_opted_out_is_suppressed(
    dev_world: World,
) -> None:
    recipient = bounced(dev_world)
    with transaction(dev_world.app.extensions["hcs"].sessions) as session:
        erase_messages(session, recipient, actor="t")  # the opt-out stays, under a pseudonym
    sent = dev_world.as_("system").post("/messages", ORDER).get_json()
    assert sent["status"] == "suppressed"


def test_an_unknown_template_is_named_before_a_bad_recipient(dev_world: World) -> None:
    body = {**ORDER, "template": "no-such-template", "to": {"email": "not an address"}}
    answer = dev_world.as_("system").post("/messages", body)
    assert answer.status_code == 404
    bad_to = dev_world.as_("system").post("/messages", {**ORDER, "to": {"email": "nope"}})
    assert bad_to.status_code == 422 and "to.email" in str(bad_to.get_json())


def _batch(world: World, count: int) -> list[str]:
    body = {
        "template": ORDER["template"],
        "channel": ORDER["channel"],
        "messages": [
            {"to": {"email": f"c{n}@example.com"}, "data": ORDER["data"]} for n in range(count)
        ],
    }
    answer = world.as_("system").post("/messages/batch", body)
    assert answer.status_code == 202, answer.get_json()
    return [str(m["id"]) for m in answer.get_json()["messages"]]


def test_a_batch_nobody_listens_for_lists_its_messages_in_no_callbacks_statement(
    dev_world: World,
) -> None:
    register(dev_world, ["sent"])  # an endpoint, but not for `accepted`
    with statements(dev_world.app.extensions["hcs"].engine) as seen:
        _batch(dev_world, 60)
    assert not [s for s in seen if "webhook_deliveries" in s and s.count("?") + s.count("%(") > 40]
    assert owed(dev_world) == []


def test_a_batch_is_owed_to_an_endpoint_another_process_adds_before_it(dev_world: World) -> None:
    _batch(dev_world, 3)  # nobody listened then
    with running(dev_world.app.extensions["hcs"].settings, dev_world.keys) as other:
        register(other, ["accepted"])
    ids = _batch(dev_world, 3)
    assert sorted(owed(dev_world)) == sorted((message_id, "accepted") for message_id in ids)


def test_a_batch_reads_its_recipients_consent_in_one_statement_of_few_parameters(
    dev_world: World,
) -> None:
    """On PostgreSQL the recipients go as one array: psycopg parses a statement of more than 50
    parameters again on every execution. The opted-out recipient among them is still found."""
    engine = dev_world.app.extensions["hcs"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no arrays: its IN list is parsed by SQLite alone")
    bounced(dev_world)
    body = {
        "template": ORDER["template"],
        "channel": ORDER["channel"],
        "messages": [{"to": ORDER["to"], "data": ORDER["data"]}]
        + [{"to": {"email": f"c{n}@example.com"}, "data": ORDER["data"]} for n in range(80)],
    }
    with statements(engine) as seen:
        answer = dev_world.as_("system").post("/messages/batch", body)
    assert answer.status_code == 202, answer.get_json()
    statuses = [m["status"] for m in answer.get_json()["messages"]]
    assert statuses[0] == "suppressed" and set(statuses[1:]) == {"accepted"}
    [lookup] = [s for s in seen if s.startswith("SELECT consents.")]
    assert lookup.count("%(") <= 4, lookup


def _stored(world: World, table: str, key: str, value: str) -> dict[str, Any]:
    """A row as the driver reads it back: no type processing, the values the database holds."""
    with world.app.extensions["hcs"].engine.connect() as connection:
        query = text(f"SELECT * FROM {table} WHERE {key} = :value")
        return dict(connection.execute(query, {"value": value}).mappings().one())


def _same_but_moments(single: dict[str, Any], batched: dict[str, Any], moments: set[str]) -> None:
    assert single.keys() == batched.keys()
    for column, value in single.items():
        if column in moments:  # other moments, the same type and form
            assert type(value) is type(batched[column]), column
            if isinstance(value, str):
                assert len(value) == len(batched[column]), (column, value, batched[column])
        else:
            assert value == batched[column], column


def test_a_single_send_is_stored_exactly_as_a_batch_stores_the_same_message(
    dev_world: World,
) -> None:
    """A single send's three rows are written by statements prepared ahead of its transaction;
    a batch's through SQLAlchemy's execute. The database holds the same values either way."""
    system = dev_world.as_("system")
    message = {**ORDER, "reference": "ref-1", "metadata": {"crm": ["a", 1, None]}}
    single = system.post("/messages", message)
    assert single.status_code == 202, single.get_json()
    batch = {k: v for k, v in message.items() if k not in ("to", "data", "reference", "metadata")}
    one = {k: message[k] for k in ("to", "data", "reference", "metadata")}
    batched = system.post("/messages/batch", {**batch, "messages": [one, one]})
    assert batched.status_code == 202, batched.get_json()
    ids = single.get_json()["id"], batched.get_json()["messages"][0]["id"]

    rows = [_stored(dev_world, "messages", "id", id_) for id_ in ids]
    batch_id = rows[1].pop("batch_id")
    assert batch_id and rows[0].pop("batch_id") is None
    _same_but_moments({**rows[0], "id": ""}, {**rows[1], "id": ""}, {"created_at", "updated_at"})
    for table, moments in (("message_events", {"at", "id"}), ("outbox", {"available_at", "id"})):
        stored = [_stored(dev_world, table, "message_id", id_) for id_ in ids]
        _same_but_moments({**stored[0], "message_id": ""}, {**stored[1], "message_id": ""}, moments)
