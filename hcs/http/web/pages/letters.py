"""Letters in the editor's live preview and the preview grid, shown as the pages of their PDF."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from hcs.dispatch.letter_previews import LetterPages, preview_pages
from hcs.http.auth import allow
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.editor import FRAME_POLICY, changes_from
from hcs.previews.drafts import ChannelPreview, render_saved, render_unsaved


def letter_frame(pages: LetterPages, title: str, errors: object = None) -> Response:
    """A letter's pages as a document for a sandboxed frame, with the frame's own policy."""
    html = render_template("pages/_letter_frame.html", pages=pages, title=title, errors=errors)
    return Response(
        html, headers={"Content-Security-Policy": FRAME_POLICY, "Cache-Control": "no-store"}
    )


def _pages(shown: ChannelPreview) -> LetterPages:
    if shown.result is None:
        return LetterPages(problem=shown.problem)
    return preview_pages(db_session(), shown.result.rendered, services().settings)


@bp.post("/templates/<key>/versions/<int:number>/letter/<locale>")
@allow("templates", "author")
def draft_letter(key: str, number: int, locale: str) -> ResponseReturnValue:
    """The posted, unsaved letter as the pages of its PDF; nothing is kept."""
    changes, errors = changes_from(request.form)
    sample = request.form.get("preview_sample")
    shown = render_unsaved(db_session(), key, number, changes, ("letter", locale), sample)
    return letter_frame(_pages(shown), f"Letter preview, {locale}", errors)


@bp.get("/templates/<key>/versions/<int:number>/letter/<locale>")
@allow("read")
def saved_letter(key: str, number: int, locale: str) -> ResponseReturnValue:
    """A saved version's letter as the pages of its PDF, rendered with its sample data."""
    shown = render_saved(db_session(), key, number, "letter", locale)
    return letter_frame(_pages(shown), f"Letter preview, {locale}")
