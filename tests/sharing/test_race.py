"""Votes racing on a data share from two processes give one decision: the last needed approval and a
rejection arrive at the same instant; exactly one wins, one `decided` event, and the share's state follows."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloudctl import clock
from cloudctl.action import Context, perform
from cloudctl.approvals import events_of, replay, show_request
from cloudctl.approvals.actions import APPROVE
from cloudctl.audit import Actor, verify_chain
from cloudctl.sharing.actions import ADD_RESOURCE, REQUEST_SHARE
from cloudctl.sharing.store import list_shares
from cloudctl.store import open_store
from tests.sharing.conftest import BOSS, setup_sharing

N = 12
VOTER = Path(__file__).parents[1] / "approvals" / "race_voter.py"


def _race(url: str, tmp_path: Path) -> None:
    store = open_store(url)
    setup_sharing(store)
    ctx = Context(store, BOSS)
    until = (clock.current().today() + dt.timedelta(days=30)).isoformat()
    ids = []
    for i in range(N):  # one resource each: a department has one pending request per resource at a time
        perform(ctx, ADD_RESOURCE, {"name": f"fin-data-{i}", "dept": "finance", "gateway": "gw-lab",
                                    "service": "fin-api", "share_class": "conditional"})
        sid = perform(ctx, REQUEST_SHARE, {"resource": f"fin-data-{i}", "dept": "tax", "purpose": f"p{i}",
                                           "until": until})["id"]
        for who in ("fin-head", "data-office"):  # two groups hold: security's vote decides
            assert perform(Context(store, Actor(who)), APPROVE, {"request_id": sid})["status"] == "pending"
        ids.append(sid)
    start = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(VOTER), url, who, decision, json.dumps(ids), str(start), "action"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who, decision in (("sec-a", "approve"), ("sec-b", "reject"))]
    start.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append({int(k): v for k, v in json.loads(out).items()})
    with store.connect() as conn:
        assert verify_chain(conn).ok
        states = {s["id"]: s["state"] for s in list_shares(conn, clock.current().today(), clock.current().zone)}
        for sid in ids:
            assert [o[sid] for o in outs].count("ok") == 1, (sid, outs[0][sid], outs[1][sid])
            events = events_of(conn, sid)
            assert [e["kind"] for e in events].count("decided") == 1
            expected = "approved" if outs[0][sid] == "ok" else "rejected"
            assert show_request(conn, sid)["status"] == expected
            assert replay(events).status == expected and replay(events).problems == []
            assert states[sid] == ("active" if expected == "approved" else "rejected")
    store.dispose()


def test_racing_votes_on_shares_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    _race(sqlite_url, tmp_path)


@pytest.mark.postgres
def test_racing_votes_on_shares_postgres(pg_url: str, tmp_path: Path) -> None:
    _race(pg_url, tmp_path)
