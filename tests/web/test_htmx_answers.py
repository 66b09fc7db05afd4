"""What htmx requests (a job's progress, the live preview) get when they may not go on.

htmx swaps an answer into part of the page: a sign-in page must not land there, so a request
that needs one answers with `HX-Redirect`, which htmx follows with the whole page; a refusal is
a short message that site.js shows, since htmx swaps no 4xx.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Flask

from hcs import jobs
from hcs.infrastructure.db import transaction
from tests.support.web import Person, make_draft

HTMX = {"HX-Request": "true"}


def _job(app: Flask, owner: str = "ana@example.com") -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        return jobs.start_job(session, kind="export", owner=owner, title="Export", total=9).id


def _sent_to_sign_in(answer: object) -> str:
    """The page the sign-in form returns to, from an htmx answer that needs a sign-in."""
    assert answer.status_code == 401, answer.status_code  # type: ignore[attr-defined]
    assert answer.data == b""  # type: ignore[attr-defined]  # no sign-in page to swap in
    target = urlsplit(answer.headers["HX-Redirect"])  # type: ignore[attr-defined]
    assert target.path == "/login" and "Location" not in answer.headers  # type: ignore[attr-defined]
    return parse_qs(target.query)["next"][0]


def test_a_poll_without_a_session_is_sent_to_sign_in_and_back_to_its_page(app: Flask) -> None:
    job_id = _job(app)
    visitor = app.test_client()
    shown = {"HX-Current-URL": f"http://localhost/jobs/{job_id}"}
    answer = visitor.get(f"/jobs/{job_id}/progress", headers=HTMX | shown)
    assert _sent_to_sign_in(answer) == f"/jobs/{job_id}"
    elsewhere = {"HX-Current-URL": "http://evil.example/phish"}
    answer = visitor.get(f"/jobs/{job_id}/progress", headers=HTMX | elsewhere)
    assert _sent_to_sign_in(answer) == f"/jobs/{job_id}/progress"
    plain = visitor.get(f"/jobs/{job_id}/progress")  # not htmx: the usual redirect
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/login?next=")


def test_the_live_preview_after_signing_out_is_sent_to_sign_in(app: Flask) -> None:
    number = make_draft(app, "signed-out-preview")
    ana = Person(app, "ana@example.com")
    editor = f"/templates/signed-out-preview/versions/{number}/edit"
    preview = f"/templates/signed-out-preview/versions/{number}/preview"
    headers = HTMX | {"X-CSRFToken": ana.token, "HX-Current-URL": f"http://localhost{editor}"}
    form = {"parts.sms.en.body": "Hi"}
    assert ana.client.post(preview, data=form, headers=headers).status_code == 200
    assert ana.client.post("/logout", data={"csrf_token": ana.token}).status_code == 302
    # Signing out cleared the session and its CSRF token: the refusal is the sign-in, not a 400.
    answer = ana.client.post(preview, data=form, headers=headers)
    assert _sent_to_sign_in(answer) == editor


def test_an_htmx_request_without_the_role_gets_a_403_message_alone(app: Flask) -> None:
    number = make_draft(app, "htmx-refused")
    lee = Person(app, "lee@example.com")
    preview = f"/templates/htmx-refused/versions/{number}/preview"
    headers = HTMX | {"X-CSRFToken": lee.token}
    answer = lee.client.post(preview, data={"parts.sms.en.body": "Hi"}, headers=headers)
    assert answer.status_code == 403 and "HX-Redirect" not in answer.headers
    assert answer.text.strip() == (
        '<p class="error" id="page-error">Not allowed: This page needs author.</p>'
    )
    page = lee.client.post(
        preview, data={"parts.sms.en.body": "Hi"}, headers={"X-CSRFToken": lee.token}
    )
    assert page.status_code == 403 and "<html" in page.text  # without htmx, the whole page


def test_an_htmx_poll_of_someone_elses_job_gets_a_404_message_alone(app: Flask) -> None:
    job_id = _job(app, owner="ana@example.com")
    answer = Person(app, "aud@example.com").client.get(f"/jobs/{job_id}/progress", headers=HTMX)
    assert answer.status_code == 404 and "<html" not in answer.text
    assert f"Not found: no job {job_id} of yours" in answer.text


def test_every_page_has_a_hidden_alert_for_refused_htmx_requests(app: Flask) -> None:
    page = Person(app, "ana@example.com").get(f"/jobs/{_job(app)}")
    assert '<div id="request-error" class="error" role="alert" hidden></div>' in page.text
