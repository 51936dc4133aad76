"""One racing voter: waits for a start file, then votes on every request as fast as it can.

Usage: python race_voter.py DB_URL REVIEWER DECISION IDS_JSON START_FILE [engine|action]
  engine (default): the approval engine's cast_vote, one transaction per vote;
  action: the action layer (perform: validate, scope, power list, vote, apply), as the CLI does.
Prints a JSON object {request_id: "ok" | "conflict"}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cloudctl.action import Context, perform
from cloudctl.approvals import cast_vote
from cloudctl.approvals.actions import APPROVE, REJECT
from cloudctl.audit import Actor
from cloudctl.errors import ConflictError
from cloudctl.store import open_store


def main() -> None:
    url, who, decision, ids, start = sys.argv[1:6]
    via = sys.argv[6] if len(sys.argv) > 6 else "engine"
    store = open_store(url, migrate=False)
    ctx = Context(store, Actor(who, "race_voter.py"))
    reason = "race" if decision == "reject" else None
    deadline = time.monotonic() + 120
    while not Path(start).exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.005)
    out = {}
    for rid in json.loads(ids):
        try:
            if via == "action":
                perform(ctx, APPROVE if decision == "approve" else REJECT,
                        {"request_id": rid, **({"reason": reason} if reason else {})})
            else:
                with store.begin() as conn:
                    cast_vote(conn, Actor(who), rid, decision, reason)
            out[rid] = "ok"
        except ConflictError:
            out[rid] = "conflict"
    store.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
