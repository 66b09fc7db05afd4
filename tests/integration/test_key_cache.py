"""API keys remembered per process: revocation is seen at once here, within the bound elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from hcs.errors import AuthenticationFailed
from hcs.identity import create_api_key, create_user, disable_user, revoke_api_key, set_roles
from hcs.identity.keycache import KeyCache
from hcs.identity.models import ApiKey
from templates_store.orm import utcnow
from tests.support.statements import statements


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _key(session: Session, name: str = "backend", **fields: Any) -> str:
    _, plaintext = create_api_key(session, name=name, scopes=["send"], actor="t", **fields)
    session.commit()
    return plaintext


def test_a_remembered_key_reads_nothing_and_is_touched_once_a_minute(session: Session) -> None:
    key, cache = _key(session), KeyCache(2, Clock())
    principal, stale = cache.authenticate(session, key)
    assert principal.email == "apikey:backend" and stale  # never used: the caller records it
    with statements(session) as seen:
        again, stale = cache.authenticate(session, key)
    assert again == principal and not stale and seen == []


def test_a_key_revoked_by_another_process_is_refused_once_the_bound_has_passed(
    session: Session,
) -> None:
    clock = Clock()
    key, cache = _key(session), KeyCache(2, clock)
    cache.authenticate(session, key)
    # Another process revoked it: this one's sessions see only the row.
    session.execute(update(ApiKey).where(ApiKey.name == "backend").values(revoked_at=utcnow()))
    clock.now += 1.9
    assert cache.authenticate(session, key)[0].key_name == "backend"
    clock.now += 0.1
    with pytest.raises(AuthenticationFailed):
        cache.authenticate(session, key)


def test_a_revocation_committed_in_this_process_is_seen_at_once(session: Session) -> None:
    key, cache = _key(session), KeyCache(60, Clock())
    cache.authenticate(session, key)
    revoke_api_key(session, "backend", actor="t")
    session.commit()
    with pytest.raises(AuthenticationFailed):
        cache.authenticate(session, key)


def test_a_rolled_back_revocation_forgets_nothing(session: Session) -> None:
    key, cache = _key(session), KeyCache(60, Clock())
    cache.authenticate(session, key)
    revoke_api_key(session, "backend", actor="t")
    session.rollback()
    session.commit()  # a later commit of other work does not count the revocation that was not
    with statements(session) as seen:
        assert cache.authenticate(session, key)[0].key_name == "backend"
    assert seen == []


def test_a_disabled_person_or_their_new_roles_are_seen_at_once(session: Session) -> None:
    create_user(
        session, email="lee@example.com", roles=["reviewer", "admin"], password="x" * 12, actor="t"
    )
    create_user(session, email="root@example.com", roles=["admin"], password="x" * 12, actor="t")
    key, cache = _key(session, user_email="lee@example.com"), KeyCache(60, Clock())
    assert cache.authenticate(session, key)[0].roles == {"reviewer", "admin"}
    set_roles(session, "lee@example.com", ["reviewer"], actor="root@example.com")
    session.commit()
    assert cache.authenticate(session, key)[0].roles == {"reviewer"}
    disable_user(session, "lee@example.com", actor="root@example.com")
    session.commit()
    with pytest.raises(AuthenticationFailed):
        cache.authenticate(session, key)


def test_a_failing_key_is_checked_every_time(session: Session) -> None:
    key, cache = _key(session), KeyCache(60, Clock())
    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    for _ in range(2):
        with statements(session) as seen, pytest.raises(AuthenticationFailed):
            cache.authenticate(session, wrong)
        assert len(seen) == 1


def test_with_no_cache_every_call_reads_the_key(session: Session) -> None:
    key, cache = _key(session), KeyCache(0, Clock())
    for _ in range(2):
        with statements(session) as seen:
            cache.authenticate(session, key)
        assert len(seen) == 1
