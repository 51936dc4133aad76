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

from cloudctl.audit import Actor, Change, record_change, record_changes
from cloudctl.audit.keys import generate_key, load_private_key
from cloudctl.audit.signer import make_checkpoint
from cloudctl.power import bootstrap
from cloudctl.store import open_store


def _changes(n: int, i: int) -> list[Change]:
    return [Change(Actor("bench", "bench"), "link_state", "link", f"L{i}-{k}", {"up": True}, {"up": False})
            for k in range(n)]


def append_cost(url: str, batches: int, batch: int, singles: int, guarded: bool) -> tuple[float, float]:
    """(µs per record in batches, µs per single-record transaction)."""
    store = open_store(url)

    def begin():  # type: ignore[no-untyped-def]
        ctx = store.begin()
        conn = ctx.__enter__()
        if not guarded:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return ctx, conn

    t = time.perf_counter()
    for i in range(batches):
        ctx, conn = begin()
        record_changes(conn, _changes(batch, i))
        ctx.__exit__(None, None, None)
    per_batched = (time.perf_counter() - t) / (batches * batch) * 1e6
    t = time.perf_counter()
    for i in range(singles):
        ctx, conn = begin()
        record_change(conn, Actor("bench"), "update", "thing", str(i))
        ctx.__exit__(None, None, None)
    per_single = (time.perf_counter() - t) / singles * 1e6
    store.dispose()
    return per_batched, per_single


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
        print("1. appends on PostgreSQL, µs per record (guarded / triggers skipped = ratio)")
        for label, guarded in (("skipped", False), ("guarded", True), ("skipped", False), ("guarded", True)):
            batched, single = append_cost(url, 20, 500, 300, guarded)
            print(f"   {label:8} batches of 500: {batched:7.1f}   single-record transactions: {single:7.1f}")
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
            print(f"3. `cloudctl audit checkpoint`, whole command: "
                  f"{cli_seconds(['--db', url, 'audit', 'checkpoint'], env, a.runs):.2f} s")
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
