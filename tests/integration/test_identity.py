"""People, roles and API keys: the domain functions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.audit import AuditEntry
from hcs.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from hcs.identity import (
    ApiKey,
    Principal,
    authenticate_key,
    authenticate_password,
    create_api_key,
    create_user,
    disable_user,
    enable_user,
    ensure_admin,
    list_api_keys,
    list_users,
    principal_for,
    revoke_api_key,
    set_password,
    set_roles,
)
from hcs.identity.users import BAD_LOGIN

PASSWORD = "correct horse battery"


def _actions(session: Session, target: str) -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.target == target).order_by(AuditEntry.id)
    return list(session.scalars(query))


def test_a_user_is_stored_lower_case_with_a_hashed_password(session: Session) -> None:
    user, generated = create_user(
        session,
        email=" Ana@Example.COM ",
        roles=["reviewer", "author"],
        password=PASSWORD,
        name="Ana",
        actor="admin@example.com",
    )
    assert user.email == "ana@example.com" and generated is None
    assert user.roles == ["author", "reviewer"]
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert user.is_active and user.created_at.tzinfo is not None
    assert _actions(session, "ana@example.com") == ["user.create"]


def test_a_user_created_without_a_password_gets_a_generated_one(session: Session) -> None:
    user, generated = create_user(session, email="gen@example.com", roles=["auditor"], actor="t")
    assert generated and len(generated) >= 20
    assert authenticate_password(session, "GEN@example.com", generated) is user
    assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"roles": ["author", "superuser"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"password": "short"}, "password"),
    ],
)
def test_bad_user_input_names_the_field(session: Session, changes: dict, field: str) -> None:
    arguments = {"email": "ok@example.com", "roles": ["author"], "password": PASSWORD} | changes
    with pytest.raises(ValidationFailed) as caught:
        create_user(session, actor="t", **arguments)
    assert list(caught.value.errors) == [field]


def test_a_duplicate_email_is_a_conflict_whatever_its_case(session: Session) -> None:
    create_user(session, email="dup@example.com", roles=["author"], actor="t")
    with pytest.raises(Conflict):
        create_user(session, email="DUP@example.com", roles=["author"], actor="t")


def test_a_wrong_password_and_an_unknown_email_fail_alike(session: Session) -> None:
    create_user(session, email="lee@example.com", roles=["reviewer"], password=PASSWORD, actor="t")
    messages = set()
    for email, password in [("lee@example.com", "wrong password!"), ("who@example.com", PASSWORD)]:
        with pytest.raises(AuthenticationFailed) as caught:
            authenticate_password(session, email, password)
        messages.add(str(caught.value))
    assert messages == {BAD_LOGIN}


def test_a_disabled_user_cannot_sign_in_until_enabled(session: Session) -> None:
    create_user(session, email="off@example.com", roles=["author"], password=PASSWORD, actor="t")
    disable_user(session, "off@example.com", actor="admin@example.com")
    with pytest.raises(AuthenticationFailed, match=BAD_LOGIN):
        authenticate_password(session, "off@example.com", PASSWORD)
    with pytest.raises(Conflict):
        disable_user(session, "off@example.com", actor="t")
    enable_user(session, "off@example.com", actor="admin@example.com")
    assert authenticate_password(session, "off@example.com", PASSWORD).email == "off@example.com"
    assert _actions(session, "off@example.com") == ["user.create", "user.disable", "user.enable"]


def test_roles_are_replaced_and_audited_with_before_and_after(session: Session) -> None:
    create_user(session, email="ro@example.com", roles=["author"], actor="t")
    user = set_roles(session, "RO@example.com", ["signoff", "reviewer"], actor="admin@example.com")
    assert user.roles == ["reviewer", "signoff"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.roles")).one()
    assert entry.before == {"roles": ["author"]}
    assert entry.after == {"roles": ["reviewer", "signoff"]}
    assert entry.actor == "admin@example.com"


def test_unknown_users_are_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        set_roles(session, "ghost@example.com", ["author"], actor="t")
    with pytest.raises(NotFound):
        disable_user(session, "ghost@example.com", actor="t")


def test_the_last_active_admin_stays(session: Session) -> None:
    create_user(session, email="root@example.com", roles=["admin"], actor="t")
    with pytest.raises(Conflict, match="last active admin"):
        disable_user(session, "root@example.com", actor="t")
    with pytest.raises(Conflict, match="last active admin"):
        set_roles(session, "root@example.com", ["author"], actor="t")


def test_ensure_admin_creates_one_only_when_there_is_none(session: Session) -> None:
    password = ensure_admin(session, "admin@hcs.example", actor="hcs init")
    assert password and authenticate_password(session, "admin@hcs.example", password)
    assert ensure_admin(session, "other@hcs.example", actor="hcs init") is None
    assert [user.email for user in list_users(session)] == ["admin@hcs.example"]


def test_a_new_password_replaces_the_old(session: Session) -> None:
    create_user(session, email="pw@example.com", roles=["author"], password=PASSWORD, actor="t")
    generated = set_password(session, "pw@example.com", actor="t")
    assert generated
    with pytest.raises(AuthenticationFailed):
        authenticate_password(session, "pw@example.com", PASSWORD)
    assert authenticate_password(session, "pw@example.com", generated)


def test_a_system_key_is_stored_only_as_a_hash(session: Session) -> None:
    key, plaintext = create_api_key(session, name="shop", scopes=["send", "read"], actor="t")
    assert plaintext.startswith(key.prefix + "_") and len(plaintext) > 40
    assert key.key_hash != plaintext and plaintext not in key.key_hash
    assert key.scopes == ["send", "read"] and key.user_id is None and key.created_by == "t"
    assert _actions(session, "shop") == ["apikey.create"]
    principal = authenticate_key(session, plaintext)
    assert principal == Principal(
        email="apikey:shop",
        user_id=None,
        roles=frozenset(),
        scopes=frozenset({"send", "read"}),
        key_name="shop",
    )
    session.refresh(key)
    assert key.last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(session: Session) -> None:
    key, plaintext = create_api_key(session, name="busy", scopes=["read"], actor="t")
    authenticate_key(session, plaintext)
    session.refresh(key)
    first = key.last_used_at
    assert first is not None
    authenticate_key(session, plaintext)
    session.refresh(key)
    assert key.last_used_at == first
    key.last_used_at = first - timedelta(minutes=2)
    authenticate_key(session, plaintext)
    session.refresh(key)
    assert key.last_used_at > first


def test_a_key_for_a_person_acts_as_that_person(session: Session) -> None:
    create_user(session, email="rev@example.com", roles=["reviewer", "author"], actor="t")
    _, plaintext = create_api_key(
        session, name="rev-cli", scopes=["review", "read"], user_email="Rev@example.com", actor="t"
    )
    principal = authenticate_key(session, plaintext)
    assert principal.email == "rev@example.com" and principal.user_id is not None
    assert principal.may("reviewer", "review")
    assert not principal.may("author", "templates")  # the key narrows the person's rights
    assert not principal.may("admin", "read")  # and never widens them


@pytest.mark.parametrize("presented", ["", "nonsense", "hcs_0123abcd_" + "x" * 43, "Bearer x"])
def test_malformed_and_unknown_keys_fail(session: Session, presented: str) -> None:
    with pytest.raises(AuthenticationFailed):
        authenticate_key(session, presented)


def test_a_revoked_key_or_a_disabled_owner_fails(session: Session) -> None:
    _, system = create_api_key(session, name="old", scopes=["send"], actor="t")
    revoke_api_key(session, "old", actor="admin@example.com")
    with pytest.raises(AuthenticationFailed):
        authenticate_key(session, system)
    with pytest.raises(Conflict):
        revoke_api_key(session, "old", actor="t")
    assert _actions(session, "old") == ["apikey.create", "apikey.revoke"]
    create_user(session, email="gone@example.com", roles=["author"], actor="t")
    _, personal = create_api_key(
        session, name="gone-key", scopes=["templates"], user_email="gone@example.com", actor="t"
    )
    disable_user(session, "gone@example.com", actor="t")
    with pytest.raises(AuthenticationFailed):
        authenticate_key(session, personal)


def test_a_tampered_secret_with_a_real_prefix_fails(session: Session) -> None:
    key, plaintext = create_api_key(session, name="tamper", scopes=["read"], actor="t")
    forged = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    with pytest.raises(AuthenticationFailed):
        authenticate_key(session, forged)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"scopes": ["send", "teleport"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["review"]}, "scopes"),  # a system key may never review
        ({"name": "has space"}, "name"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_key_input_names_the_field(session: Session, arguments: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_api_key(session, actor="t", **({"name": "k", "scopes": ["send"]} | arguments))
    assert list(caught.value.errors) == [field]


def test_key_names_are_unique_and_owners_must_exist(session: Session) -> None:
    create_api_key(session, name="twice", scopes=["read"], actor="t")
    with pytest.raises(Conflict):
        create_api_key(session, name="twice", scopes=["read"], actor="t")
    with pytest.raises(NotFound):
        create_api_key(session, name="n", scopes=["read"], user_email="nobody@x.com", actor="t")
    with pytest.raises(NotFound):
        revoke_api_key(session, "missing", actor="t")
    assert [key.name for key in list_api_keys(session)] == ["twice"]
    assert isinstance(list_api_keys(session)[0], ApiKey)


def test_roles_never_imply_one_another() -> None:
    admin = Principal(email="a@x.com", user_id=1, roles=frozenset({"admin"}), scopes=None)
    assert admin.may("admin", "admin")
    assert not admin.may("reviewer", "review") and not admin.may("author", "templates")


def test_a_system_key_can_send_but_never_review_or_sign_off() -> None:
    system = Principal(
        email="apikey:x",
        user_id=None,
        roles=frozenset(),
        scopes=frozenset({"send", "review", "signoff"}),
    )
    assert system.may("author", "send")
    assert not system.may("reviewer", "review") and not system.may("signoff", "signoff")
    assert not system.is_person


def test_principal_for_a_person_in_the_browser(session: Session) -> None:
    user, _ = create_user(session, email="web@example.com", roles=["signoff"], actor="t")
    principal = principal_for(user)
    assert principal.scopes is None and principal.user_id == user.id and principal.is_person
    assert principal.may("signoff", "anything") and not principal.may("reviewer", "review")
