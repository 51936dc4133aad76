"""Two reviewers vote at the same instant from two processes: exactly one final decision each time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudctl.approvals import create_request, events_of, replay, set_policy, show_request
from cloudctl.audit import Actor, verify_chain
from cloudctl.store import open_store

N = 30
VOTER = Path(__file__).with_name("race_voter.py")
POLICY = {"name": "race", "deadline": "24h",
          "groups": [{"name": "g", "members": ["approver", "rejecter"], "rule": "any"}]}


def _race(url: str, tmp_path: Path) -> None:
    store = open_store(url)
    with store.begin() as conn:
        set_policy(conn, POLICY, Actor("admin"))
        ids = [create_request(conn, Actor("alice"), kind="quota-increase", payload={"vcpus": i + 1},
                              policy="race")["id"] for i in range(N)]
    start = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(VOTER), url, who, decision, json.dumps(ids), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who, decision in (("approver", "approve"), ("rejecter", "reject"))]
    start.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append({int(k): v for k, v in json.loads(out).items()})
    with store.connect() as conn:
        assert verify_chain(conn).ok
        for rid in ids:
            req = show_request(conn, rid)
            events = events_of(conn, rid)
            winners = [o[rid] for o in outs].count("ok")
            assert winners == 1, (rid, outs[0][rid], outs[1][rid])  # the loser saw "already decided"
            assert [e["kind"] for e in events].count("decided") == 1
            assert len(req["votes"]) == 1
            expected = "approved" if outs[0][rid] == "ok" else "rejected"
            assert req["status"] == expected
            state = replay(events)
            assert state.status == expected and state.problems == []
    store.dispose()


def test_racing_votes_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    _race(sqlite_url, tmp_path)


@pytest.mark.postgres
def test_racing_votes_postgres(pg_url: str, tmp_path: Path) -> None:
    _race(pg_url, tmp_path)
