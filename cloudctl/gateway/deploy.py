"""Deploy, confirm and verify a gateway's ruleset through Ansible (the I/O side of gateways).

deploy:  compile the policy → playbooks/gateway-apply.yml: upload, `nft -c`, back up the
         running table, apply with one `nft -f`, arm a rollback timer on the host
confirm: playbooks/gateway-confirm.yml: stop the timer, promote the ruleset to known-good
verify:  playbooks/gateway-facts.yml reads `nft -j list ruleset`; verify.compare_rulesets
         reports the drift from the compiled policy and the per-publication counters

Every outcome is recorded in `gateway_deploy` and the audit log, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudctl import clock
from cloudctl.automation.results import HostResult, PlaybookResult
from cloudctl.automation.runner import RunSettings, run_playbook
from cloudctl.errors import InputError, NotFoundError, OperationFailed
from cloudctl.gateway.verify import DriftReport, compare_rulesets

FAMILY, TABLE = "inet", "cloudctl_gw"
CHECK_TASK = "Check the candidate ruleset with nft -c"
APPLY_TASK = "Back up, apply atomically and arm the rollback timer"
CONFIRM_TASK = "Stop the rollback timer and keep the applied ruleset"
STATUS_TASK = "Report the commit state"
RULESET_TASK = "Read the running ruleset as JSON"
Listener = Callable[[HostResult, str], None]


@dataclass
class GatewayTarget:
    """The gateway's name and the one-host inventory Ansible reaches it with."""

    name: str
    inventory: dict[str, Any]


@dataclass
class Outcome:
    """What a deploy, confirm or verify did on the gateway."""

    action: str
    gateway: str
    status: str  # pending | confirmed | check-failed | apply-failed | failed | unreachable | in-sync | drift ...
    deploy_id: str | None = None
    ruleset_sha256: str | None = None
    confirm_by: str | None = None
    message: str = ""
    commit_state: dict[str, Any] = field(default_factory=dict)
    drift: DriftReport | None = None
    playbook: PlaybookResult | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("pending", "confirmed", "in-sync", "already-confirmed", "checked")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action, "gateway": self.gateway, "status": self.status,
                                "ok": self.ok, "deploy_id": self.deploy_id, "ruleset_sha256": self.ruleset_sha256,
                                "confirm_by": self.confirm_by, "message": self.message,
                                "commit_state": self.commit_state}
        if self.drift is not None:
            data["verify"] = self.drift.as_dict()
        return data


# ---- which policy, which host ------------------------------------------------------------------
def resolve_policy(name_or_file: str, store: Any = None) -> Any:
    """A policy from a YAML file, or the stored policy of gateway NAME (approved publications only)."""
    from cloudctl.gateway.policy import load_policy

    path = Path(name_or_file).expanduser()
    if path.is_file() or path.suffix in (".yaml", ".yml"):
        return load_policy(path)
    if store is None:
        raise NotFoundError(f"no policy file {name_or_file!r}", field="NAME|FILE",
                            hint="give the policy YAML file (see docs/gateway.md)")
    from cloudctl.gateway.stored import load_stored_policy

    return load_stored_policy(store, name_or_file)


def gateway_target(store: Any, name: str, management_address: str | None = None) -> GatewayTarget:
    """The managed host named like the gateway; else the policy's management address."""
    from cloudctl.automation.hosts import get_host
    from cloudctl.automation.inventory import ManagedHost, build_inventory

    host = None
    if store is not None:
        with store.connect() as conn:
            host = get_host(conn, name)
    if host is None:
        if not management_address:
            raise NotFoundError(f"no managed host named {name!r}", field="NAME",
                                hint=f"register it: cloudctl inventory add {name} --role gateway --address IP")
        host = ManagedHost(name=name, role="gateway", address=management_address)
    elif host.role != "gateway":
        raise InputError(f"host {name!r} is registered as {host.role!r}, not as a gateway", field="NAME")
    return GatewayTarget(name, build_inventory([host]))


