"""Templates as files in the browser: export a zip, import one as drafts; jobs for large ones."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from hcs import jobs
from hcs.audit import AuditEntry
from hcs.cli.seeding import load_demo
from hcs.infrastructure.db import transaction
from templates_store.exporting import export_all
from templates_store.lookup import get_template
from templates_store.models import Template
from templates_store.orm import utcnow
from tests.support.web import Person
from tests.support.world import World

BROKEN = "Order {{ order_id "


@pytest.fixture(scope="module")
def app(module_world: World) -> Iterator[Flask]:
    app = module_world.app
    with transaction(app.extensions["hcs"].sessions) as session:
        load_demo(session)
    yield app
    app.extensions["hcs.jobs"].wait(30)


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Person]:
    return {name: Person(app, f"{name}@example.com") for name in ("ana", "lee", "aud")}


@pytest.fixture
def jobs_over(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """More than one folder runs as a job."""
    services = app.extensions["hcs"]
    monkeypatch.setattr(services, "settings", replace(services.settings, jobs_inline_limit=1))
    yield
    assert app.extensions["hcs.jobs"].wait(30)


def _unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zipped(files: dict[str, bytes | str]) -> tuple[io.BytesIO, str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer, "templates.zip"


def _template(key: str, body: str) -> dict[str, bytes | str]:
    manifest = f"key: {key}\nname: {key}\ncategory: transactional\nchannels: [sms]\n"
    return {f"{key}/template.yaml": manifest, f"{key}/sms.body.en.txt": body}


def _exported(app: Flask) -> dict[str, bytes]:
    """What `hcs templates export DIR` writes, read back from DIR."""
    folder = Path(tempfile.mkdtemp(prefix="cli-export-"))
    with transaction(app.extensions["hcs"].sessions) as session:
        export_all(session, folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _keys(app: Flask) -> set[str]:
    with transaction(app.extensions["hcs"].sessions) as session:
        return set(session.scalars(select(Template.key)))


def _job_path(answer: object) -> str:
    location = answer.headers["Location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/jobs/\d+", location), location
    return str(location)


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [("lee", "get", "/templates/import"), ("aud", "post", "/templates/import")],
)
def test_importing_needs_the_author_role(
    people: dict[str, Person], who: str, method: str, path: str
) -> None:
    person = people[who]
    answer = person.get(path) if method == "get" else person.post(path, {})
    assert answer.status_code == 403 and 'id="page-error"' in answer.text


def test_an_export_or_import_without_its_csrf_token_is_refused(people: dict[str, Person]) -> None:
    assert people["aud"].post("/templates/export", csrf=False).status_code == 400
    upload = _zipped(_template("forged-import", "Hi"))
    refused = people["ana"].post("/templates/import", {"file": upload}, csrf=False)
    assert refused.status_code == 400 and "Form refused" in refused.text


def test_the_export_is_the_zip_of_what_the_cli_writes(
    app: Flask, people: dict[str, Person]
) -> None:
    answer = people["aud"].post("/templates/export")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="hcs-templates-\d{8}-\d{6}\.zip"',
        answer.headers["Content-Disposition"],
    )
    assert _unzipped(answer.data) == _exported(app)
    assert people["aud"].post("/templates/export").data == answer.data  # same bytes again
    with transaction(app.extensions["hcs"].sessions) as session:
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "templates.export"))
        assert ("aud@example.com", "all") in {(e.actor, e.target) for e in logged}


def test_one_template_exports_with_its_theme_and_the_blocks_it_includes(
    people: dict[str, Person],
) -> None:
    answer = people["lee"].post("/templates/export", {"key": "order-confirmation"})
    assert answer.headers["Content-Disposition"] == 'attachment; filename="order-confirmation.zip"'
    folders = {name.rsplit("/", 1)[0] for name in _unzipped(answer.data)}
    assert folders == {
        "_themes/default",
        "_themes/default/assets",
        "_blocks/footer",
        "order-confirmation",
    }
    assert people["lee"].post("/templates/export", {"key": "no-such"}).status_code == 404


def test_an_imported_zip_becomes_drafts_listed_with_links(
    app: Flask, people: dict[str, Person]
) -> None:
    files: dict[str, bytes | str] = dict(_exported(app))
    files["order-confirmation/sms.body.en.txt"] = "Northwind: order {{ order_id }} is on its way."
    files.update(_template("imported-new", "Hello from the import."))
    answer = people["ana"].post("/templates/import", {"file": _zipped(files)})
    assert answer.status_code == 200 and 'id="import-result"' in answer.text
    assert 'href="/templates/order-confirmation/versions/2/edit">order-confirmation v2</a>' in (
        answer.text
    )
    assert "imported-new v1" in answer.text and "2 drafts created" in answer.text
    with transaction(app.extensions["hcs"].sessions) as session:
        draft = get_template(session, "order-confirmation").versions[-1]
        assert (draft.number, draft.status.value, draft.author) == (2, "draft", "ana@example.com")
        logged = session.scalars(select(AuditEntry).where(AuditEntry.actor == "ana@example.com"))
        actions = {(e.action, e.target) for e in logged}
    assert {("template.draft", "order-confirmation v2"), ("template.create", "imported-new")} <= (
        actions
    )


def test_an_import_with_a_bad_file_names_it_and_imports_nothing(
    app: Flask, people: dict[str, Person]
) -> None:
    files = _template("good-before-bad", "Fine.") | _template("bad-one", BROKEN)
    files["bad-one/notes.md"] = "stray"
    answer = people["ana"].post("/templates/import", {"file": _zipped(files)})
    assert answer.status_code == 422 and 'id="import-errors"' in answer.text
    assert 'aria-invalid="true" aria-describedby="import-errors"' in answer.text  # the file field
    assert "Nothing was imported: 2 problems" in answer.text
    assert "<strong>bad-one/sms.body.en.txt</strong>" in answer.text
    assert "<strong>bad-one/notes.md</strong>" in answer.text
    assert not {"good-before-bad", "bad-one"} & _keys(app)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((io.BytesIO(b"not a zip at all"), "t.zip"), "is not a zip file"),
        (_zipped({"../escape/template.yaml": "key: escape"}), "outside the zip"),
        (_zipped({"readme.txt": "nothing here"}), "holds no template, block or theme"),
    ],
)
def test_an_upload_that_is_no_export_is_refused(
    people: dict[str, Person], upload: tuple[io.BytesIO, str], message: str
) -> None:
    answer = people["ana"].post("/templates/import", {"file": upload})
    assert answer.status_code == 422 and message in answer.text


def test_a_zip_of_the_export_folder_imports_too(app: Flask, people: dict[str, Person]) -> None:
    files = {f"export/{name}": data for name, data in _template("in-a-folder", "Hi.").items()}
    answer = people["ana"].post("/templates/import", {"file": _zipped(files)})
    assert answer.status_code == 200 and "in-a-folder v1" in answer.text


def test_a_large_import_runs_as_a_job_and_shows_its_drafts(
    app: Flask, people: dict[str, Person], jobs_over: None
) -> None:
    files = _template("job-one", "One.") | _template("job-two", "Two.")
    started = people["ana"].post("/templates/import", {"file": _zipped(files)})
    path = _job_path(started)
    page = people["ana"].get(path)
    assert page.status_code == 200 and "Import of templates.zip" in page.text
    assert app.extensions["hcs.jobs"].wait(30)
    done = people["ana"].get(f"{path}/progress")
    assert done.headers["Cache-Control"] == "no-store"
    assert 'data-status="succeeded"' in done.text and "hx-trigger" not in done.text
    assert 'href="/templates/job-one/versions/1/edit"' in done.text
    assert {"job-one", "job-two"} <= _keys(app)
    for other in ("lee", "aud"):
        assert people[other].get(path).status_code == 404
        assert people[other].get(f"{path}/progress").status_code == 404


def test_a_large_import_with_a_bad_file_fails_and_imports_nothing(
    app: Flask, people: dict[str, Person], jobs_over: None
) -> None:
    files = _template("job-good", "Fine.") | _template("job-bad", BROKEN)
    path = _job_path(people["ana"].post("/templates/import", {"file": _zipped(files)}))
    assert app.extensions["hcs.jobs"].wait(30)
    failed = people["ana"].get(path)
    assert 'data-status="failed"' in failed.text and 'id="job-error"' in failed.text
    assert "<strong>job-bad/sms.body.en.txt</strong>" in failed.text
    assert "Nothing was imported" in failed.text
    assert not {"job-good", "job-bad"} & _keys(app)


def test_a_large_export_runs_as_a_job_whose_zip_only_its_owner_downloads(
    app: Flask, people: dict[str, Person], jobs_over: None
) -> None:
    path = _job_path(people["aud"].post("/templates/export"))
    assert app.extensions["hcs.jobs"].wait(30)
    page = people["aud"].get(path)
    assert f'href="{path}/download"' in page.text and "The export is ready" in page.text
    download = people["aud"].get(f"{path}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert _unzipped(download.data) == _exported(app)
    assert people["lee"].get(f"{path}/download").status_code == 404


def _job(app: Flask, **done: object) -> int:
    with transaction(app.extensions["hcs"].sessions) as session:
        job = jobs.start_job(
            session, kind="export", owner="ana@example.com", title="Export of all", total=40
        )
        for name, value in done.items():
            setattr(job, name, value)
        return job.id


def test_the_progress_panel_shows_each_state_of_a_job(
    app: Flask, people: dict[str, Person]
) -> None:
    ana = people["ana"]
    queued = ana.get(f"/jobs/{_job(app)}/progress").text
    assert 'hx-trigger="every 500ms"' in queued and 'value="0"' in queued
    running_id = _job(app, status="running", done=10, step="Reading versions")
    running = ana.get(f"/jobs/{running_id}/progress").text
    assert f'hx-get="/jobs/{running_id}/progress"' in running
    assert "Reading versions: 10 of 40 (25%)" in running
    assert '<progress id="job-progress" max="40" value="10">' in running
    assert '<label for="job-progress"' in running
    failed = ana.get(f"/jobs/{_job(app, status='failed', error='the disk is full')}").text
    assert "The job failed: the disk is full" in failed and "hx-trigger" not in failed
    stalled_at = utcnow() - jobs.STALLED_AFTER * 2
    stalled = ana.get(f"/jobs/{_job(app, status='running', updated_at=stalled_at)}/progress")
    assert "stopped answering" in stalled.text and "hx-trigger" not in stalled.text
    result = {"folders": 40, "files": 90, "bytes": 3}
    finished_id = _job(app, status="succeeded", result=result, output=b"zip", output_name="a.zip")
    finished = ana.get(f"/jobs/{finished_id}/progress").text
    assert 'id="job-done"' in finished and f'href="/jobs/{finished_id}/download"' in finished
    assert ana.get(f"/jobs/{running_id}/download").status_code == 404
