"""A letter as a test: its PDF, rendered as a send renders it and watermarked TEST on every page,
mailed to the signed-in person's own address. The letter provider never sees it: nothing is
posted, archived or counted as a customer letter."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from channels.email import Attachment, EmailContent
from channels.errors import ChannelError, InvalidContent
from hcs.channels.email import mail_sender
from hcs.channels.entry import Outgoing
from hcs.channels.letter import LetterOutlet
from hcs.dispatch.proof_rendering import SentTest, record_test, render_test
from hcs.dispatch.providers import Providers
from hcs.errors import SendTestFailed, ValidationFailed
from hcs.identity.users import get_user
from templates_store.closure import resolve_closure
from templates_store.composing import Rendered, brand_of
from templates_store.models import TemplateVersion

WATERMARK = "TEST - not sent to any customer"
NOTE = (
    "<p>The attached PDF is a test of the letter {name}, version {n} ({locale}), rendered exactly "
    "as a send would render it and marked TEST on every page. It was not posted to anyone.</p>"
)


def _pdf_of(
    session: Session,
    version: TemplateVersion,
    sent: Outgoing,
    providers: Providers,
    rendered: Rendered,
) -> tuple[bytes, str]:
    """The letter's PDF through the configured letter outlet, watermarked, and its locale."""
    outlet = providers.outlet("letter")
    if not isinstance(outlet, LetterOutlet):
        raise SendTestFailed("the letter provider cannot render a test")
    tested = replace(outlet, purpose="test", watermark=WATERMARK)
    try:
        return tested.finish(session, version, sent, rendered).output, rendered.locale
    except InvalidContent as exc:
        raise ValidationFailed({"parts.letter": [str(exc)]}) from exc
    except ChannelError as exc:
        raise SendTestFailed(f"the letter could not be rendered: {exc}") from exc


def send_test_letter(
    session: Session,
    version: TemplateVersion,
    locale: str,
    providers: Providers,
    *,
    actor: str,
    sample: str | None = None,
) -> SentTest:
    """Mail the version's letter in `locale`, as a watermarked PDF, to `actor` themself."""
    user = get_user(session, actor)
    address = [f"Test letter for {user.email}", "Not for posting: sent from the HCS editor"]
    to = {"email": user.email, "address": address}
    now = datetime.now(UTC)
    sent = Outgoing(f"test_{secrets.token_hex(8)}", user.email, to, "transactional", now)
    rendered = render_test(session, version, ("letter", locale), sent, providers, sample)
    pdf, chosen = _pdf_of(session, version, sent, providers, rendered)
    name = re.sub(r"[^a-z0-9-]", "-", version.template.key.lower())
    attached = Attachment(f"{name}-v{version.number}-{chosen}-TEST.pdf", "application/pdf", pdf)
    note = NOTE.format(name=version.template.key, n=version.number, locale=chosen)
    content = EmailContent(f"[TEST] Letter {version.template.key} v{version.number}", note)
    mailer = mail_sender(providers.settings)
    brand = brand_of(resolve_closure(session, version))
    try:
        result = mailer.send_file(sent, content, attached, brand)
    except ChannelError as exc:
        raise SendTestFailed(f"{mailer.name} did not take the test letter: {exc}") from exc
    done = SentTest("letter", chosen, user.email, mailer.name, result.message_id)
    record_test(session, version, done, actor=actor, delivered_by="email", pdf_bytes=len(pdf))
    return done