# ---- running the playbooks ----------------------------------------------------------------------
def _commit_state(result: PlaybookResult, host: str, task: str = STATUS_TASK) -> dict[str, Any]:
    """The helper's JSON status line, printed last by the task."""
    out = result.output(host, task) or {}
    for line in reversed(str(out.get("stdout", "")).splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def _host_failure(result: PlaybookResult, host: str) -> tuple[str, str]:
    """(status, message) of a host that did not succeed, naming the step that failed."""
    r = result.hosts.get(host)
    if r is None:
        return "failed", result.error or f"{result.playbook} did not reach {host}"
    message = "; ".join(r.messages) or result.error or "failed"
    if r.unreachable:
        return "unreachable", message
    check = r.outputs.get(CHECK_TASK) or {}
    if check.get("failed"):
        return "check-failed", f"nft -c rejected the ruleset; nothing was applied: {check.get('stderr') or message}"
    apply = r.outputs.get(APPLY_TASK) or {}
    if apply.get("failed"):
        return "apply-failed", f"nft -f failed; the previous ruleset is still running: {apply.get('stderr') or message}"
    return "failed", message


def deploy_ruleset(target: GatewayTarget, ruleset: str, *, confirm_within: int, settings: RunSettings | None = None,
                   on_host: Listener | None = None, deploy_id: str | None = None, check: bool = False) -> Outcome:
    """Apply RULESET on the gateway, commit-confirmed (confirm_within=0: confirmed at once).

    check=True: a dry run — upload and `nft -c` on the host, apply nothing (status "checked").
    """
    if confirm_within < 0:
        raise InputError("--confirm-within must be 0 or more seconds", field="--confirm-within")
    deploy_id = deploy_id or clock.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    digest = hashlib.sha256(ruleset.encode()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="cloudctl-deploy-") as tmp:
        src = Path(tmp) / f"{target.name}.nft"
        src.write_text(ruleset)
        result = run_playbook("gateway-apply.yml", target.inventory, limit=target.name, settings=settings,
                              on_host=on_host, check=check, extravars={"gateway_nft_ruleset_src": str(src),
                                                          "gateway_nft_confirm_within": confirm_within,
                                                          "gateway_nft_deploy_id": deploy_id})
    outcome = Outcome("deploy", target.name, "failed", deploy_id, digest, playbook=result)
    host = result.hosts.get(target.name)
    if host is None or not host.succeeded:
        outcome.status, outcome.message = _host_failure(result, target.name)
        return outcome
    if check:
        outcome.status, outcome.message = "checked", "the gateway's nft accepts the ruleset (dry run: nothing applied)"
        return outcome
    state = _commit_state(result, target.name, APPLY_TASK)
    outcome.commit_state = state
    outcome.status = "confirmed" if state.get("state") == "confirmed" else "pending"
    if outcome.status == "pending":
        outcome.confirm_by = state.get("deadline")
        outcome.message = f"applied; rolls back at {outcome.confirm_by} unless `cloudctl gateway confirm {target.name}`"
    else:
        outcome.message = "applied and confirmed"
    return outcome


def confirm_deploy(target: GatewayTarget, *, deploy_id: str | None = None, settings: RunSettings | None = None,
                   on_host: Listener | None = None) -> Outcome:
    result = run_playbook("gateway-confirm.yml", target.inventory, limit=target.name, settings=settings,
                          on_host=on_host, extravars={"gateway_nft_deploy_id": deploy_id or ""})
    outcome = Outcome("confirm", target.name, "failed", deploy_id, playbook=result)
    host = result.hosts.get(target.name)
    if host is None or not host.succeeded:
        outcome.status, outcome.message = _host_failure(result, target.name)
        confirm = (host.outputs.get(CONFIRM_TASK) if host else None) or {}
        if confirm.get("stderr"):
            outcome.message = str(confirm["stderr"]).strip()
            codes = {4: "rolled-back", 5: "nothing-pending", 3: "other-pending"}
            outcome.status = codes.get(int(confirm.get("rc") or 0), "failed")
        return outcome
    state = _commit_state(result, target.name, CONFIRM_TASK)
    said = str((host.outputs.get(CONFIRM_TASK) or {}).get("stdout", "")).splitlines()
    outcome.commit_state = state
    outcome.deploy_id = state.get("token") or deploy_id
    outcome.status = "already-confirmed" if said and said[0] == "already-confirmed" else "confirmed"
    outcome.message = f"deploy {outcome.deploy_id} confirmed; the rollback timer is stopped"
    return outcome


def read_running(target: GatewayTarget, *, settings: RunSettings | None = None,
                 on_host: Listener | None = None) -> tuple[dict[str, Any] | None, dict[str, Any], PlaybookResult]:
    """(`nft -j list ruleset` of the host, its commit state, the playbook result)."""
    result = run_playbook("gateway-facts.yml", target.inventory, limit=target.name, settings=settings,
                          on_host=on_host)
    out = result.output(target.name, RULESET_TASK) or {}
    try:
        running = json.loads(out["stdout"]) if out.get("stdout") else None
    except ValueError:
        running = None
    return running, _commit_state(result, target.name), result


def expected_ruleset_json(ruleset: str, *, timeout: float = 60) -> dict[str, Any]:
    """nft's own JSON listing of RULESET, loaded in a throwaway network namespace here."""
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    with tempfile.NamedTemporaryFile("w", suffix=".nft", prefix="cloudctl-expected-") as f:
        f.write(ruleset)
        f.flush()
        try:
            proc = subprocess.run([*unshare, "sh", "-c", 'nft -f "$1" && nft -j list ruleset', "nft-expected",
                                   f.name], capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OperationFailed(f"cannot run nft in a scratch namespace: {e}",
                                  hint="verify needs nft and unshare (util-linux) on this machine") from e
    if proc.returncode != 0:
        raise OperationFailed(f"the compiled ruleset does not load in a scratch namespace: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def verify_ruleset(target: GatewayTarget, ruleset: str, publications: list[str], *,
                   settings: RunSettings | None = None, on_host: Listener | None = None) -> Outcome:
    expected = expected_ruleset_json(ruleset)
    running, state, result = read_running(target, settings=settings, on_host=on_host)
    outcome = Outcome("verify", target.name, "failed", ruleset_sha256=hashlib.sha256(ruleset.encode()).hexdigest(),
                      commit_state=state, playbook=result)
    if running is None:
        outcome.status, outcome.message = _host_failure(result, target.name)
        return outcome
    report = compare_rulesets(expected, running, family=FAMILY, table=TABLE, publications=publications)
    outcome.drift = report
    outcome.deploy_id = state.get("token") or None
    outcome.status = "in-sync" if report.in_sync else "drift"
    outcome.message = ("the running table matches the policy" if report.in_sync
                       else f"{len(report.items)} difference(s) from the policy")
    if state.get("state") == "pending":
        outcome.message += f"; deploy {state.get('token')} awaits confirmation until {state.get('deadline')}"
    return outcome


# ---- the whole operation, recorded ----------------------------------------------------------------
def record_outcome(store: Any, actor: Any, outcome: Outcome) -> None:
    """One row in gateway_deploy and one audit entry, in the same transaction."""
    from sqlalchemy import insert

    from cloudctl.audit import record_change
    from cloudctl.audit.log import now_utc
    from cloudctl.store.tables.hosts import gateway_deploy

    detail = {"message": outcome.message, "commit_state": outcome.commit_state}
    if outcome.drift is not None:
        detail["drift"] = [i.as_dict() for i in outcome.drift.items]
    row = {"gateway": outcome.gateway, "host": outcome.gateway, "action": outcome.action, "status": outcome.status,
           "ruleset_sha256": outcome.ruleset_sha256, "confirm_by": outcome.confirm_by,
           "drift_items": len(outcome.drift.items) if outcome.drift is not None else None,
           "at": now_utc(), "actor": actor.name, "detail": json.dumps(detail, sort_keys=True, default=str)}
    with store.begin() as conn:
        conn.execute(insert(gateway_deploy).values(**row))
        record_change(conn, actor, f"gateway.{outcome.action}", "gateway", outcome.gateway, None,
                      {"status": outcome.status, "deploy_id": outcome.deploy_id,
                       "ruleset_sha256": outcome.ruleset_sha256, "confirm_by": outcome.confirm_by,
                       "drift_items": row["drift_items"]})


def deploy_gateway(store: Any, actor: Any, name_or_file: str, *, confirm_within: int, at: dt.date | None = None,
                   settings: RunSettings | None = None, on_host: Listener | None = None,
                   check: bool = False) -> Outcome:
    from cloudctl.gateway.compile import compile_ruleset

    policy = resolve_policy(name_or_file, store)
    ruleset = compile_ruleset(policy, at)
    target = gateway_target(store, policy.gateway.name, policy.gateway.management_address)
    outcome = deploy_ruleset(target, ruleset, confirm_within=confirm_within, settings=settings, on_host=on_host,
                             check=check)
    if not check:  # a dry run changes nothing: nothing to record
        record_outcome(store, actor, outcome)
    return outcome


def confirm_gateway(store: Any, actor: Any, name: str, *, deploy_id: str | None = None,
                    settings: RunSettings | None = None, on_host: Listener | None = None) -> Outcome:
    outcome = confirm_deploy(gateway_target(store, name), deploy_id=deploy_id, settings=settings, on_host=on_host)
    record_outcome(store, actor, outcome)
    return outcome


def verify_gateway(store: Any, actor: Any, name_or_file: str, *, at: dt.date | None = None,
                   settings: RunSettings | None = None, on_host: Listener | None = None) -> Outcome:
    from cloudctl.gateway.compile import compile_ruleset

    policy = resolve_policy(name_or_file, store)
    ruleset = compile_ruleset(policy, at)
    target = gateway_target(store, policy.gateway.name, policy.gateway.management_address)
    outcome = verify_ruleset(target, ruleset, [p.name for p in policy.publications], settings=settings,
                             on_host=on_host)
    record_outcome(store, actor, outcome)
    return outcome


def list_deploys(store: Any, gateway: str | None = None, limit: int | None = 50) -> list[dict[str, Any]]:
    """Recorded deploys, confirms and verifies, newest first."""
    from sqlalchemy import select

    from cloudctl.store.tables.hosts import gateway_deploy

    query = select(gateway_deploy).order_by(gateway_deploy.c.id.desc())
    if gateway:
        query = query.where(gateway_deploy.c.gateway == gateway)
    if limit:
        query = query.limit(limit)
    with store.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        detail = json.loads(row.pop("detail") or "{}")
        row["message"] = detail.get("message", "")
    return rows
