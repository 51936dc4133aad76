"""Where cloudctl is put together: the one place its registries are filled.

- `appliers()`: the function that carries out each approved request kind (approvals/appliers.py).
- `actions()`: every mutating action (cloudctl/action.py), for the power-list cross-check, the API
  and the tests that walk every command and route.

Nothing registers itself as a side effect of an import: a kind or an action that is not listed
here does not exist for the rest of the program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloudctl.action import Action
    from cloudctl.approvals.appliers import Applier


def appliers() -> dict[str, Applier]:
    from cloudctl.cloud_ops.requests import apply_quota_increase, apply_servers, apply_volumes

    return {"quota-increase": apply_quota_increase, "server": apply_servers, "volume": apply_volumes}


def actions() -> tuple[Action[Any], ...]:
    from cloudctl.approvals.actions import ACTIONS as APPROVALS
    from cloudctl.settings_actions import SET_SETTING
    from cloudctl.sharing.actions import ACTIONS as SHARING

    return (*APPROVALS, SET_SETTING, *SHARING)
