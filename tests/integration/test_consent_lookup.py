"""Consent as acceptance and dispatch read it: one statement for any number of recipients."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hcs.messages.consent import BOUNCE_SOURCE, set_preference, suppression_reasons
from hcs.messages.erasure import erase_messages
from tests.support.statements import statements

ELI, ANA = "eli@example.com", "ana@example.com"


def test_an_erased_recipients_hard_bounce_still_suppresses_a_receipt(session: Session) -> None:
    set_preference(
        session, ELI, "email", "transactional", "opted_out", source=BOUNCE_SOURCE, actor="t"
    )
    erase_messages(session, ELI, actor="t")  # the opt-out is kept under a pseudonym
    refused = suppression_reasons(session, [ELI, ANA], "email", "transactional")
    assert set(refused) == {ELI} and BOUNCE_SOURCE in refused[ELI]


def test_an_erased_recipients_marketing_opt_out_is_kept(session: Session) -> None:
    set_preference(session, ELI, "email", "marketing", "opted_out", source="api", actor="t")
    erase_messages(session, ELI, actor="t")
    refused = suppression_reasons(session, [ELI], "email", "marketing")
    assert "opted out of marketing" in refused[ELI]


def test_a_choice_made_after_the_erasure_decides(session: Session) -> None:
    set_preference(session, ELI, "email", "marketing", "opted_out", source="api", actor="t")
    erase_messages(session, ELI, actor="t")
    set_preference(session, ELI, "email", "marketing", "opted_in", source="api", actor="t")
    assert suppression_reasons(session, [ELI], "email", "marketing") == {}


def test_recipients_without_a_choice_follow_their_category(session: Session) -> None:
    set_preference(session, ANA, "email", "marketing", "opted_in", source="api", actor="t")
    assert suppression_reasons(session, [ANA], "email", "marketing") == {}
    assert "no recorded opt-in" in suppression_reasons(session, [ELI], "email", "marketing")[ELI]
    assert suppression_reasons(session, [ELI], "email", "transactional") == {}


def test_a_thousand_recipients_are_looked_up_in_one_statement(session: Session) -> None:
    keys = [f"customer{n}@example.com" for n in range(1000)]
    set_preference(session, keys[7], "sms", "service", "opted_out", source="api", actor="t")
    session.flush()
    with statements(session) as seen:
        refused = suppression_reasons(session, keys, "sms", "service")
    assert list(refused) == [keys[7]]
    assert len(seen) == 1
