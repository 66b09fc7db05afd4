"""Test keys: messages render, validate and record like live ones, and never reach a provider."""

from __future__ import annotations

import re

from click.testing import CliRunner

from hcs.cli import main
from hcs.worker.runtime import build_worker
from tests.support.flows import ORDER, dispatch, published
from tests.support.metrics import scrape, value
from tests.support.web import sign_in
from tests.support.world import World


def make_test_key(world: World) -> str:
    """A test key made the way an operator makes one: `hcs apikeys create ... --test`."""
    url = world.app.extensions["hcs"].settings.database_url
    args = ["apikeys", "create", "--name", "shop-test", "--scopes", "send,read", "--test"]
    result = CliRunner().invoke(main, args, env={"HCS_DATABASE_URL": url})
    assert result.exit_code == 0 and "created test API key shop-test" in result.output
    listing = CliRunner().invoke(main, ["apikeys", "list"], env={"HCS_DATABASE_URL": url})
    assert "shop-test\t" in listing.output and listing.output.count("\ttest") == 1
    key = re.search(r"store it now\): (\S+)", result.output)[1]  # type: ignore[index]
    world.keys["test"] = key
    return key


def test_a_test_key_message_is_recorded_as_sent_by_test_and_no_provider_sees_it(
    world: World,
) -> None:
    published(world)
    make_test_key(world)
    tester = world.as_("test")
    outbox = world.app.extensions["hcs"].settings.outbox_dir / "email"
    accepted = tester.post("/messages", {**ORDER, "reference": "t-1"})
    assert accepted.status_code == 202
    assert dispatch(world) == 1
    shown = tester.get(f"/messages/{accepted.get_json()['id']}").get_json()
    assert shown["status"] == "sent" and shown["provider"] == "test" and shown["test"] is True
    assert [e["kind"] for e in shown["events"]] == ["accepted", "sent"]
    assert not outbox.exists() or list(outbox.iterdir()) == []
    invalid = tester.post("/messages", {**ORDER, "data": {"order_id": 1}})
    assert invalid.status_code == 422 and "data.order_id" in invalid.get_json()["errors"]


def test_test_messages_are_kept_apart_in_the_log_and_the_live_metrics(world: World) -> None:
    published(world)
    make_test_key(world)
    before = scrape(world)
    test_id = world.as_("test").post("/messages", ORDER).get_json()["id"]
    live_id = world.as_("system").post("/messages", ORDER).get_json()["id"]
    dispatch(world)
    after = scrape(world)
    accepted = {"channel": "email", "status": "accepted"}
    grew = value(after, "hcs_messages_accepted_total", **accepted) - value(
        before, "hcs_messages_accepted_total", **accepted
    )
    assert grew == 1
    assert not [key for key in after if ("provider", "test") in key[1]]
    root = world.as_("root@example.com")
    assert [m["id"] for m in root.get("/messages?test=true").get_json()["items"]] == [test_id]
    assert [m["id"] for m in root.get("/messages?test=false").get_json()["items"]] == [live_id]
    assert world.as_("test").get(f"/messages/{live_id}").status_code == 404
    auditor = world.app.test_client()
    sign_in(auditor, "aud@example.com")
    page = auditor.get("/messages?kind=test").text
    assert test_id in page and live_id not in page


def test_a_test_keys_message_is_marked_test_in_the_archive_and_kept_apart_by_its_filter(
    world: World,
) -> None:
    published(world)
    make_test_key(world)
    test_id = world.as_("test").post("/messages", ORDER).get_json()["id"]
    live_id = world.as_("system").post("/messages", ORDER).get_json()["id"]
    services = world.app.extensions["hcs"]
    assert build_worker(services.settings, services.sessions).run_once() == 2  # and archives
    auditor = world.as_("aud@example.com")
    everything = {e["message_id"]: e["test"] for e in auditor.get("/archive").get_json()}
    assert everything == {test_id: True, live_id: False}
    assert [e["message_id"] for e in auditor.get("/archive?test=true").get_json()] == [test_id]
    assert [e["message_id"] for e in auditor.get("/archive?test=false").get_json()] == [live_id]
    page = world.app.test_client()
    sign_in(page, "aud@example.com")
    shown = page.get("/archive?kind=test").text
    assert test_id in shown and live_id not in shown
    assert "choose live or test" in page.get("/archive?kind=other").text
