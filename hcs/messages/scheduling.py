"""When a send may go: now, or at the caller's `send_at`, no further ahead than the horizon."""

from __future__ import annotations

from datetime import datetime, timedelta

from templates_store.errors import ValidationFailed
from templates_store.orm import utcnow


def scheduled_for(
    send_at: datetime | None, *, horizon: timedelta, now: datetime | None = None
) -> datetime | None:
    """The moment to send at, or `None` to send now.

    A `send_at` already past sends at once (a caller's clock a little behind is no error); one
    beyond the horizon is refused, naming the field.
    """
    if send_at is None:
        return None
    moment = now or utcnow()
    if send_at <= moment:
        return None
    if send_at - moment > horizon:
        latest = (moment + horizon).isoformat(timespec="seconds")
        raise ValidationFailed({"send_at": [f"must be no later than {latest}"]})
    return send_at
