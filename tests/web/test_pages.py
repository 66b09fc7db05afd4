"""The web editor's pages over the Flask test client: roles, CSRF, the editor's save and errors."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.infrastructure.db import transaction
from hcs.worker.runtime import build_worker
from templates_store import versioning
from templates_store.lookup import get_version, search_templates
from tests.support.flows import (
    ORDER,
    ai_template,
    dispatch,
    published,
    send_ai,
    sent_bodies,
    status,
)
from tests.support.web import Person, make_draft
from tests.support.world import World


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Person]:
    names = ["ana", "lee", "max", "root", "aud", "sam"]
    return {name: Person(app, f"{name}@example.com") for name in names}


def _stored(app: Flask, key: str, number: int):  # type: ignore[no-untyped-def]
    with transaction(app.extensions["hcs"].sessions) as session:
        version = get_version(session, key, number)
        return version.status.value, version.parts


def _form(body: str, sample: str = '{"order_id": "A-1"}') -> dict[str, str]:
    variables = '[{"name": "order_id", "type": "string", "required": true}]'
    return {"parts.sms.en.body": body, "variables": variables, "sample_data": sample}


def test_pages_send_a_visitor_who_is_not_signed_in_to_the_sign_in_form(app: Flask) -> None:
    client = app.test_client()
    for path in ("/templates", "/templates/new", "/signoffs", "/templates/x/versions/1/edit"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("lee", "get", "/templates/new"),
        ("aud", "get", "/signoffs"),
        ("ana", "get", "/signoffs"),
        ("lee", "get", "/templates/roles-page/versions/1/edit"),
        ("lee", "post", "/templates/roles-page/versions/1/edit"),
        ("lee", "post", "/templates/roles-page/versions/1/preview"),
        ("ana", "post", "/templates/roles-page/versions/1/approve"),
        ("ana", "post", "/templates/roles-page/versions/1/publish"),
        ("sam", "post", "/templates/roles-page/drafts"),
    ],
)
def test_a_page_or_action_without_the_role_answers_403(
    app: Flask, people: dict[str, Person], who: str, method: str, path: str
) -> None:
    if "roles-page" not in _keys(app):
        make_draft(app, "roles-page")
    person = people[who]
    answer = person.get(path) if method == "get" else person.post(path, _form("x"))
    assert answer.status_code == 403
    assert answer.mimetype == "text/html" and 'id="page-error"' in answer.text


def _keys(app: Flask) -> set[str]:
    with transaction(app.extensions["hcs"].sessions) as session:
        return {t.key for t in search_templates(session)}


def test_each_role_reaches_its_pages(app: Flask, people: dict[str, Person]) -> None:
    number = make_draft(app, "reach")
    assert people["ana"].get("/templates/new").status_code == 200
    assert people["ana"].get(f"/templates/reach/versions/{number}/edit").status_code == 200
    assert people["sam"].get("/signoffs").status_code == 200
    for name in ("ana", "lee", "aud"):
        assert people[name].get("/templates?q=reach").status_code == 200
        assert people[name].get("/templates/reach").status_code == 200
        assert people[name].get(f"/templates/reach/versions/{number}").status_code == 200
    assert people["lee"].get("/templates/nothing-here").status_code == 404


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "csrf-save")
    path = f"/templates/csrf-save/versions/{number}/edit"
    answer = people["ana"].post(path, _form("Changed {{ order_id }}"), csrf=False)
    assert answer.status_code == 400 and "Form refused" in answer.text
    assert _stored(app, "csrf-save", number)[1]["sms"]["en"]["body"].startswith("Order")
    refused = people["ana"].post("/templates/new", {"key": "no-token"}, csrf=False)
    assert refused.status_code == 400


def test_a_template_without_channels_marks_the_channels_group_invalid_and_describes_it(
    people: dict[str, Person],
) -> None:
    form = {"key": "no-channel", "name": "No channel", "category": "transactional"}
    answer = people["ana"].post("/templates/new", form)
    assert answer.status_code == 422
    group = re.search(
        r"<fieldset([^>]*)><legend>Channels</legend>(.*?)</fieldset>", answer.text, re.S
    )
    assert group, answer.text
    assert 'aria-describedby="channels-error"' in group[1] and 'aria-invalid="true"' in group[1]
    boxes = re.findall(r'<input type="checkbox" name="channels"[^>]*>', group[2])
    assert boxes and all('aria-invalid="true"' in box for box in boxes)
    error = re.findall(r'<(\w+) class="error" id="channels-error">([^<]+)</\1>', group[2])
    assert [tag for tag, _ in error] == ["p"] and "must be distinct channels" in error[0][1]
    assert re.search(r"</label>\s*<p class=\"error\"", group[2])  # after the labels, not in one
    fine = people["ana"].get("/templates/new").text
    assert "aria-invalid" not in fine and "channels-error" not in fine


def test_htmx_requests_carry_the_token_in_a_header(app: Flask, people: dict[str, Person]) -> None:
    number = make_draft(app, "csrf-htmx")
    path = f"/templates/csrf-htmx/versions/{number}/preview"
    ana = people["ana"]
    assert ana.client.post(path, data=_form("Hi")).status_code == 400
    answer = ana.client.post(path, data=_form("Hi"), headers={"X-CSRFToken": ana.token})
    assert answer.status_code == 200


def test_the_editor_saves_a_draft(app: Flask, people: dict[str, Person]) -> None:
    number = make_draft(app, "saving")
    path = f"/templates/saving/versions/{number}/edit"
    answer = people["ana"].post(path, _form("Now {{ order_id }}!") | {"action": "save"})
    assert answer.status_code == 302 and answer.headers["Location"] == path
    assert _stored(app, "saving", number) == (
        "draft",
        {"sms": {"en": {"body": "Now {{ order_id }}!"}}},
    )
    assert "Saved." in people["ana"].get(path).text


def test_a_template_syntax_error_shows_next_to_its_part_and_saves_nothing(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "bad-syntax")
    path = f"/templates/bad-syntax/versions/{number}/edit"
    answer = people["ana"].post(path, _form("Hello {{ order_id "))
    assert answer.status_code == 422
    assert 'id="f-sms-en-body-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "Hello {{ order_id </textarea>" in answer.text  # what was typed stays
    assert re.search(r'id="f-sms-en-body-error" data-line="1">sms.body.en, line 1: ', answer.text)
    assert _stored(app, "bad-syntax", number)[1]["sms"]["en"]["body"].startswith("Order")


def test_sample_data_posted_as_json_that_does_not_parse_is_named_on_the_page(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "bad-json")
    answer = people["ana"].post(
        f"/templates/bad-json/versions/{number}/edit", _form("Hi", sample="{order_id: 1")
    )
    assert answer.status_code == 422
    assert "<strong>sample_data</strong>: is not valid JSON" in answer.text


def test_submitting_a_draft_whose_sample_data_breaks_its_schema_is_refused(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "bad-sample")
    path = f"/templates/bad-sample/versions/{number}/edit"
    answer = people["ana"].post(
        path, _form("Hi {{ order_id }}", sample="{}") | {"action": "submit"}
    )
    assert answer.status_code == 422 and 'id="editor-errors"' in answer.text
    assert _stored(app, "bad-sample", number)[0] == "draft"


def test_the_live_preview_renders_unsaved_content_and_keeps_none_of_it(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "live")
    ana = people["ana"]
    answer = ana.post(f"/templates/live/versions/{number}/preview", _form("Héllo {{ order_id }} ✓"))
    assert answer.status_code == 200
    assert "Héllo A-1 ✓" in answer.text and "UCS-2" in answer.text and "1 segment" in answer.text
    broken = ana.post(f"/templates/live/versions/{number}/preview", _form("Hi\n{{ nope }}"))
    assert 'id="preview-sms-en-problem"' in broken.text and "nope" in broken.text
    beside = re.search(
        r'<span id="live-f-sms-en-body"[^>]*>Preview: <span data-line="2">([^<]*)</span></span>',
        broken.text,
    )
    assert beside and "sms.body.en, line 2" in beside[1]
    assert re.search(r'<span id="live-f-variables"[^>]*></span>', broken.text)
    unclosed = ana.post(f"/templates/live/versions/{number}/preview", _form("Hi\n\n{{ order_id "))
    marked = r'<span id="live-f-sms-en-body"[^>]*>Preview: <span data-line="3">'
    assert re.search(marked, unclosed.text)  # for the code editor to mark line 3
    assert _stored(app, "live", number)[1]["sms"]["en"]["body"].startswith("Order")


def test_an_email_preview_frame_has_a_policy_of_its_own(
    app: Flask, people: dict[str, Person]
) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="framed", name="Framed", category="service", channels=["email"]
        )
        number = versioning.create_draft(session, "framed", author="ana@example.com").number
    form = {"parts.email.en.subject": "Hi", "parts.email.en.html": '<p style="color:red">Hi</p>'}
    answer = people["ana"].post(f"/templates/framed/versions/{number}/frame/email/en", form)
    assert answer.status_code == 200 and '<p style="color:red">Hi</p>' in answer.text
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy


def test_the_review_flow_on_the_pages(app: Flask, people: dict[str, Person]) -> None:
    created = people["ana"].post(
        "/templates/new",
        {"key": "flow", "name": "Flow", "category": "transactional", "channels": "sms"},
    )
    assert created.status_code == 302
    edit = created.headers["Location"]
    submitted = people["ana"].post(edit, _form("Order {{ order_id }}") | {"action": "submit"})
    assert submitted.status_code == 302, submitted.text
    assert "flow" in people["lee"].get("/").text  # waiting for the reviewer
    assert people["lee"].get(edit).status_code == 403  # a reviewer cannot edit
    page = people["lee"].get("/templates/flow/versions/1")
    assert "Pre-submission checks" in page.text and 'id="approve"' in page.text
    assert (
        people["lee"].post("/templates/flow/versions/1/approve", {"comment": "ok"}).status_code
        == 302
    )
    assert _stored(app, "flow", 1)[0] == "approved"
    assert people["lee"].post("/templates/flow/versions/1/publish").status_code == 302
    assert _stored(app, "flow", 1)[0] == "published"
    assert "v1" in people["aud"].get("/templates?status=published").text


def test_an_author_cannot_approve_her_own_version(app: Flask, people: dict[str, Person]) -> None:
    make_draft(app, "own", author="max@example.com")
    max_ = people["max"]
    assert (
        max_.post(
            "/templates/own/versions/1/edit", _form("Hi {{ order_id }}") | {"action": "submit"}
        ).status_code
        == 302
    )
    answer = max_.post("/templates/own/versions/1/approve", {"comment": "mine"})
    assert answer.status_code == 403 and 'id="refusal"' in answer.text
    assert _stored(app, "own", 1)[0] == "in_review"


def test_the_template_list_filters_by_status_channel_and_text(
    app: Flask, people: dict[str, Person]
) -> None:
    make_draft(app, "filter-me")
    link = 'href="/templates/filter-me"'
    assert link in people["aud"].get("/templates?q=filter-me&status=draft&channel=sms").text
    assert link not in people["aud"].get("/templates?q=filter-me&status=published").text
    assert link not in people["aud"].get("/templates?q=filter-me&channel=email").text


def test_an_author_adds_a_locale_and_saves_its_translation(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "locales")
    path = f"/templates/locales/versions/{number}/edit"
    page = people["ana"].get(f"{path}?add_locale=fr")
    assert 'name="parts.sms.fr.body"' in page.text
    assert 'id="add-locale-error"' in people["ana"].get(f"{path}?add_locale=xx-nowhere!").text
    form = _form("Order {{ order_id }}") | {"parts.sms.fr.body": "Commande {{ order_id }}"}
    assert people["ana"].post(path, form).status_code == 302
    assert _stored(app, "locales", number)[1]["sms"]["fr"]["body"] == "Commande {{ order_id }}"
    assert 'name="parts.sms.fr.body"' in people["ana"].get(path).text
    form |= {"parts.sms.de.body": "  "}  # added, then left empty: not saved
    assert people["ana"].post(path, form).status_code == 302
    assert set(_stored(app, "locales", number)[1]["sms"]) == {"en", "fr"}


def test_ai_slots_posted_as_json_that_are_not_a_list_are_refused_by_name(
    app: Flask, people: dict[str, Person]
) -> None:
    number = make_draft(app, "slots")
    form = _form("Hi") | {"ai_slots": '{"name": "opener"}'}
    answer = people["ana"].post(f"/templates/slots/versions/{number}/edit", form)
    assert answer.status_code == 422 and "<strong>ai_slots</strong>: must be a list" in answer.text


def test_only_reviewers_and_admins_retire_a_template(app: Flask, people: dict[str, Person]) -> None:
    make_draft(app, "to-retire")
    confirmed = {"confirm": "to-retire"}
    assert people["ana"].post("/templates/to-retire/retire", confirmed).status_code == 403
    assert people["root"].post("/templates/to-retire/retire", confirmed).status_code == 302
    assert "retired" in people["aud"].get("/templates/to-retire").text
    again = people["lee"].post("/templates/to-retire/retire", confirmed)
    assert again.status_code == 409 and "already retired" in again.text


def test_the_audit_log_is_for_auditors_and_admins(app: Flask, people: dict[str, Person]) -> None:
    make_draft(app, "audited")
    people["ana"].post("/templates/audited/versions/1/edit", _form("Hi {{ order_id }}"))
    assert people["ana"].get("/audit").status_code == 403
    page = people["aud"].get("/audit?target=audited+v1&action=template.edit")
    assert page.status_code == 200 and "ana@example.com" in page.text
    assert "1 entry" in page.text


@pytest.fixture
def ai_world(sqlite_world: World) -> World:
    return sqlite_world


def test_a_cx_agent_sees_the_ai_text_marked_and_approves_an_edit(ai_world: World) -> None:
    ai_template(ai_world)
    message_id = send_ai(ai_world, first_name="<b>Ana</b>")
    dispatch(ai_world)
    sam = Person(ai_world.app, "sam@example.com")
    page = sam.get("/signoffs")
    assert '<mark data-ai-slot="opener">' in page.text and "<b>Ana" not in page.text
    assert "Order A-1 is confirmed." in page.text
    assert page.headers["Cache-Control"] == "no-store"
    item_id = re.search(r'action="/signoffs/(\d+)/approve"', page.text)[1]  # type: ignore[index]
    # The value the model saw, not a digest of it.
    assert f'id="item-{item_id}-input-first_name">&lt;b&gt;Ana&lt;/b&gt;</dd>' in page.text
    refused = sam.post(f"/signoffs/{item_id}/approve", {"slot.opener": "We refund it all!"})
    assert refused.status_code == 422 and 'id="signoff-error"' in refused.text
    # The refused edit stays in the form, its error next to the field.
    assert 'name="slot.opener" rows="3" aria-invalid="true"' in refused.text
    assert ">We refund it all!</textarea>" in refused.text
    assert f'id="slot-{item_id}-opener-error"' in refused.text
    approved = sam.post(f"/signoffs/{item_id}/approve", {"slot.opener": "Hi Ana, welcome back."})
    assert approved.status_code == 302
    dispatch(ai_world)
    assert status(ai_world, message_id)["status"] == "sent"
    assert "Hi Ana, welcome back." in sent_bodies(ai_world)[0]
    assert Person(ai_world.app, "ana@example.com").get("/signoffs").status_code == 403


def test_the_review_page_shows_source_and_rendered_diffs_against_the_published_version(
    app: Flask, people: dict[str, Person]
) -> None:
    make_draft(app, "diffed")
    lee, ana = people["lee"], people["ana"]
    ana.post(
        "/templates/diffed/versions/1/edit", _form("Order {{ order_id }}") | {"action": "submit"}
    )
    lee.post("/templates/diffed/versions/1/approve")
    lee.post("/templates/diffed/versions/1/publish")
    ana.post("/templates/diffed/drafts")
    ana.post("/templates/diffed/versions/2/edit", _form("Parcel {{ order_id }}"))
    page = lee.get("/templates/diffed/versions/2").text
    assert "Changes against version 1 (published)" in page
    assert '<span class="add">+Parcel {{ order_id }}</span>' in page
    assert '<span class="add">+Parcel A-1</span>' in page  # what customers see, no draft mark
    assert '<span class="del">-Order A-1</span>' in page
    side = lee.get("/templates/diffed/versions/2?view=side").text
    assert '<span class="del">Order {{ order_id }}</span>' in side
    assert '<span class="add">Parcel {{ order_id }}</span>' in side


def test_the_preview_grid_shows_a_version_on_every_channel(
    app: Flask, people: dict[str, Person]
) -> None:
    with transaction(app.extensions["hcs"].sessions) as session:
        versioning.create_template(
            session, key="grid", name="Grid", category="service", channels=["email", "sms"]
        )
        parts = {
            "email": {"en": {"subject": "Hi", "html": '<p style="color:red">Hi there</p>'}},
            "sms": {"en": {"body": "Hi there"}},
        }
        versioning.create_draft(session, "grid", author="ana@example.com", content={"parts": parts})
    page = people["aud"].get("/templates/grid/versions/1/grid")
    assert page.status_code == 200 and 'id="preview-sms-en"' in page.text
    assert 'src="/templates/grid/versions/1/rendered/email/en"' in page.text
    frame = people["aud"].get("/templates/grid/versions/1/rendered/email/en")
    assert "Hi there" in frame.text and frame.headers["Content-Security-Policy"].startswith(
        "sandbox;"
    )


def test_an_auditor_finds_a_sent_message_in_the_archive(ai_world: World) -> None:
    ai_template(ai_world)
    message_id = send_ai(ai_world)
    dispatch(ai_world)
    sam = ai_world.as_("sam@example.com")
    item_id = sam.get("/signoffs").get_json()[0]["id"]
    assert sam.post(f"/signoffs/{item_id}/approve", {"comment": "ok"}).status_code == 200
    services = ai_world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()  # sends and archives
    aud = Person(ai_world.app, "aud@example.com")
    found = aud.get("/archive?template=order-thanks&channel=sms&since=2000-01-01")
    assert found.status_code == 200 and message_id in found.text
    entry_path = re.search(r'href="(/archive/\d+)"', found.text)[1]  # type: ignore[index]
    entry = aud.get(entry_path)
    assert 'id="integrity"' in entry.text and "AI provenance" in entry.text
    assert "Order A-1 is confirmed." in entry.text
    output = aud.get(f"{entry_path}/output")
    assert output.status_code == 200 and b"Order A-1 is confirmed." in output.data
    assert output.headers["Content-Disposition"].endswith('.txt"')  # named as its kind
    assert 'id="since-error"' in aud.get("/archive?since=yesterday").text
    export = re.search(r'href="(/api/v1/archive/export[^"]*)"', found.text)[1]  # type: ignore[index]
    zipped = aud.get(export.replace("&amp;", "&"))
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert "since=2000-01-01T00:00:00%2B00:00" in export
    assert Person(ai_world.app, "ana@example.com").get("/archive").status_code == 403
    with transaction(services.sessions) as session:
        searched = select(AuditEntry).where(AuditEntry.action == "archive.search")
        logged = [(a.actor, a.detail) for a in session.scalars(searched)]
    # The search with a bad date ran no query and is not in the log.
    assert [(actor, d["filters"]["template"], d["results"]) for actor, d in logged] == [
        ("aud@example.com", "order-thanks", 1)
    ]


def test_batch_sign_off_waits_for_a_sample_decided_one_by_one(ai_world: World) -> None:
    ai_template(ai_world)
    for name in ("Ana", "Bo"):
        send_ai(ai_world, first_name=name)
    dispatch(ai_world)
    sam = Person(ai_world.app, "sam@example.com")
    assert "Draw a sample of order-thanks v1" in sam.get("/signoffs").text
    assert (
        sam.post("/signoffs/batch", {"template": "order-thanks", "version": "1"}).status_code == 302
    )
    page = sam.get("/signoffs").text
    assert "Approve the rest of batch 1" in page and page.count('<a href="#item-') == 2
    refused = sam.post("/signoffs/batches/1/approve", {})
    assert refused.status_code == 409 and "one by one first" in refused.text


def test_an_admin_adds_a_person_whose_password_is_shown_once(
    app: Flask, people: dict[str, Person]
) -> None:
    root = people["root"]
    added = root.post("/admin/users", {"email": "new@example.com", "roles": "author"})
    assert added.status_code == 200 and 'id="secret"' in added.text
    assert added.headers["Cache-Control"] == "no-store"
    assert 'id="secret"' not in root.get("/admin/users").text
    refused = root.post("/admin/users", {"email": "not-an-email", "roles": "author"})
    assert refused.status_code == 422 and 'id="new-email-error"' in refused.text
    changed = root.post("/admin/users/new@example.com", {"roles": ["author", "reviewer"]})
    assert changed.status_code == 302
    assert root.post("/admin/users/new@example.com", {"action": "disable"}).status_code == 302
    assert people["ana"].get("/admin/users").status_code == 403


def test_an_admin_creates_an_api_key_shown_once_and_revokes_it(
    app: Flask, people: dict[str, Person]
) -> None:
    root = people["root"]
    created = root.post("/admin/keys", {"name": "backend-web", "scopes": ["send", "read"]})
    secret = re.search(r'<code id="secret">([^<]+)</code>', created.text)[1]  # type: ignore[index]
    assert secret.startswith("hcs_") and secret not in root.get("/admin/keys").text
    api = app.test_client().get("/api/v1/templates", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert root.post("/admin/keys/backend-web/revoke").status_code == 302
    api = app.test_client().get("/api/v1/templates", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    assert 'id="key-scopes-error"' in root.post("/admin/keys", {"name": "none"}).text
    assert people["lee"].get("/admin/policies").status_code == 200
    assert people["lee"].post("/admin/keys", {"name": "x", "scopes": "read"}).status_code == 403


def test_an_archived_email_is_shown_rendered_in_a_sandboxed_frame(ai_world: World) -> None:
    published(ai_world)
    assert ai_world.as_("system").post("/messages", ORDER).status_code == 202
    services = ai_world.app.extensions["hcs"]
    build_worker(services.settings, services.sessions).run_once()
    aud = Person(ai_world.app, "aud@example.com")
    listing = aud.get("/archive?channel=email").text
    entry_path = re.search(r'href="(/archive/\d+)"', listing)[1]  # type: ignore[index]
    assert f'src="{entry_path}/rendered"' in aud.get(entry_path).text
    frame = aud.get(f"{entry_path}/rendered")
    assert frame.status_code == 200 and "A-1001" in frame.text and "<" in frame.text
    assert frame.headers["Content-Security-Policy"].startswith("sandbox;")


def test_an_admin_changes_a_policy_and_a_bad_one_is_refused(
    app: Flask, people: dict[str, Person]
) -> None:
    root = people["root"]
    assert 'id="stages"' in root.get("/admin/policies/sensitive").text
    form = {
        "stages": "legal: reviewer\nbrand: reviewer",
        "review_days": "90",
        "check.image_alt": "error",
        "link_domains": "example.com",
    }
    assert root.post("/admin/policies/sensitive", form).status_code == 302
    page = people["lee"].get("/admin/policies").text
    assert "legal (reviewer) → brand (reviewer)" in page and "90 days" in page
    refused = root.post("/admin/policies/sensitive", form | {"review_days": "soon"})
    assert refused.status_code == 422 and 'id="review_days-error"' in refused.text
    assert people["lee"].get("/admin/policies/sensitive").status_code == 403


def test_an_admin_sees_each_channels_provider_and_its_recent_outcomes(
    ai_world: World,
) -> None:
    published(ai_world)
    assert ai_world.as_("system").post("/messages", ORDER).status_code == 202
    dispatch(ai_world)
    root = Person(ai_world.app, "root@example.com")
    page = root.get("/admin/providers").text
    row = re.search(r"<tr><td>email</td>(.*?)</tr>", page, re.S)
    assert row and "outbox" in row[1] and "sent: 1" in row[1]
    assert Person(ai_world.app, "lee@example.com").get("/admin/providers").status_code == 403


def test_an_author_reviewer_who_rewrites_a_draft_on_the_pages_cannot_approve_it(
    app: Flask, people: dict[str, Person]
) -> None:
    make_draft(app, "rewritten")  # ana's draft
    max_ = people["max"]
    saved = max_.post(
        "/templates/rewritten/versions/1/edit",
        _form("Pay {{ order_id }} at evil.example") | {"action": "submit"},
    )
    assert saved.status_code == 302
    page = max_.get("/templates/rewritten/versions/1")
    assert "max@example.com" in page.text and "Contributors" in page.text
    answer = max_.post("/templates/rewritten/versions/1/approve", {"comment": "fine"})
    assert answer.status_code == 403 and 'id="refusal"' in answer.text
    assert "SeparationOfDuties" in answer.text
    assert _stored(app, "rewritten", 1)[0] == "in_review"


def test_the_review_page_posts_the_closure_hash_it_showed(
    app: Flask, people: dict[str, Person]
) -> None:
    make_draft(app, "hashed")
    people["ana"].post(
        "/templates/hashed/versions/1/edit", _form("Hi {{ order_id }}") | {"action": "submit"}
    )
    page = people["lee"].get("/templates/hashed/versions/1").text
    shown = re.search(r'name="closure_hash" value="(sha256:[0-9a-f]{64})"', page)
    assert shown and shown[1] in page.split('id="closure-hash"')[1][:200]
    stale = {"comment": "ok", "closure_hash": "sha256:" + "0" * 64}
    answer = people["lee"].post("/templates/hashed/versions/1/approve", stale)
    assert answer.status_code == 409 and 'id="refusal"' in answer.text
    assert _stored(app, "hashed", 1)[0] == "in_review"
    fine = {"comment": "ok", "closure_hash": shown[1]}
    assert people["lee"].post("/templates/hashed/versions/1/approve", fine).status_code == 302
    assert _stored(app, "hashed", 1)[0] == "approved"


def _session_cookie(answer: object) -> list[str]:
    headers = answer.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    return [value for value in headers if value.startswith("session=")]


def test_a_preview_answering_after_a_save_does_not_drop_its_saved_message(app: Flask) -> None:
    # The live preview posts as the author types; one in flight when Save is pressed carries
    # the cookie from before the save and answers after it. The browser keeps one cookie jar:
    # had the preview's answer set the cookie again, "Saved." (kept in it) would be lost.
    number = make_draft(app, "flash-race")
    path = f"/templates/flash-race/versions/{number}/edit"
    ana = Person(app, "ana@example.com")
    before = ana.client.get_cookie("session")
    assert before is not None
    in_flight = app.test_client()
    in_flight.set_cookie("session", before.value)
    assert ana.post(path, _form("Now {{ order_id }}!") | {"action": "save"}).status_code == 302
    preview = in_flight.post(
        f"/templates/flash-race/versions/{number}/preview",
        data=_form("Now {{ order_id }}!!"),
        headers={"X-CSRFToken": ana.token},
    )
    assert preview.status_code == 200
    late = in_flight.get_cookie("session")
    if _session_cookie(preview) and late is not None:
        ana.client.set_cookie("session", late.value)  # one jar: the last answer's cookie wins
    assert "Saved." in ana.get(path).text


def test_a_session_in_use_is_renewed_but_not_on_every_request(app: Flask) -> None:
    ana = Person(app, "ana@example.com")
    assert not _session_cookie(ana.get("/templates"))  # renewed a moment ago: left as it is
    with ana.client.session_transaction() as session:
        session["_seen"] = int(time.time()) - 3600  # last renewed an hour ago
    renewed = _session_cookie(ana.get("/templates"))
    assert renewed and "Expires=" in renewed[0]
    expires = parsedate_to_datetime(renewed[0].split("Expires=")[1].split(";")[0])
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    assert abs(expires - (datetime.now(UTC) + lifetime)) < timedelta(minutes=1)
    assert not _session_cookie(ana.get("/templates"))


def test_a_rotated_secret_key_keeps_sessions_signed_with_a_fallback_and_ends_the_rest(
    app: Flask,
) -> None:
    ana = Person(app, "ana@example.com")
    assert ana.get("/templates").status_code == 200
    old = app.secret_key
    try:
        app.secret_key = "rotated"
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        assert ana.get("/templates").status_code == 200  # signed with the old key: still in
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert ana.get("/templates").status_code == 302  # the old key is gone: signed out
    finally:
        app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = []
