"""The one module that imports ansible_runner: run a playbook and fold its events into results.

Every run gets a fresh private_data_dir (ansible-runner writes dict inventories, envvars and
extravars into it and would reuse them), explicit envvars (PATH so ansible-playbook is found
in the same environment as cloudctl; ANSIBLE_HOME, ANSIBLE_REMOTE_TMP and the SSH control
path under cloudctl's own directories), pipelining, and a bounded number of forks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudctl.automation.results import HostResult, PlaybookResult, RunTally
from cloudctl.errors import InputError, OperationFailed


def default_base_dir() -> Path:
    from cloudctl.config import default_data_dir, environment

    return Path(environment().get("CLOUDCTL_AUTOMATION_DIR") or default_data_dir() / "automation")


@dataclass
class RunSettings:
    """Where runs keep their files and how ansible-playbook behaves (all overridable for tests)."""

    base_dir: Path = field(default_factory=default_base_dir)
    forks: int = 10
    timeout: int = 900  # seconds for the whole run
    ssh_timeout: int = 10  # seconds to connect to one host
    keep_artifacts: bool = False  # keep the private_data_dir of successful runs too
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def control_path_dir(self) -> Path:
        # Unix socket paths are limited to 108 bytes: keep this short and shared across runs
        # so SSH connections are reused between consecutive playbooks.
        from cloudctl.config import environment

        return Path(environment().get("CLOUDCTL_SSH_CONTROL_DIR") or self.base_dir / "cp")

    def envvars(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        from cloudctl.config import environment

        path = environment().get("PATH", "/usr/local/bin:/usr/bin:/bin")
        if bin_dir not in path.split(os.pathsep):
            path = bin_dir + os.pathsep + path
        env = {
            "PATH": path,
            "ANSIBLE_HOME": str(self.base_dir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.base_dir / "ansible-home" / "tmp"),
            "ANSIBLE_REMOTE_TMP": "/tmp/.cloudctl-ansible",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.control_path_dir),
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_TIMEOUT": str(self.ssh_timeout),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
        }
        env.update(self.extra_env)
        return env


def resolve_playbook(name: str, playbooks_dir: Path | None = None) -> Path:
    """A playbook path as given, or a name under playbooks/ ('site', 'site.yml')."""
    from cloudctl.automation.paths import playbooks_dir as default_dir

    given = Path(name).expanduser()
    if given.is_file():
        return given.resolve()
    root = playbooks_dir or default_dir()
    for candidate in (root / name, root / f"{name}.yml"):
        if candidate.is_file():
            return candidate.resolve()
    known = sorted(p.stem for p in root.glob("*.yml")) if root.is_dir() else []
    raise InputError(f"no such playbook: {name}", field="PLAYBOOK",
                     hint=f"give a path or one of: {', '.join(known) or '(none found in ' + str(root) + ')'}")


def run_playbook(
    playbook: str | Path,
    inventory: dict[str, Any] | str | Path,
    *,
    limit: str | None = None,
    check: bool = False,
    extravars: dict[str, Any] | None = None,
    settings: RunSettings | None = None,
    on_host: Callable[[HostResult, str], None] | None = None,
) -> PlaybookResult:
    """Run one playbook; failed or unreachable hosts are in the result, not raised.

    Raises OperationFailed only when ansible-runner itself cannot start.
    """
    import ansible_runner

    settings = settings or RunSettings()
    playbook_path = resolve_playbook(str(playbook))
    settings.base_dir.mkdir(parents=True, exist_ok=True)
    settings.control_path_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runs = settings.base_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    private_dir = Path(tempfile.mkdtemp(prefix=f"{playbook_path.stem}-", dir=runs))
    tally = RunTally(on_host)

    def handler(event: dict[str, Any]) -> bool:
        tally.add(event)
        return True

    if isinstance(inventory, dict):
        from cloudctl.automation.inventory import as_yaml_inventory

        inventory_arg: Any = as_yaml_inventory(inventory) if "_meta" in inventory else inventory
    else:
        inventory_arg = str(Path(inventory).expanduser().resolve())
    cmdline = "--check --diff" if check else None
    try:
        runner = ansible_runner.run(
            private_data_dir=str(private_dir),
            playbook=str(playbook_path),
            inventory=inventory_arg,
            extravars=extravars or {},
            envvars=settings.envvars(),
            limit=limit,
            forks=settings.forks,
            cmdline=cmdline,
            event_handler=handler,
            quiet=True,
            timeout=settings.timeout,
        )
    except Exception as e:  # ansible-runner refuses its arguments or cannot fork
        shutil.rmtree(private_dir, ignore_errors=True)
        raise OperationFailed(f"cannot run {playbook_path.name}: {e}") from e
    rc = int(runner.rc if runner.rc is not None else 1)
    tail: list[str] = []
    if not tally.hosts and rc != 0:
        try:
            tail = (runner.stdout.read() or "").splitlines()[-5:]
        except Exception:
            tail = []
    keep = settings.keep_artifacts or rc != 0
    result = tally.result(playbook_path.name, str(runner.status), rc,
                          artifacts_dir=str(private_dir) if keep else None, stdout_tail=tail)
    if not keep:
        shutil.rmtree(private_dir, ignore_errors=True)
    return result
