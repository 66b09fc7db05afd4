"""Diffs between versions, and locales with fallback and stale translations."""

from __future__ import annotations

from sqlalchemy.orm import Session

from templates_store import versioning
from templates_store.composing import render_channel
from templates_store.diffing import diff_versions
from templates_store.parts import stale_translations
from tests.support.factories import ORDER_PARTS, ORDER_SAMPLE, make_draft, make_template


def _sms(en: str, **others: str) -> dict:
    return {
        **ORDER_PARTS,
        "sms": {"en": {"body": en}, **{k: {"body": v} for k, v in others.items()}},
    }


def test_the_diff_names_each_changed_part_with_a_unified_diff(session: Session) -> None:
    make_template(session)
    old = make_draft(session)
    new = make_draft(session, parts=_sms("Order {{ order_id }} has shipped."))
    changes = {d.part: d for d in diff_versions(old, new)}
    assert changes["sms.body.en"].change == "modified"
    assert changes["email.subject.en"].change == "unchanged"
    unified = changes["sms.body.en"].unified
    assert "-Order {{ order_id }} is confirmed." in unified
    assert "+Order {{ order_id }} has shipped." in unified
    assert unified.startswith("--- v1/sms.body.en")
    hunk = changes["sms.body.en"].hunks[0]
    assert hunk["op"] == "replace" and hunk["new_lines"] == ["Order {{ order_id }} has shipped."]


def test_the_diff_reports_added_and_removed_locales(session: Session) -> None:
    make_template(session)
    old = make_draft(session)
    new = make_draft(
        session, parts=_sms("Order {{ order_id }} is confirmed.", fr="Commande {{ order_id }}")
    )
    changes = {d.part: d.change for d in diff_versions(old, new)}
    assert changes["sms.body.fr"] == "added"
    assert {d.part: d.change for d in diff_versions(new, old)}["sms.body.fr"] == "removed"


def test_a_locale_falls_back_along_its_chain(session: Session) -> None:
    make_template(session)
    draft = make_draft(session, parts=_sms("Order {{ order_id }}", fr="Commande {{ order_id }}"))
    assert render_channel(session, draft, "sms", "fr-CA", ORDER_SAMPLE).locale == "fr"
    assert render_channel(session, draft, "sms", "de-DE", ORDER_SAMPLE).locale == "en"
    assert render_channel(session, draft, "sms", None, ORDER_SAMPLE).locale == "en"


def test_a_translation_goes_stale_when_its_source_changes(session: Session) -> None:
    template = make_template(session)
    draft = make_draft(session, parts=_sms("Order {{ order_id }}", fr="Commande {{ order_id }}"))
    assert stale_translations(draft.parts, draft.translation_sources, "en") == []
    versioning.update_draft(
        session,
        template.key,
        draft.number,
        {"parts": _sms("Order {{ order_id }} is ready", fr="Commande {{ order_id }}")},
    )
    assert stale_translations(draft.parts, draft.translation_sources, "en") == ["sms.fr"]
    versioning.update_draft(
        session,
        template.key,
        draft.number,
        {"parts": _sms("Order {{ order_id }} is ready", fr="Commande {{ order_id }} prête")},
    )
    assert stale_translations(draft.parts, draft.translation_sources, "en") == []


def test_staleness_carries_over_to_a_new_draft(session: Session) -> None:
    template = make_template(session)
    draft = make_draft(session, parts=_sms("Order {{ order_id }}", fr="Commande {{ order_id }}"))
    versioning.update_draft(
        session,
        template.key,
        draft.number,
        {"parts": _sms("Order {{ order_id }}!", fr="Commande {{ order_id }}")},
    )
    copy = versioning.create_draft(session, template.key, author="bo@example.com")
    assert stale_translations(copy.parts, copy.translation_sources, "en") == ["sms.fr"]


def test_dates_follow_the_requested_locale_when_its_text_falls_back_to_its_language(
    session: Session,
) -> None:
    make_template(session)
    body = "Due {{ due|date('long') }}, {{ total|number }}"
    draft = make_draft(session, parts=_sms(body, fr="Échéance {{ due|date('long') }}"))
    data = {**ORDER_SAMPLE, "due": "2026-12-13", "total": 1234.5}
    # en-GB has no text of its own: the English text, British dates.
    assert render_channel(session, draft, "sms", "en-GB", data).unmarked["body"] == (
        "Due 13 December 2026, 1,234.5"
    )
    assert render_channel(session, draft, "sms", "en", data).unmarked["body"] == (
        "Due December 13, 2026, 1,234.5"
    )
    # fr-CA formats as fr-CA; a German request gets the default English text in English formats.
    assert (
        render_channel(session, draft, "sms", "fr-CA", data)
        .unmarked["body"]
        .endswith("13 décembre 2026")
    )
    assert render_channel(session, draft, "sms", "de-DE", data).unmarked["body"] == (
        "Due December 13, 2026, 1,234.5"
    )
