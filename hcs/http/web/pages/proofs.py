"""Send a test: the version, on one channel and locale, to the signed-in person themself."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from hcs.dispatch.proofs import send_test
from hcs.dispatch.providers import build_providers
from hcs.errors import NotFound, SendTestFailed, TemplateProblem, ValidationFailed
from hcs.http.auth import allow
from hcs.http.error_handlers import message_of
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person


@bp.post("/templates/<key>/versions/<int:number>/test")
@allow("templates", "author", "reviewer")
def test_send(key: str, number: int) -> ResponseReturnValue:
    """Send a test to oneself, then go back to the page it came from (editor or review)."""
    session, form = db_session(), request.form
    channel, _, locale = form.get("pair", "").partition("|")
    providers = build_providers(services().settings)
    try:
        done = send_test(
            session,
            (key, number),
            (channel, locale),
            providers,
            actor=person().email,
            sample=form.get("sample") or None,
        )
    except (ValidationFailed, SendTestFailed, NotFound, TemplateProblem) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, ValidationFailed) else {}
        text = "; ".join(f"{k}: {' '.join(v)}" for k, v in found.items()) or message_of(exc)
        flash(f"The test was not sent. {text}")
    else:
        session.commit()
        flash(
            f"A test of the {done.channel} ({done.locale}) was sent to you at {done.to} "
            f"through {done.provider}; it is marked as a test and is not a customer message."
        )
    back = "pages.edit" if form.get("back") == "edit" else "pages.review"
    return redirect(url_for(back, key=key, number=number), 303)
