"""SendGrid's event-webhook signing (ECDSA P-256), as SendGrid signs its reports."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def signed(body: bytes, at: datetime | None = None) -> dict[str, str]:
    """The headers SendGrid sends: ECDSA over the timestamp followed by the exact body."""
    timestamp = str(int((at or datetime.now(UTC)).timestamp()))
    signature = SIGNING_KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
