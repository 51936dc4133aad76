"""The heartbeat fast path (cloudctl/api/fastpath.py) answers exactly as the FastAPI route does:
the same requests against an app with and without it give the same statuses, bodies, stored
counters and audit records; the fast path itself answers the ordinary ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cloudctl.api.app import ApiSettings, create_app
from cloudctl.audit import list_entries
from cloudctl.store import open_store
from cloudctl.store.tables.agents import agent

from .test_ingest import TOWNS, enrol, seed


def _hb(seq: Any, links: list[str], up: bool = True) -> dict[str, Any]:
    return {"seq": seq, "sent_at": 1000.0 + (seq if isinstance(seq, int) else 0),
            "results": [{"name": k, "kind": "tcp", "target": "10.0.0.1:443", "link_id": k, "up": up} for k in links]}


def _run(db: str, fast: bool) -> tuple[list[tuple[int, Any]], dict[str, tuple[int, int]], list[tuple[str, str]], int]:
    store = open_store(db)
    seed(store)
    a, ca = enrol(store, TOWNS[0])
    b, cb = enrol(store, TOWNS[1])
    settings = ApiSettings(heartbeat_fast_path=fast, process_metrics=False, max_body_bytes=4096)
    app = create_app(store, settings)
    auth = {"Authorization": f"Bearer {ca}"}
    cases: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (a, _hb(1, ["L1-0", "L1-1"]), auth),                          # accepted, 2 links new
        (a, _hb(1, ["L1-0"]), auth),                                  # replay: duplicate
        (a, _hb(2, ["L1-0"], up=False), auth),                        # a state change
        (a, _hb(3, ["L2-0"]), auth),                                  # a link of another division
        (a, _hb(4, ["L1-0"]), {"Authorization": f"Bearer ccagent.{a}.forged"}),  # forged credential
        (a, _hb(4, ["L1-0"]), {"Authorization": f"Bearer {cb}"}),    # another agent's credential
        (a, _hb(4, ["L1-0"]), {}),                                    # none
        (a, _hb(0, ["L1-0"]), auth),                                  # seq out of range: 422
        (a, {**_hb(5, ["L1-0"]), "agent_version": "x" * 5000}, auth),  # over the body limit: 413
        (b, _hb(1, ["L2-0", "L2-1"]), {"Authorization": f"Bearer {cb}"}),
    ]
    answers = []
    with TestClient(app) as client:
        for agent_id, body, headers in cases:
            r = client.post(f"/v1/agents/{agent_id}/heartbeats", json=body, headers=headers)
            answers.append((r.status_code, r.json()))
        taken = app.fast_path.taken if fast else 0
    with store.connect() as conn:
        rows = {("a" if r.agent_id == a else "b"): (int(r.last_seq), int(r.heartbeats))
                for r in conn.execute(select(agent.c.agent_id, agent.c.last_seq, agent.c.heartbeats))}
        audit = [(e["action"], e["after"] if e["action"] != "reject" else e["after"].split('"client"')[0])
                 for e in reversed(list_entries(conn, limit=None)) if e["action"] in ("link_state", "reject")]
    store.dispose()
    return answers, rows, [(x, y.replace(a, "A").replace(b, "B")) for x, y in audit], taken


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_fast_path_answers_as_the_route_does(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    urls = ([f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'route.db'}"] if kind == "sqlite" else
            [request.getfixturevalue("pg_url"), _second_pg(request)])
    fast, fast_rows, fast_audit, taken = _run(urls[0], True)
    slow, slow_rows, slow_audit, _ = _run(urls[1], False)
    assert [s for s, _ in fast] == [200, 200, 200, 403, 401, 403, 401, 422, 413, 200]
    assert fast == slow
    assert fast[1][1]["duplicate"] is True and fast[2][1]["links_changed"] == 1
    assert fast_rows == slow_rows == {"a": (2, 2), "b": (1, 1)}
    assert fast_audit == slow_audit and len(fast_audit) == 3 + 4  # three changes, four refusals
    assert taken == 4  # the accepted and the duplicate; every refusal went on to the route


def _second_pg(request: pytest.FixtureRequest) -> str:
    from tests.conftest import _create_pg_database, _drop_pg_database

    server = request.getfixturevalue("pg_server_url")
    url, name = _create_pg_database(server)
    request.addfinalizer(lambda: _drop_pg_database(server, name))
    return url
