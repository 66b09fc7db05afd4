"""Templates as files: export, import as drafts, and identical round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.cli.seeding import demo_directory, load_demo
from templates_store import versioning
from templates_store.errors import ValidationFailed
from templates_store.exporting import export_items, folder_files
from templates_store.files import check_folder, export_all, import_all, read_folder
from templates_store.folders import items_in
from templates_store.lookup import get_template
from templates_store.models import Template
from templates_store.status import Status


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_demo_set_goes_through_review_and_is_published(session: Session) -> None:
    loaded = load_demo(session)
    assert {
        "order-confirmation v1",
        "appointment-reminder v1",
        "payment-due v1",
        "password-reset v1",
    } <= set(loaded)
    for key in ("order-confirmation", "appointment-reminder", "payment-due", "password-reset"):
        version = get_template(session, key).versions[-1]
        assert version.status is Status.PUBLISHED and version.closure_hash
    assert get_template(session, "password-reset").category == "sensitive"
    newsletter = get_template(session, "spring-newsletter").versions[-1]  # a visual design
    assert newsletter.status is Status.PUBLISHED and "blocks" in newsletter.parts["email"]["en"]


def test_export_writes_one_file_per_part_and_a_manifest(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    files = set(_tree(tmp_path / "payment-due"))
    assert {
        "template.yaml",
        "email.subject.en.txt",
        "email.html.fr.j2",
        "letter.html.en.j2",
        "letter.css.fr.css",
    } <= files
    assert (tmp_path / "_themes/default/assets/logo.svg").read_bytes() == (
        demo_directory() / "_themes/default/assets/logo.svg"
    ).read_bytes()


def test_reimporting_an_unchanged_export_creates_nothing(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    report = import_all(session, tmp_path, author="ci@example.com")
    assert report.drafts == [] and len(report.unchanged) == 11


def test_an_edited_file_imports_as_a_new_draft(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    sms = tmp_path / "order-confirmation" / "sms.body.en.txt"
    sms.write_text("Northwind: order {{ order_id }} is confirmed.", encoding="utf-8")
    report = import_all(session, tmp_path, author="ci@example.com")
    assert report.drafts == ["order-confirmation v2"]
    version = get_template(session, "order-confirmation").versions[-1]
    assert version.status is Status.DRAFT and version.author == "ci@example.com"
    assert version.parts["sms"]["en"]["body"] == "Northwind: order {{ order_id }} is confirmed."


def test_a_broken_file_is_refused_by_name(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    (tmp_path / "order-confirmation" / "sms.body.en.txt").write_text("{{ order_id ", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert "order-confirmation/sms.body.en.txt" in caught.value.errors


def test_an_import_names_every_bad_file_and_keeps_nothing(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    (tmp_path / "order-confirmation" / "sms.body.en.txt").write_text("{{ order_id ", "utf-8")
    (tmp_path / "payment-due" / "letter.html.en.j2").write_bytes(b"\xff\xfe not text")
    (tmp_path / "payment-due" / "notes.md").write_text("a stray file", "utf-8")
    (tmp_path / "_blocks" / "footer" / "html.en.j2").write_text("{% if %}", "utf-8")
    fresh = tmp_path / "brand-new"
    fresh.mkdir()
    (fresh / "template.yaml").write_text(
        "key: brand-new\nname: New\ncategory: transactional\nchannels: [sms]\n", "utf-8"
    )
    (fresh / "sms.body.en.txt").write_text("Fine.", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert set(caught.value.errors) == {
        "order-confirmation/sms.body.en.txt",
        "payment-due/letter.html.en.j2",
        "payment-due/notes.md",
        "_blocks/footer/html.en.j2",
    }
    assert "is not UTF-8 text" in caught.value.errors["payment-due/letter.html.en.j2"][0]
    session.rollback()
    assert session.scalar(select(Template.id).where(Template.key == "brand-new")) is None


def test_a_theme_asset_outside_its_folder_is_refused(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    manifest = tmp_path / "_themes" / "default" / "theme.yaml"
    manifest.write_text(
        manifest.read_text("utf-8").replace("logo.svg:", "../../../secret.txt:"), "utf-8"
    )
    (tmp_path / "secret.txt").write_text("not for a theme", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert list(caught.value.errors) == ["_themes/default/assets/../../../secret.txt"]


def test_a_new_template_is_reported_created(session: Session, tmp_path: Path) -> None:
    fresh = tmp_path / "brand-new"
    fresh.mkdir()
    (fresh / "template.yaml").write_text(
        "key: brand-new\nname: New\ncategory: transactional\nchannels: [sms]\n", "utf-8"
    )
    (fresh / "sms.body.en.txt").write_text("Fine.", "utf-8")
    report = import_all(session, tmp_path, author="ci@example.com")
    assert report.created == ["brand-new"] and report.drafts == ["brand-new v1"]


def test_the_checks_without_a_database_name_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "template.yaml").write_text("key: broken\nvariables: {}\n", "utf-8")
    (folder / "sms.body.en.txt").write_text("{{ x ", "utf-8")
    [item] = items_in(tmp_path)
    with pytest.raises(ValidationFailed) as caught:
        check_folder(read_folder(tmp_path, item))
    assert list(caught.value.errors) == ["broken/sms.body.en.txt"]


def test_one_template_exports_with_its_theme_and_the_blocks_it_includes(
    session: Session,
) -> None:
    load_demo(session)
    folders = [item.folder for item in export_items(session, "order-confirmation")]
    assert folders == ["_themes/default", "_blocks/footer", "order-confirmation"]
    files = folder_files(session, export_items(session, "order-confirmation")[-1])
    body = get_template(session, "order-confirmation").versions[-1].parts["sms"]["en"]["body"]
    assert files["sms.body.en.txt"] == body.encode()
    assert "email.html.en.j2" in files and "template.yaml" in files


def test_export_writes_the_newest_approved_or_published_version_unless_drafts_are_asked_for(
    session: Session, tmp_path: Path
) -> None:
    load_demo(session)
    newer = versioning.create_draft(session, "order-confirmation", author="ana@example.com")
    sms = {"sms": {"en": {"body": "Work in progress {{ order_id }}"}}}
    versioning.update_draft(session, "order-confirmation", newer.number, {"parts": sms})
    export_all(session, tmp_path / "default")
    body = (tmp_path / "default" / "order-confirmation" / "sms.body.en.txt").read_text()
    assert "Work in progress" not in body  # the published version, not the draft
    export_all(session, tmp_path / "all", drafts=True)
    body = (tmp_path / "all" / "order-confirmation" / "sms.body.en.txt").read_text()
    assert body == "Work in progress {{ order_id }}"
