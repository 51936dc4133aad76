"""Per-host results of a playbook run, built from ansible-runner's event stream (pure).

A failed or unreachable host is a result with a status and messages, never an exception:
the caller decides whether "3 of 4 hosts done" is a partial success (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Status of a host, from best to worst; a host's status is the worst thing that happened to it.
STATUS_ORDER = ("ok", "changed", "skipped", "failed", "unreachable")
RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
# Keys of a task result kept for the caller (e.g. the stdout of `nft -j list ruleset`).
KEPT_KEYS = ("rc", "stdout", "stderr", "msg", "changed", "failed")
MAX_MESSAGE = 600


@dataclass
class HostResult:
    """What happened on one host: counts per outcome, the task running now, failures, outputs."""

    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    current_task: str = ""
    messages: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # task name -> kept result keys
    done: bool = False

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        if self.changed:
            return "changed"
        if self.ok:
            return "ok"
        return "skipped" if self.skipped else "ok"

    @property
    def succeeded(self) -> bool:
        return self.status not in ("failed", "unreachable")

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "status": self.status, "ok": self.ok, "changed": self.changed,
                "failed": self.failed, "unreachable": self.unreachable, "skipped": self.skipped,
                "rescued": self.rescued, "ignored": self.ignored, "messages": list(self.messages)}


@dataclass
class PlaybookResult:
    """The outcome of one playbook run: runner status and rc, and one HostResult per host."""

    playbook: str
    status: str  # ansible-runner's: successful | failed | timeout | canceled
    rc: int
    hosts: dict[str, HostResult]
    artifacts_dir: str | None = None
    error: str | None = None  # why the run produced no host results (e.g. a syntax error)

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(h for h, r in self.hosts.items() if not r.succeeded)

    @property
    def ok_hosts(self) -> list[str]:
        return sorted(h for h, r in self.hosts.items() if r.succeeded)

    @property
    def outcome(self) -> str:
        """success | partial | failed: partial when some hosts succeeded and some did not."""
        if self.error or (self.rc != 0 and not self.failed_hosts):
            return "failed"
        if not self.failed_hosts:
            return "success" if self.hosts or self.rc == 0 else "failed"
        return "partial" if self.ok_hosts else "failed"

    def output(self, host: str, task: str) -> dict[str, Any] | None:
        result = self.hosts.get(host)
        return result.outputs.get(task) if result else None

    def as_dict(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "outcome": self.outcome, "status": self.status, "rc": self.rc,
                "error": self.error, "artifacts_dir": self.artifacts_dir,
                "hosts": [self.hosts[h].as_dict() for h in sorted(self.hosts)]}


def _short(text: Any) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def failure_message(task: str, res: dict[str, Any]) -> str:
    """One line saying what failed: the task and the module's own words (msg, stderr or stdout)."""
    detail = res.get("msg") or res.get("stderr") or res.get("stdout") or res.get("reason") or ""
    if isinstance(detail, list):
        detail = "; ".join(str(d) for d in detail)
    rc = res.get("rc")
    suffix = f" (rc {rc})" if rc not in (None, 0) else ""
    return _short(f"{task}: {detail}{suffix}")


class RunTally:
    """Folds ansible-runner events into HostResults; `listener` is told about every change.

    Feed it events in order with `add(event)`; it ignores events it does not know, so a newer
    ansible-runner with new event kinds does not break it.
    """

    def __init__(self, listener: Callable[[HostResult, str], None] | None = None) -> None:
        self.hosts: dict[str, HostResult] = {}
        self.stats_seen = False
        self.error_lines: list[str] = []
        self._listener = listener

    def host(self, name: str) -> HostResult:
        result = self.hosts.get(name)
        if result is None:
            result = self.hosts[name] = HostResult(name)
        return result

    def _tell(self, result: HostResult, what: str) -> None:
        if self._listener is not None:
            self._listener(result, what)

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "runner_on_start":
            result = self.host(data.get("host", "?"))
            result.current_task = data.get("task", "")
            self._tell(result, "start")
        elif kind in RESULT_EVENTS:
            self._on_result(kind, data)
        elif kind == "playbook_on_stats":
            self._on_stats(data)
        elif kind == "error" or (kind == "verbose" and "ERROR!" in str(event.get("stdout", ""))):
            self.error_lines.append(_short(event.get("stdout", "")))

    def _on_result(self, kind: str, data: dict[str, Any]) -> None:
        result = self.host(data.get("host", "?"))
        res = data.get("res") or {}
        task = data.get("task", "")
        outcome = RESULT_EVENTS[kind]
        if outcome == "ok":
            if res.get("changed"):
                result.changed += 1
            result.ok += 1
            result.outputs[task] = {k: res[k] for k in KEPT_KEYS if k in res}
        elif outcome == "failed":
            if data.get("ignore_errors"):
                result.ignored += 1
                result.outputs[task] = {k: res[k] for k in KEPT_KEYS if k in res}
            else:
                result.failed += 1
                result.outputs[task] = {**{k: res[k] for k in KEPT_KEYS if k in res}, "failed": True}
                result.messages.append(failure_message(task, res))
        elif outcome == "unreachable":
            result.unreachable += 1
            result.messages.append(failure_message(task, res))
        else:
            result.skipped += 1
        self._tell(result, outcome)

    def _on_stats(self, data: dict[str, Any]) -> None:
        """The final stats are authoritative for the counts (they include rescued/ignored)."""
        self.stats_seen = True
        for host in data.get("processed", {}) or {}:
            result = self.host(host)
            result.rescued = int((data.get("rescued") or {}).get(host, 0))
            result.ignored = int((data.get("ignored") or {}).get(host, 0))
            # A rescued failure is not a failure of the host.
            result.failed = int((data.get("failures") or {}).get(host, 0))
            result.unreachable = int((data.get("dark") or {}).get(host, 0))
            result.done = True
            result.current_task = ""
            self._tell(result, "done")

    def result(self, playbook: str, status: str, rc: int, *, artifacts_dir: str | None = None,
               stdout_tail: Iterable[str] = ()) -> PlaybookResult:
        error = None
        if rc != 0 and not self.hosts:
            lines = self.error_lines or [line for line in stdout_tail if line.strip()]
            error = "; ".join(lines[-3:]) if lines else f"ansible-playbook exited {rc} with no host results"
        return PlaybookResult(playbook, status, rc, dict(self.hosts), artifacts_dir=artifacts_dir, error=error)
