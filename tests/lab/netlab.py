"""A lab of hosts as network namespaces, each with its own sshd on a management bridge.

Everything it makes carries the prefix `cclab-` (namespaces, the bridge `cclab-br0`) and
lives in a work directory of its own; `down()` removes exactly what `up()`/`add_*` made:
SSH control sockets (`ssh -O exit`), the processes in each namespace, the namespaces, the
bridge and the guard route. A file lock keeps two test sessions from building it at once.

Management: 10.231.0.0/24 on the bridge (the controller is 10.231.0.1); a root-namespace
`unreachable 10.231.0.0/16` route keeps lab traffic from ever leaving through the host's
default route.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "cclab-"
BRIDGE = "cclab-br0"
MGMT_PREFIX = "10.231.0"
CONTROLLER_IP = f"{MGMT_PREFIX}.1"
GUARD_ROUTE = "10.231.0.0/16"
LOCK_FILE = Path("/run/lock/cclab.lock")
SSHD = "/usr/sbin/sshd"
REQUIRED = ("ip", "nft", SSHD, "ssh", "ssh-keygen", "unshare", "setsid", "flock")


def sh(*argv: str, check: bool = True, timeout: float = 30,
       input: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, input=input)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def missing_tools() -> list[str]:
    return [t for t in REQUIRED if shutil.which(t) is None and not Path(t).exists()]


@dataclass
class LabHost:
    name: str
    ns: str
    mgmt_ip: str
    dir: Path
    sshd_pid: int | None = None

    @property
    def state_dir(self) -> Path:
        return self.dir / "state"


@dataclass
class Lab:
    workdir: Path
    hosts: dict[str, LabHost] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)
    _lock_fd: int | None = None
    _bridge: bool = False
    _guard: bool = False

    # ---- lifecycle -------------------------------------------------------------------------
    def up(self, lock_wait: float = 900) -> Lab:
        if os.geteuid() != 0:
            raise RuntimeError("the namespace lab needs root")
        if missing := missing_tools():
            raise RuntimeError(f"the lab needs {', '.join(missing)}: run scripts/deps.d/40-lab.sh")
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
        deadline = time.monotonic() + lock_wait
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"another session holds {LOCK_FILE} (a lab is running)") from None
                time.sleep(1)
        self._remove_leftovers()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "cp").mkdir(mode=0o700, exist_ok=True)
        key = self.workdir / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cclab", "-f", str(key))
        shutil.copy(f"{key}.pub", self.workdir / "authorized_keys")
        (self.workdir / "known_hosts").write_text("")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        self._bridge = True
        sh("ip", "addr", "add", f"{CONTROLLER_IP}/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        sh("ip", "route", "add", "unreachable", GUARD_ROUTE)
        self._guard = True
        return self

    def _remove_leftovers(self) -> None:
        """Namespaces and links with our prefix left by a crashed run of this lab (we hold the lock)."""
        for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.strip() else ""
            if name.startswith(PREFIX):
                self._kill_namespace(name)
        if sh("ip", "link", "show", BRIDGE, check=False).returncode == 0:
            sh("ip", "link", "del", BRIDGE, check=False)
        sh("ip", "route", "del", "unreachable", GUARD_ROUTE, check=False)

    def down(self) -> None:
        cp = self.workdir / "cp"
        if cp.is_dir():
            for sock in cp.iterdir():
                sh("ssh", "-o", f"ControlPath={sock}", "-O", "exit", "cclab", check=False, timeout=10)
        for ns in reversed(self.namespaces):
            self._kill_namespace(ns)
        self.namespaces.clear()
        if self._bridge:
            sh("ip", "link", "del", BRIDGE, check=False)
            self._bridge = False
        if self._guard:
            sh("ip", "route", "del", "unreachable", GUARD_ROUTE, check=False)
            self._guard = False
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @staticmethod
    def _kill_namespace(ns: str) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = [int(p) for p in sh("ip", "netns", "pids", ns, check=False).stdout.split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline:
                if not sh("ip", "netns", "pids", ns, check=False).stdout.split():
                    break
                time.sleep(0.05)
        sh("ip", "netns", "del", ns, check=False)

    # ---- building --------------------------------------------------------------------------
    def add_namespace(self, name: str) -> str:
        ns = PREFIX + name
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def add_host(self, name: str, octet: int) -> LabHost:
        """A namespace with a management interface `mgmt0` on the bridge and its own sshd."""
        ns = self.add_namespace(name)
        ip = f"{MGMT_PREFIX}.{octet}"
        host = LabHost(name, ns, ip, self.workdir / "hosts" / name)
        host.state_dir.mkdir(parents=True)
        outside = f"{PREFIX}{octet}m"
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", "mgmt0", "netns", ns)
        sh("ip", "link", "set", outside, "master", BRIDGE, "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "mgmt0")
        sh("ip", "-n", ns, "link", "set", "mgmt0", "up")
        self._start_sshd(host)
        self.hosts[name] = host
        return host

    def _start_sshd(self, host: LabHost) -> None:
        d = host.dir
        key = d / "ssh_host_ed25519_key"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", str(key))
        config = d / "sshd_config"
        config.write_text(
            f"Port 22\nListenAddress {host.mgmt_ip}\nHostKey {key}\nPidFile {d / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
            "MaxSessions 50\nMaxStartups 50\nClientAliveInterval 0\n")
        sh("ip", "netns", "exec", host.ns, "unshare", "--mount", "--uts", "--propagation", "private",
           "sh", "-c", f'hostname "$1" && exec {SSHD} -f "$2"', "sshd-start", host.name, str(config))
        pub = (d / "ssh_host_ed25519_key.pub").read_text().split()
        with (self.workdir / "known_hosts").open("a") as f:
            f.write(f"{host.mgmt_ip} {pub[0]} {pub[1]}\n")
        self._wait_port(host.mgmt_ip, 22, 20)
        host.sshd_pid = self._wait_pid_file(d / "sshd.pid", 10)

    @staticmethod
    def _wait_pid_file(path: Path, seconds: float) -> int:
        """sshd listens before it daemonizes and writes its pid file: the port can answer while the
        file is still missing or empty."""
        deadline = time.monotonic() + seconds
        while True:
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(path.read_text().strip())
            if time.monotonic() > deadline:
                raise RuntimeError(f"no pid in {path} after {seconds}s")
            time.sleep(0.05)

    @staticmethod
    def _wait_port(ip: str, port: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with socket.create_connection((ip, port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nothing listens on {ip}:{port} after {seconds}s") from None
                time.sleep(0.1)

    def link(self, ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
        """A veth pair made inside the namespaces (no name ever exists in the root namespace)."""
        sh("ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b)
        sh("ip", "-n", ns_a, "link", "set", if_a, "up")
        sh("ip", "-n", ns_b, "link", "set", if_b, "up")

    def addr(self, ns: str, ifname: str, *cidrs: str) -> None:
        for cidr in cidrs:
            extra = ["nodad"] if ":" in cidr else []
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", ifname, *extra)

    def route(self, ns: str, *args: str) -> None:
        sh("ip", "-n", ns, "route", "add", *args)

    def sysctl(self, ns: str, *settings: str) -> None:
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", *settings)

    def nsexec(self, ns: str, *argv: str, check: bool = True, timeout: float = 30,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", ns, *argv, check=check, timeout=timeout, input=input)

    # ---- Ansible ---------------------------------------------------------------------------
    def ssh_vars(self) -> dict[str, str]:
        """Host vars that make Ansible reach lab hosts with the lab's key and known_hosts."""
        return {
            "ansible_ssh_private_key_file": str(self.workdir / "id_ed25519"),
            "ansible_ssh_common_args": (f"-o UserKnownHostsFile={self.workdir / 'known_hosts'} "
                                        "-o StrictHostKeyChecking=yes -o ConnectTimeout=5"),
            "ansible_python_interpreter": "/usr/bin/python3",
        }

    def host_vars(self, host: LabHost) -> dict[str, str]:
        return {**self.ssh_vars(), "cloudctl_state_dir": str(host.state_dir)}
