"""Templates as files: export, import as drafts, and identical round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hcs.setup import demo_directory, load_demo
from templates_store.errors import ValidationFailed
from templates_store.files import export_all, import_all
from templates_store.lookup import get_template
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
    assert report.drafts == [] and len(report.unchanged) == 8


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
    assert "order-confirmation/parts.sms.body.en" in caught.value.errors
