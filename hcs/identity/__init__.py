"""Identity: people and their roles, API keys and their scopes, and who is acting."""

from hcs.identity.keys import (
    authenticate,
    authenticate_key,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
    touch_key,
)
from hcs.identity.models import PERSONAL_SCOPES, ROLES, SCOPES, ApiKey, User
from hcs.identity.principal import Principal, principal_for
from hcs.identity.users import (
    authenticate_password,
    create_user,
    disable_user,
    enable_user,
    end_sessions,
    ensure_admin,
    get_user,
    list_users,
    record_failed_login,
    set_password,
    set_roles,
)

__all__ = [
    "PERSONAL_SCOPES",
    "ROLES",
    "SCOPES",
    "ApiKey",
    "Principal",
    "User",
    "authenticate",
    "authenticate_key",
    "touch_key",
    "authenticate_password",
    "create_api_key",
    "create_user",
    "disable_user",
    "enable_user",
    "end_sessions",
    "ensure_admin",
    "get_api_key",
    "get_user",
    "list_api_keys",
    "list_users",
    "principal_for",
    "record_failed_login",
    "revoke_api_key",
    "set_password",
    "set_roles",
]
