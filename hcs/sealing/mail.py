"""A witness by email: each signed checkpoint mailed to auditors through the configured SMTP.

`HCS_CHECKPOINT_WITNESS=mailto:auditors@example.com[,dpo@example.com]`. The relay is email's
(`HCS_SMTP_HOST`, `HCS_SMTP_PORT`, `HCS_SMTP_USERNAME`, `HCS_SMTP_PASSWORD`,
`HCS_SMTP_STARTTLS`), the sender `HCS_EMAIL_FROM`. The note travels as an attachment (byte for
byte what was signed) and in the body.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote

from hcs.errors import NoteError

SCHEME = "mailto:"


@dataclass(frozen=True)
class Relay:
    """The SMTP relay and sender checkpoints are mailed with."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 10.0


def recipients(witness: str) -> list[str]:
    """The addresses of a `mailto:` witness; NoteError for anything that is not one address each."""
    found = []
    for part in unquote(witness.removeprefix(SCHEME).split("?", 1)[0]).split(","):
        _, address = parseaddr(part.strip())
        # One plain address each: no display names, no header tricks (CR, LF) in what we send.
        if not address or address != part.strip() or "@" not in address:
            raise NoteError(f"HCS_CHECKPOINT_WITNESS: {part.strip()!r} is not an email address")
        found.append(address)
    return found


def _message(relay: Relay, to: list[str], log_name: str, size: int, note: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = relay.sender, ", ".join(to)
    message["Subject"] = f"HCS signed checkpoint: {log_name} log, {size} entries"
    message.set_content(
        "A signed checkpoint of the HCS "
        f"{log_name} log. Keep it: `hcs {_command(log_name)} verify --checkpoint FILE` proves "
        "the log still extends it.\n\n" + note
    )
    name = f"{log_name}-{size:012d}.checkpoint"
    # Base64: no relay rewraps or re-encodes a line of what was signed.
    message.add_attachment(note, subtype="plain", charset="utf-8", cte="base64", filename=name)
    return message


def _command(log_name: str) -> str:
    return "audit" if log_name == "audit" else "archive"


def mail(relay: Relay | None, witness: str, log_name: str, size: int, note: str) -> None:
    """Mail one checkpoint; OSError (smtplib errors are OSErrors) when it cannot be delivered."""
    if relay is None or not relay.sender:
        raise OSError("a mailto: witness needs HCS_SMTP_HOST and HCS_EMAIL_FROM")
    to = recipients(witness)
    with smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout) as smtp:
        smtp.ehlo()
        if relay.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if relay.username is not None:
            smtp.login(relay.username, relay.password or "")
        smtp.send_message(_message(relay, to, log_name, size, note), relay.sender, to)
