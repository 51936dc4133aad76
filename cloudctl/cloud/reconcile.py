"""Plan and apply: read the store, observe the cloud once, diff in memory, change per department.

The cloud adapter is injected (anything with observe/apply_actions/update_quotas/counter), so
this module imports no cloud library. Departments are applied concurrently (bounded pool); each
department's result is recorded in the store as soon as it finishes, so an interrupted run keeps
what was done and the next apply finishes the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol

from cloudctl.audit import Actor
from cloudctl.cloud import departments as depts
from cloudctl.cloud.model import Action, DeptResult, DesiredDept, Observed
from cloudctl.cloud.planner import plan, summarise
from cloudctl.errors import CloudctlError, InputError
from cloudctl.store import Store


class Cloud(Protocol):
    counter: Any

    def observe(self, codes: Any, *, external_network: str | None = None, deep: bool = False) -> Observed: ...

    def apply_actions(self, actions: list[Action], have: Any, *, description: str,
                      external_network_id: str | None) -> dict[str, str]: ...

    def update_quotas(self, project_id: str, quotas: dict[str, int], *, new_project: bool = False) -> None: ...


@dataclass
class PlanResult:
    actions: list[Action]
    desired: dict[str, DesiredDept]
    observed: Observed
    external_network: str | None
    seconds: float = 0.0
    api_calls: int = 0
    calls_by_endpoint: dict[str, int] = field(default_factory=dict)

    def by_dept(self) -> dict[str, list[Action]]:
        out: dict[str, list[Action]] = {}
        for a in self.actions:
            out.setdefault(a.dept, []).append(a)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"summary": summarise(self.actions),
                "departments": {code: [a.as_dict() for a in acts] for code, acts in self.by_dept().items()},
                "stats": {"api_calls": self.api_calls, "seconds": round(self.seconds, 3),
                          "departments_checked": len(self.desired), "by_endpoint": self.calls_by_endpoint}}


def make_plan(store: Store, cloud: Cloud, *, only: list[str] | None = None, deep: bool = False) -> PlanResult:
    """Desired (store) vs observed (cloud). deep=True also reads volume quotas from Cinder, one call
    per department; otherwise they are compared with the values cloudctl last pushed."""
    t0 = time.perf_counter()
    calls0 = cloud.counter.total
    before = dict(cloud.counter.by_endpoint)
    with store.connect() as conn:
        desired = {d.code: d for d in depts.desired_state(conn)}
        settings = depts.get_settings(conn)
        applied_volume = depts.applied_volume_quotas(conn)
    if only:
        unknown = sorted(set(only) - set(desired))
        if unknown:
            raise InputError(f"no such department: {', '.join(unknown)}", field="--dept",
                             hint="see `cloudctl dept list --all`")
        desired = {c: desired[c] for c in only}
    ext = settings["external_network"] or None
    observed = cloud.observe(desired.keys(), external_network=ext, deep=deep)
    if not deep:
        for code, have in observed.depts.items():
            if have.project is not None:
                have.quotas.update(applied_volume.get(code, {}))
    if ext and observed.external_network_id is None:
        raise InputError(f"external network {ext!r} not found (or not external) in the cloud",
                         field="external_network", hint="cloudctl cloud set external_network NAME ('' for none)")
    actions = plan(desired.values(), observed, external_network=ext)
    by_endpoint = {k: v - before.get(k, 0) for k, v in cloud.counter.by_endpoint.items() if v - before.get(k, 0)}
    return PlanResult(actions, desired, observed, ext, time.perf_counter() - t0, cloud.counter.total - calls0,
                      by_endpoint)


def _batch_quotas(actions: list[Action]) -> tuple[list[Action], dict[str, int]]:
    """Quota updates go out as one call per service, not one per quota."""
    quotas = {a.name: a.after for a in actions if a.kind == "quota"}
    return [a for a in actions if a.kind != "quota"], quotas


def apply_plan(store: Store, cloud: Cloud, result: PlanResult, actor: Actor, *, workers: int = 8,
               progress: Callable[..., None] = lambda n=1, total=None: None) -> list[DeptResult]:
    """Carry out a plan; one DeptResult per department with actions (failures do not stop others)."""
    groups = result.by_dept()
    progress(0, total=len(groups))
    results: list[DeptResult] = []

    def run(code: str, actions: list[Action]) -> dict[str, str]:
        have = result.observed.depts.get(code)
        from cloudctl.cloud.model import ObservedDept

        have = have or ObservedDept()
        others, quotas = _batch_quotas(actions)
        first = [a for a in others if a.kind in ("project", "user", "role") and a.op != "delete"]
        rest = [a for a in others if a not in first]
        ids = cloud.apply_actions(first, have, description=result.desired[code].name,
                                  external_network_id=result.observed.external_network_id)
        if quotas:
            cloud.update_quotas(ids["project"], quotas, new_project=have.project is None)
        ids.update(cloud.apply_actions(rest, _with_ids(have, ids), description=result.desired[code].name,
                                       external_network_id=result.observed.external_network_id))
        return ids

    with ThreadPoolExecutor(max(1, workers)) as pool:
        futures = {pool.submit(run, code, acts): code for code, acts in groups.items()}
        for fut in as_completed(futures):
            code = futures[fut]
            acts = groups[code]
            try:
                ids = fut.result()
            except CloudctlError as e:
                results.append(DeptResult(code, False, 0, e.render()))
            except Exception as e:  # one department's surprise must not lose the others' records
                results.append(DeptResult(code, False, 0, f"{type(e).__name__}: {e}"))
            else:
                d = result.desired[code]
                retired_done = d.status == "retired" and d.cidr is not None
                with store.begin() as conn:
                    depts.record_applied(conn, actor, code, ids, summarise(acts), retired_done=retired_done,
                                         quotas=d.quotas if d.status == "active" else None)
                results.append(DeptResult(code, True, len(acts)))
            progress(1)
    # retired departments with nothing left in the cloud still give their subnet back
    for code, d in result.desired.items():
        if d.status == "retired" and d.cidr is not None and code not in groups:
            with store.begin() as conn:
                depts.record_applied(conn, actor, code, {}, summarise([]), retired_done=True)
    return sorted(results, key=lambda r: r.dept)


def _with_ids(have: Any, ids: dict[str, str]) -> Any:
    """The observed department updated with ids created in the first phase (project, users)."""
    from dataclasses import replace

    from cloudctl.cloud.model import ObservedProject

    users = {k.split(":", 1)[1]: v for k, v in ids.items() if k.startswith("user:")}
    project = have.project or (ObservedProject(ids["project"], "", []) if "project" in ids else None)
    return replace(have, project=project, users={**have.users, **users})
