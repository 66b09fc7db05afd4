"""Templates as files in the browser: export a zip (one template or all), import one as drafts.

Small ones happen in the request; more folders than `jobs_inline_limit` run as a job whose
progress the page shows. Either way the work is the CLI's: `hcs.governance.transfers` over
`templates_store.files`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from hcs import jobs
from hcs.governance import transfers
from hcs.http.auth import allow
from hcs.http.extensions import db_session, services
from hcs.http.web.pages import bp
from hcs.http.web.pages.guard import person
from hcs.http.web.pages.jobs import draft_url, launch
from templates_store.errors import ValidationFailed
from templates_store.exporting import export_items
from templates_store.folders import items_in
from templates_store.orm import utcnow


def _zip_name(key: str) -> str:
    return f"{key}.zip" if key else f"hcs-templates-{utcnow():%Y%m%d-%H%M%S}.zip"


@bp.post("/templates/export")
@allow("read")
def export_templates() -> ResponseReturnValue:
    """The files `hcs templates export` writes, zipped: all, or template `key` with what it uses."""
    session, key = db_session(), request.form.get("key", "").strip()
    items = export_items(session, key or None, drafts=request.form.get("drafts") == "on")
    what, name = key or "all", _zip_name(key)
    if len(items) > services().settings.jobs_inline_limit:
        title = f"Export of {key}" if key else "Export of every template"
        job = jobs.start_job(
            session, kind="export", owner=person().email, title=title, total=len(items)
        )
        session.commit()
        return launch(job.id, transfers.export_work(items, what, name, actor=person().email))
    data = transfers.pack(transfers.files_of(session, items))
    transfers.record_export(session, person().email, what, len(items))
    session.commit()
    return Response(
        data,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/templates/import")
@allow("templates", "author")
def import_form() -> ResponseReturnValue:
    """The form to upload a zip of template files."""
    return _page()


def _page(
    errors: dict[str, list[str]] | None = None,
    report: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "pages/import.html", errors=errors or {}, report=report, draft_url=draft_url
    ), status


def _unpacked(data: bytes) -> tuple[Path, Path, int]:
    """The zip unpacked into a new folder: the tree's root, the folder, how many items it has.

    A bad zip raises ValidationFailed and leaves no folder behind.
    """
    folder = Path(tempfile.mkdtemp(prefix="hcs-import-"))
    try:
        root = transfers.unpack(data, folder)
        count = len(items_in(root))
        if not count:
            raise ValidationFailed({"file": ["holds no template, block or theme folder"]})
    except ValidationFailed:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return root, folder, count


@bp.post("/templates/import")
@allow("templates", "author")
def import_templates() -> ResponseReturnValue:
    """Import the uploaded zip: every changed folder becomes a draft; a bad file, nothing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page({"file": ["choose a zip file to import"]}, status=422)
    session, who = db_session(), person().email
    try:
        root, folder, count = _unpacked(upload.read())
    except ValidationFailed as exc:
        return _page(exc.errors, status=422)
    if count > services().settings.jobs_inline_limit:  # the job removes the folder when done
        title = f"Import of {upload.filename}"
        job = jobs.start_job(session, kind="import", owner=who, title=title, total=count)
        session.commit()
        return launch(job.id, transfers.import_work(root, folder, actor=who))
    try:
        report = transfers.import_tree(session, root, actor=who)
    except ValidationFailed as exc:
        session.rollback()
        return _page(exc.errors, status=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    session.commit()
    return _page(report=asdict(report))
