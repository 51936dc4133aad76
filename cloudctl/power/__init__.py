"""The power list (RBAC): registered permissions, roles as allow-lists, scoped grants, and the
audited authorize() every mutating command calls. "No power outside the list."

    from cloudctl.power import authorize, authorized, Scope
    authorize(store, actor, "quota.set", Scope(dept="health", region="110000"))  # or raises PermissionDenied
"""

from cloudctl.power.authorize import Decision, authorize, authorized, decide, decide_and_record, os_user
from cloudctl.power.registry import POWER_LIST, Permission, lookup
from cloudctl.power.roles import (
    ADMIN,
    Grant,
    Scope,
    bootstrap,
    create_role,
    delete_role,
    grant_role,
    list_grants,
    list_roles,
    revoke_role,
)

__all__ = [
    "ADMIN",
    "POWER_LIST",
    "Decision",
    "Grant",
    "Permission",
    "Scope",
    "authorize",
    "authorized",
    "bootstrap",
    "create_role",
    "decide",
    "decide_and_record",
    "delete_role",
    "grant_role",
    "list_grants",
    "list_roles",
    "lookup",
    "os_user",
    "revoke_role",
]
