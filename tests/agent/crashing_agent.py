"""`cloudctl agent run` with a fault hook, for tests/agent/test_crash.py (run as
`python -m tests.agent.crashing_agent --config agent.yaml`).

CCAA_KILL_POINT / CCAA_KILL_FILE / CCAA_KILL_AT: SIGKILL this process the CCAA_KILL_AT-th time a
durable write reaches the point (cloudctl.agent.durable.FAULT: append, write, rename, renamed)
for a file whose name contains CCAA_KILL_FILE; at `append` and `write` half of the bytes are
written first (a torn write). CCAA_ROUND_LOG: every spool append is logged, `attempt TS` before
and `done TS` once it returned (each line fsynced), so the test knows what the agent committed.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from cloudctl.agent import durable
from cloudctl.agent import spool as spool_module

POINT = os.environ.get("CCAA_KILL_POINT")
FILE = os.environ.get("CCAA_KILL_FILE", "")
AT = int(os.environ.get("CCAA_KILL_AT", "1"))
LOG = os.environ["CCAA_ROUND_LOG"]
_hits = 0


def _fault(point: str, path: Path, fd: int | None, data: bytes) -> None:
    global _hits
    if point != POINT or FILE not in path.name:
        return
    _hits += 1
    if _hits < AT:
        return
    if fd is not None:
        os.write(fd, data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)


def _log(what: str, ts: float) -> None:
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{what} {ts!r}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


_append = spool_module.Spool.append


def _logged_append(self: spool_module.Spool, record: dict[str, Any]) -> None:
    _log("attempt", record["ts"])
    _append(self, record)
    _log("done", record["ts"])


durable.FAULT = _fault
spool_module.Spool.append = _logged_append  # type: ignore[method-assign]

if __name__ == "__main__":
    from cloudctl.cli.agent_run import run

    run()
