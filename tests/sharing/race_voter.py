"""One racing voter on data shares, through the action layer (perform: validate, scope, power list, vote).

Usage: python race_voter.py DB_URL REVIEWER DECISION IDS_JSON START_FILE
Prints a JSON object {share_id: "ok" | "conflict"}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cloudctl.action import Context, perform
from cloudctl.approvals.actions import APPROVE, REJECT
from cloudctl.audit import Actor
from cloudctl.errors import ConflictError
from cloudctl.store import open_store


def main() -> None:
    url, who, decision, ids, start = sys.argv[1:6]
    store = open_store(url, migrate=False)
    ctx = Context(store, Actor(who, "race_voter.py"))
    deadline = time.monotonic() + 120
    while not Path(start).exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.005)
    out = {}
    for sid in json.loads(ids):
        try:
            if decision == "approve":
                perform(ctx, APPROVE, {"request_id": sid})
            else:
                perform(ctx, REJECT, {"request_id": sid, "reason": "race"})
            out[sid] = "ok"
        except ConflictError:
            out[sid] = "conflict"
    store.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
