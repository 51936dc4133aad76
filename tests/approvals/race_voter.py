"""One racing voter: waits for a start file, then votes on every request as fast as it can.

Usage: python race_voter.py DB_URL REVIEWER DECISION FIRST_ID COUNT START_FILE
Prints a JSON object {request_id: "ok" | "conflict"}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cloudctl.approvals import cast_vote
from cloudctl.audit import Actor
from cloudctl.errors import ConflictError
from cloudctl.store import open_store


def main() -> None:
    url, who, decision, first, count, start = sys.argv[1:7]
    store = open_store(url, migrate=False)
    deadline = time.monotonic() + 120
    while not Path(start).exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.005)
    out = {}
    for rid in range(int(first), int(first) + int(count)):
        try:
            with store.begin() as conn:
                cast_vote(conn, Actor(who), rid, decision, "race" if decision == "reject" else None)
            out[rid] = "ok"
        except ConflictError:
            out[rid] = "conflict"
    store.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
