"""One racing process: waits for a start file, then makes N allocations, one transaction each.

Usage: python race_worker.py DB_URL WORKER_INDEX COUNT START_FILE
Prints one JSON list of [owner, prefix] pairs on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cloudctl.audit import Actor
from cloudctl.ipam import allocate_prefix
from cloudctl.store import open_store

LENGTHS = (24, 26, 28, 25, 27)


def owner_and_length(worker: int, j: int) -> tuple[str, int]:
    """Every 10th request names an owner all workers share (the repeated owners)."""
    if j % 10 == 0:
        return f"shared-{j}", LENGTHS[j % len(LENGTHS)]
    return f"w{worker}-{j}", LENGTHS[(worker + j) % len(LENGTHS)]


def main() -> None:
    url, worker, count, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    store = open_store(url, migrate=False)
    actor = Actor(f"racer-{worker}", "race test")
    deadline = time.monotonic() + 120
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.01)
    got = []
    for j in range(count):
        owner, length = owner_and_length(worker, j)
        with store.begin() as conn:
            got.append([owner, str(allocate_prefix(conn, "race", length, owner, actor))])
    store.dispose()
    print(json.dumps(got))


if __name__ == "__main__":
    main()
