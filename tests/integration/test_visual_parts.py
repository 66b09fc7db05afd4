"""A visual email part is the governed source: stored in the version, compiled on save, covered
by the closure hash and the diff, checked before submission, and round-tripped through files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hcs.governance.checks import run_checks
from hcs.governance.policies import policy_for
from templates_store import versioning
from templates_store.closure import pin_closure
from templates_store.composing import preview_extras, render_channel
from templates_store.diffing import diff_versions
from templates_store.errors import ValidationFailed
from templates_store.exporting import folder_files
from templates_store.files import export_all, import_all
from templates_store.folders import Item
from templates_store.lookup import get_template
from tests.support.factories import ORDER_SAMPLE, ORDER_VARIABLES, make_block, make_template

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "blocks": [
        {"type": "heading", "text": [{"text": "Hello "}, {"var": "first_name"}]},
        {
            "type": "columns",
            "left": [{"type": "paragraph", "text": [{"text": "Order "}, {"var": "order_id"}]}],
            "right": [
                {"type": "button", "label": [{"text": "See it"}], "url": "https://shop.example/"}
            ],
        },
        {
            "type": "if",
            "variable": "first_name",
            "blocks": [{"type": "paragraph", "text": [{"text": "Thanks, {{ not code }}"}]}],
        },
        {"type": "content", "key": "unsubscribe"},
    ],
}


def visual_parts(document: dict[str, Any] = DOCUMENT, **fields: Any) -> dict[str, Any]:
    return {"email": {"en": {"subject": "Order {{ order_id }}", "blocks": document, **fields}}}


def visual_draft(session: Session, **content: Any) -> Any:
    make_block(
        session,
        "unsubscribe",
        html={"en": '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'},
        text={"en": "Unsubscribe: {{ unsubscribe_url }}"},
    )
    make_template(session, key="spring-sale", category="marketing", channels=["email"])
    body = {"parts": visual_parts(), "variables": ORDER_VARIABLES, "sample_data": ORDER_SAMPLE}
    return versioning.create_draft(
        session, "spring-sale", author="ana@example.com", content={**body, **content}
    )


def test_saving_a_visual_part_stores_the_document_and_compiles_html_and_text(
    session: Session,
) -> None:
    draft = visual_draft(session, parts=visual_parts(html="<p>typed by hand</p>", text="x"))
    part = draft.parts["email"]["en"]
    assert part["blocks"]["blocks"][0]["type"] == "heading"
    assert part["html"].startswith("<!doctype html>") and "typed by hand" not in part["html"]
    assert '{{ block("unsubscribe") }}' in part["html"] and "Hello {{ first_name }}" in part["text"]
    rendered = render_channel(
        session, draft, "email", "en", ORDER_SAMPLE, extra=preview_extras(draft), isolated=False
    )
    assert (
        "Hello Ana" in rendered.unmarked["html"]
        and "Thanks, {{ not code }}" in (rendered.unmarked["text"])
    )
    assert "https://unsubscribe.invalid/preview" in rendered.unmarked["html"]
    # the draft's watermark goes inside the styled body, so the doctype still comes first
    assert rendered.parts["html"].startswith("<!doctype html>")
    assert "DRAFT PREVIEW" in rendered.parts["html"].split("<body", 1)[1]


def test_a_bad_document_is_refused_naming_the_block_and_nothing_changes(session: Session) -> None:
    draft = visual_draft(session)
    before = json.dumps(draft.parts, sort_keys=True)
    bad = {"version": 1, "blocks": [{"type": "paragraph", "text": [{"var": "x }}{{ y"}]}]}
    with pytest.raises(ValidationFailed) as caught:
        versioning.update_draft(session, "spring-sale", draft.number, {"parts": visual_parts(bad)})
    assert "parts.email.en.blocks.blocks.0.text.0.var" in caught.value.errors
    assert json.dumps(draft.parts, sort_keys=True) == before


def test_a_visual_marketing_email_passes_the_checks_before_submission(session: Session) -> None:
    draft = visual_draft(session)
    policy = policy_for(session, "marketing")
    findings = run_checks(session, draft, policy)
    assert not [f for f in findings if f.severity == "error"], findings
    versioning.submit(session, "spring-sale", draft.number)


def test_the_closure_hash_and_the_diff_cover_the_document(session: Session) -> None:
    first = visual_draft(session)
    _, first_hash = pin_closure(session, first)
    changed = json.loads(json.dumps(DOCUMENT))
    changed["blocks"][0]["text"][0]["text"] = "Hi "
    second = versioning.create_draft(
        session, "spring-sale", author="ana@example.com", content={"parts": visual_parts(changed)}
    )
    assert pin_closure(session, second)[1] != first_hash
    diffs = {d.part: d for d in diff_versions(first, second)}
    assert diffs["email.blocks.en"].change == "modified"
    assert '"Hi "' in diffs["email.blocks.en"].unified


def test_the_document_round_trips_through_files(session: Session, tmp_path: Path) -> None:
    draft = visual_draft(session)
    files = folder_files(session, Item("template", "spring-sale", drafts=True))
    assert json.loads(files["email.blocks.en.json"]) == draft.parts["email"]["en"]["blocks"]
    export_all(session, tmp_path, drafts=True)  # a draft: exported when asked for
    assert import_all(session, tmp_path, author="ci@example.com").drafts == []
    edited = json.loads((tmp_path / "spring-sale" / "email.blocks.en.json").read_text("utf-8"))
    edited["blocks"].insert(0, {"type": "divider"})
    (tmp_path / "spring-sale" / "email.blocks.en.json").write_text(json.dumps(edited), "utf-8")
    report = import_all(session, tmp_path, author="ci@example.com")
    assert report.drafts == ["spring-sale v2"]
    imported = get_template(session, "spring-sale").versions[-1].parts["email"]["en"]
    assert imported["blocks"]["blocks"][0] == {"type": "divider"}
    assert imported["html"].count("border-top:1px solid") == 1


def test_an_unreadable_document_file_is_refused_by_name(session: Session, tmp_path: Path) -> None:
    visual_draft(session)
    export_all(session, tmp_path, drafts=True)  # a draft: exported when asked for
    (tmp_path / "spring-sale" / "email.blocks.en.json").write_text("{not json", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert "spring-sale/email.blocks.en.json" in caught.value.errors


def test_a_repeated_section_must_go_over_a_declared_list(session: Session) -> None:
    repeat = {
        "type": "repeat",
        "variable": "first_name",
        "blocks": [{"type": "paragraph", "text": [{"var": "item"}]}],
    }
    document = {**DOCUMENT, "blocks": [*DOCUMENT["blocks"], repeat]}
    draft = visual_draft(session, parts=visual_parts(document))
    with pytest.raises(ValidationFailed) as caught:
        versioning.submit(session, "spring-sale", draft.number)
    where = "parts.email.en.blocks.blocks.4.variable"
    assert caught.value.errors == {where: ["'first_name' is not a list variable"]}


def test_an_html_file_beside_a_design_is_refused_not_lost(session: Session, tmp_path: Path) -> None:
    visual_draft(session)
    export_all(session, tmp_path, drafts=True)  # a draft: exported when asked for
    folder = tmp_path / "spring-sale"
    assert not (folder / "email.html.en.j2").exists()  # compiled from the design on import
    (folder / "email.html.en.j2").write_text("<p>Howdy {{ first_name }}</p>", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert "email.blocks.en.json" in caught.value.errors["spring-sale/email.html.en.j2"][0]
    (folder / "email.blocks.en.json").unlink()  # now the HTML is the source
    assert import_all(session, tmp_path, author="ci@example.com").drafts == ["spring-sale v2"]
    part = get_template(session, "spring-sale").versions[-1].parts["email"]["en"]
    assert "blocks" not in part and "Howdy" in part["html"]
