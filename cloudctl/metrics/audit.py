"""Audit chain status: verified incrementally on every build (new rows only), and in full at
most once per `full_interval` seconds, so an edited old row is found within that interval. The
newest signed checkpoint's row and time, so an alert fires when checkpoints stop (the exporter
holds no key: `cloudctl audit verify` checks the signatures)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from cloudctl.audit.chain import GENESIS, check_chain, entry_hash
from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family
from cloudctl.store.tables.core import audit_checkpoint, audit_head, audit_log


@dataclass
class ChainState:
    ok: bool = True
    problem: str | None = None
    verified_seq: int = 0
    verified_hash: str = GENESIS
    entries: int = 0  # the head's seq: entries ever appended
    full_at: float | None = None  # when the last full verification ran (Unix time)
    verified_at: float | None = None


class ChainWatcher:
    """Keeps what has been verified between builds; thread-safe."""

    def __init__(self, full_interval: float = 300.0) -> None:
        self.full_interval = full_interval
        self.state = ChainState()
        self._lock = threading.Lock()

    def check(self, conn: Connection, now: float) -> ChainState:
        with self._lock:
            s = self.state
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
            if s.full_at is None or now - s.full_at >= self.full_interval or not s.ok:
                self._full(conn, int(head.seq), head.hash, now)
            else:
                self._incremental(conn, int(head.seq), head.hash)
            s.verified_at, s.entries = now, int(head.seq)
            return s

    def _full(self, conn: Connection, head_seq: int, head_hash: str, now: float) -> None:
        rows = conn.execution_options(stream_results=True).execute(select(audit_log).order_by(audit_log.c.seq))
        report = check_chain((dict(r._mapping) for r in rows), head_seq, head_hash)
        s = self.state
        s.ok, s.problem, s.full_at = report.ok, report.problem, now
        s.verified_seq, s.verified_hash = (head_seq, head_hash) if report.ok else (0, GENESIS)

    def _incremental(self, conn: Connection, head_seq: int, head_hash: str) -> None:
        s = self.state
        prev_seq, prev_hash = s.verified_seq, s.verified_hash
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > prev_seq).order_by(audit_log.c.seq))
        for r in rows:
            row = dict(r._mapping)
            if int(row["seq"]) != prev_seq + 1 or row["prev_hash"] != prev_hash or entry_hash(row) != row["hash"]:
                s.ok, s.problem = False, f"row {row['seq']} does not continue the verified chain"
                return
            prev_seq, prev_hash = int(row["seq"]), str(row["hash"])
        if (head_seq, head_hash) != (prev_seq, prev_hash):
            s.ok, s.problem = False, f"the chain ends at row {prev_seq} but the head records row {head_seq}"
            return
        s.verified_seq, s.verified_hash = prev_seq, prev_hash


def collect_audit(ctx: CollectContext, watcher: ChainWatcher) -> list[Family]:
    s = watcher.check(ctx.conn, ctx.now)
    ok = Family("cloudctl_audit_chain_ok", "gauge",
                "1 when every audit log row and the head verify (hash chain intact), else 0.")
    ok.add(1 if s.ok else 0)
    entries = Family("cloudctl_audit_log_entries", "gauge",
                     "Entries appended to the audit log (its head sequence number).")
    entries.add(s.entries)
    full = Family("cloudctl_audit_chain_full_verification_timestamp_seconds", "gauge",
                  "When the whole audit chain was last verified (Unix time).")
    full.add(float(s.full_at or 0.0))
    return [ok, entries, full, *_checkpoint_families(ctx)]


def _checkpoint_families(ctx: CollectContext) -> list[Family]:
    """Only once a checkpoint exists (a store that never signed one emits nothing)."""
    if not ctx.has("audit_checkpoint"):
        return []
    newest = ctx.conn.execute(select(audit_checkpoint.c.seq, audit_checkpoint.c.at)
                              .order_by(audit_checkpoint.c.number.desc()).limit(1)).first()
    if newest is None:
        return []
    seq = Family("cloudctl_audit_checkpoint_seq", "gauge",
                 "The audit log row the newest signed checkpoint vouches for.")
    seq.add(int(newest.seq))
    at = Family("cloudctl_audit_checkpoint_timestamp_seconds", "gauge",
                "When the newest audit checkpoint was signed (Unix time).")
    at.add(datetime.fromisoformat(newest.at).timestamp())
    return [seq, at]
