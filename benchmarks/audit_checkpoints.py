"""What tamper evidence costs (docs/audit.md), in one run:

1. Appending audit records on PostgreSQL with the append-only guards (0008audit: the row trigger
   that checks each insert extends the chain, the head trigger) against the same appends with
   the triggers skipped (session_replication_role = replica; needs a superuser URL): batches of
   B records (the API's heartbeat group commit) and single records in their own transaction.
2. The whole `cloudctl audit verify` command as a user types it on a store of N entries: the
   chain alone against the chain plus K signed checkpoints from the store and the file.
3. The whole `cloudctl audit checkpoint` command (start-up, power check, consistency check of the
   entries since the last checkpoint, signing, fsync).

    python benchmarks/audit_checkpoints.py --pg postgresql://USER:PW@127.0.0.1:5432 [--entries 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert, select

from cloudctl.audit import Actor, Change, record_change, record_changes
from cloudctl.audit.chain import entry_hash
from cloudctl.audit.keys import generate_key, load_private_key
from cloudctl.audit.signer import make_checkpoint
from cloudctl.power import bootstrap
from cloudctl.store import open_store
from cloudctl.store.tables.core import audit_head, audit_log


def _changes(n: int, i: int) -> list[Change]:
    return [Change(Actor("bench", "bench"), "link_state", "link", f"L{i}-{k}", {"up": True}, {"up": False})
            for k in range(n)]


def append_cost(url: str, rounds: int, batch: int, singles: int) -> dict[str, list[float]]:
    """µs per record: batches of `batch` records and single-record transactions, guarded and with
    the triggers skipped, alternating round by round (the machine's load drifts)."""
    store = open_store(url)
    out: dict[str, list[float]] = {"guarded batch": [], "skipped batch": [], "guarded single": [],
                                   "skipped single": []}
    for r in range(rounds):
        for guarded in (True, False):
            label = "guarded" if guarded else "skipped"
            t = time.perf_counter()
            with store.begin() as conn:
                if not guarded:
                    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                record_changes(conn, _changes(batch, r))
            out[f"{label} batch"].append((time.perf_counter() - t) / batch * 1e6)
            t = time.perf_counter()
            for i in range(singles):
                with store.begin() as conn:
                    if not guarded:
                        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                    record_change(conn, Actor("bench"), "update", "thing", str(i))
            out[f"{label} single"].append((time.perf_counter() - t) / singles * 1e6)
    store.dispose()
    return out


def trigger_share(url: str, batch: int, rounds: int) -> tuple[float, float, float]:
    """From EXPLAIN ANALYZE of the append's own statements (load-independent enough to read):
    (ms in the insert row trigger, ms of the whole insert, ms in the head trigger) per batch, medians."""
    store = open_store(url)
    ins_trig, ins_total, head_trig = [], [], []
    for r in range(rounds):
        with store.begin() as conn:
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
            seq, prev, rows = int(head.seq), head.hash, []
            for k in range(batch):  # what record_changes builds
                seq += 1
                e: dict[str, object] = {"seq": seq, "at": "2026-01-01T00:00:00.000000+00:00", "actor": "bench",
                                        "command": "bench", "action": "link_state", "object_type": "link",
                                        "object_id": f"X{r}-{k}", "before": None, "after": None, "prev_hash": prev}
                e["hash"] = prev = entry_hash(e)
                rows.append(e)
            sql = insert(audit_log).values(rows).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").scalar()[0]
            ins_total.append(plan["Execution Time"])
            ins_trig.append(sum(t["Time"] for t in plan.get("Triggers", [])))
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) UPDATE audit_head SET seq = {seq}, "
                                        f"hash = '{prev}' WHERE id = 1").scalar()[0]
            head_trig.append(sum(t["Time"] for t in plan.get("Triggers", [])))
    store.dispose()
    return statistics.median(ins_trig), statistics.median(ins_total), statistics.median(head_trig)


def cli_seconds(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "cloudctl", *args], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{args}: exit {r.returncode}: {r.stderr}")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", required=True, help="PostgreSQL server URL (superuser), without a database")
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--checkpoints", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}")
    server = a.pg.replace("postgresql://", "postgresql+psycopg://").rstrip("/")
    name = f"cloudctl_bench_{uuid.uuid4().hex[:8]}"
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        print("1. appends on PostgreSQL, µs per record, median of 7 alternating rounds")
        costs = {k: statistics.median(v) for k, v in append_cost(url, 7, 500, 50).items()}
        for kind in ("batch", "single"):
            g, k = costs[f"guarded {kind}"], costs[f"skipped {kind}"]
            what = "batches of 500" if kind == "batch" else "one record per transaction"
            print(f"   {what:28} guarded {g:8.1f}  triggers skipped {k:8.1f}  ratio {g / k:.2f}")
        trig, total, head = trigger_share(url, 500, 7)
        print(f"   EXPLAIN ANALYZE, 500-row insert: row trigger {trig:.2f} ms of {total:.2f} ms "
              f"({trig / 500 * 1000:.1f} µs per row); head trigger {head:.3f} ms")
        with tempfile.TemporaryDirectory() as tmp:
            key = Path(tmp) / "k"
            generate_key(key)
            env = {**os.environ, "CLOUDCTL_AS": "bench", "CLOUDCTL_AUDIT_KEY": str(key),
                   "CLOUDCTL_AUDIT_PUBLIC_KEY": str(key) + ".pub",
                   "CLOUDCTL_AUDIT_CHECKPOINT_FILE": str(Path(tmp) / "cp.jsonl")}
            store = open_store(url)
            with store.begin() as conn:
                bootstrap(conn, "bench", Actor("bench"))
            done = 0
            with store.connect() as conn:
                done = int(conn.exec_driver_sql("SELECT seq FROM audit_head").scalar_one())
            per = max(1, (a.entries - done) // a.checkpoints)
            signer = load_private_key(key)
            for i in range(a.checkpoints):
                with store.begin() as conn:
                    record_changes(conn, _changes(per, 10_000 + i))
                make_checkpoint(store, signer, Path(env["CLOUDCTL_AUDIT_CHECKPOINT_FILE"]))
            with store.connect() as conn:
                n = int(conn.exec_driver_sql("SELECT seq FROM audit_head").scalar_one())
            store.dispose()
            print(f"2. `cloudctl audit verify`, {n:,} entries, {a.checkpoints:,} checkpoints, median of {a.runs}")
            no_keys = {k: v for k, v in env.items() if k != "CLOUDCTL_AUDIT_PUBLIC_KEY"}
            no_keys |= {"XDG_CONFIG_HOME": str(Path(tmp) / "empty"), "CLOUDCTL_AUDIT_CHECKPOINT_FILE": "/nonexistent"}
            bare = cli_seconds(["--db", url, "audit", "verify"], no_keys, a.runs)
            signed = cli_seconds(["--db", url, "audit", "verify", "--checkpoints", "both"], env, a.runs)
            print(f"   chain alone {bare:.2f} s; chain + checkpoints (store and file) {signed:.2f} s; "
                  f"ratio {signed / bare:.2f}")
            sign = cli_seconds(["--db", url, "audit", "checkpoint"], env, a.runs)
            floor = cli_seconds(["--db", url, "audit", "log", "--limit", "1"], env, a.runs)
            print(f"3. `cloudctl audit checkpoint`, whole command: {sign:.2f} s "
                  f"(`cloudctl audit log --limit 1`, start-up and store open: {floor:.2f} s)")
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
