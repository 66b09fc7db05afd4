"""Where checkpoints go besides the database, and the signing key they are signed with.

`HCS_CHECKPOINT_WITNESS` is a directory (a WORM mount, a synced folder: each checkpoint becomes a
new file, never rewritten), an `http(s)://` URL that receives each checkpoint as a POST, or a
`mailto:` address list that is mailed each one through the SMTP relay (`hcs.sealing.mail`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from hcs.errors import NoteError
from hcs.infrastructure.config import Settings
from hcs.infrastructure.destinations import check_destination, guarded_opener
from hcs.sealing.checkpoints import Checkpoint, sign_heads
from hcs.sealing.mail import SCHEME, Relay, mail, recipients
from hcs.sealing.models import SealedMixin
from hcs.sealing.notes import Signer, load_key_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpointing:
    """What signing and publishing checkpoints needs: the key, the origin, the witness."""

    signer: Signer
    origin: str
    witness: str = ""
    relay: Relay | None = None
    # Internal addresses an http(s) witness may have anyway (HCS_ALLOWED_PRIVATE_DESTINATIONS).
    allow: tuple[str, ...] = ()

    def origin_of(self, log_name: str) -> str:
        """The checkpoint origin of one log."""
        return f"{self.origin}/{log_name}"


def checkpointing(settings: Settings) -> Checkpointing | None:
    """The configured signer and witness; None when no signing key is configured."""
    if not settings.seal_signing_key:
        return None
    signer = load_key_file(Path(settings.seal_signing_key))
    host = urlsplit(settings.public_url).netloc or "hcs"
    witness, relay = settings.checkpoint_witness, None
    allow = settings.allowed_private_destinations
    if witness.startswith(SCHEME):
        recipients(witness)  # a malformed address is refused at start, not at the first head
        relay = _relay(settings)
    elif witness.startswith(("http://", "https://")):
        check_destination(witness, allow=allow, field="HCS_CHECKPOINT_WITNESS", https_only=False)
    return Checkpointing(signer, host, witness, relay, allow)


def _relay(settings: Settings) -> Relay:
    smtp = settings.delivery.smtp
    sender = settings.delivery.email.from_address
    return Relay(smtp.host, smtp.port, sender, smtp.username, smtp.password, smtp.starttls)


def required(settings: Settings) -> Checkpointing:
    """`checkpointing`, or NoteError saying how to configure it."""
    configured = checkpointing(settings)
    if configured is None:
        raise NoteError("HCS_SEAL_SIGNING_KEY is not set: run `hcs keys init` and set it")
    return configured


def publish(
    witness: str,
    log_name: str,
    size: int,
    note: str,
    relay: Relay | None = None,
    allow: Sequence[str] = (),
) -> None:
    """Hand one checkpoint to the witness; a failure is logged, the checkpoint stays kept."""
    if not witness:
        return
    try:
        if witness.startswith(SCHEME):
            mail(relay, witness, log_name, size, note)
        elif witness.startswith(("http://", "https://")):
            _post(witness, note, allow)
        else:
            _write_once(Path(witness), log_name, size, note)
    except OSError as exc:
        log.warning("checkpoint %s@%s not published to %s: %s", log_name, size, witness, exc)


def _write_once(folder: Path, log_name: str, size: int, note: str) -> None:
    digest = hashlib.sha256(note.encode()).hexdigest()[:16]
    path = folder / f"{log_name}-{size:012d}-{digest}.checkpoint"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        return  # the same checkpoint, published before
    with os.fdopen(descriptor, "w") as stream:
        stream.write(note)


def _post(url: str, note: str, allow: Sequence[str]) -> None:
    request = urllib.request.Request(
        url, data=note.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with guarded_opener(allow).open(request, timeout=5) as answer:
        if answer.status >= 300:
            raise OSError(f"the witness answered {answer.status}")


def sign_logs(
    session: Session, models: Sequence[type[SealedMixin]], signing: Checkpointing | None
) -> Checkpoint | None:
    """Sign the logs' new head, when a key is configured and the head moved."""
    if signing is None:
        return None
    return sign_heads(session, models, signing.signer, signing.origin_of(models[0].seal_log))


def publish_checkpoint(signing: Checkpointing | None, checkpoint: Checkpoint | None) -> None:
    """Hand a newly signed checkpoint to the witness (after its transaction committed)."""
    if signing is not None and checkpoint is not None:
        witness, relay = signing.witness, signing.relay
        publish(witness, checkpoint.log, checkpoint.size, checkpoint.note, relay, signing.allow)
