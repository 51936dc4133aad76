"""`audit verify`: the chain, checked against the signed checkpoints of the store, of the
append-only file, or of both (the file alone when the store's copy cannot be trusted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, inspect, select

from cloudctl.audit import external
from cloudctl.audit.chain import ChainReport, check_chain
from cloudctl.audit.checkpoints import Checkpoint, check_sequence, merge_sources, trusted
from cloudctl.audit.signer import stored_checkpoints
from cloudctl.store.tables.core import audit_head, audit_log

SOURCES = ("store", "file", "both")


@dataclass(frozen=True)
class Verification:
    chain: ChainReport
    head_seq: int
    sources: tuple[str, ...]  # what the checkpoints were read from: "store" and/or the file's path
    newest: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)  # besides the chain's: forks, deleted checkpoints
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    @property
    def unsigned_entries(self) -> int:
        return self.head_seq - (self.newest.seq if self.newest else 0)

    def as_dict(self) -> dict[str, Any]:
        c = self.chain
        return {"ok": self.ok, "rows_checked": c.rows_checked, "first_bad_seq": c.first_bad_seq,
                "problem": c.problem or (self.problems[0] if self.problems else None),
                "checkpoint": c.checkpoint, "checkpoints_checked": c.checkpoints_checked,
                "checkpoint_sources": list(self.sources),
                "newest_checkpoint": self.newest.as_dict() if self.newest else None,
                "unsigned_entries": self.unsigned_entries, "problems": self.problems, "notes": self.notes}


def _rows(conn: Connection):  # type: ignore[no-untyped-def]
    result = conn.execute(select(audit_log).order_by(audit_log.c.seq).execution_options(stream_results=True))
    return (dict(r._mapping) for r in result)


def _trusted_part(cps: list[Checkpoint], keys: dict[str, Ed25519PublicKey], name: str,
                  problems: list[str]) -> list[Checkpoint]:
    """The checkpoints up to the first problem (which goes to `problems`), each vouched for by a
    valid signature on the newest of them."""
    bad = check_sequence(cps, keys, name)
    if bad is None:
        return cps
    problems.append(bad.problem)
    while cps and bad is not None:
        cps = [cp for cp in cps if cp.number < bad.checkpoint]
        bad = check_sequence(cps, keys, name)
    return cps


def verify_audit(conn: Connection, public_keys: Sequence[Ed25519PublicKey], file: Path | None,
                 source: str = "both") -> Verification:
    """Check every row, the head, and every checkpoint of the chosen sources ("store", "file",
    "both"; "both" without a file is the store alone). Without a public key the checkpoints
    cannot be trusted and are only counted in a note."""
    keys = trusted(public_keys)
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
    use_store = source in ("store", "both")
    use_file = source in ("file", "both") and file is not None
    has_table = inspect(conn).has_table("audit_checkpoint")
    in_store = stored_checkpoints(conn) if use_store and has_table else []
    read = external.read_all(file) if use_file and file is not None else external.FileCheckpoints()
    in_file = read.checkpoints
    label = str(file) if file is not None else "the checkpoint file"
    sources = tuple(s for s, used in (("store", use_store), (label, use_file)) if used)
    problems: list[str] = []
    notes = list(read.skipped)
    if not keys:
        if in_store or in_file:
            notes.append(f"{len(in_store) + len(in_file)} checkpoint(s) not checked: no public key "
                         "(--public-key or CLOUDCTL_AUDIT_PUBLIC_KEY)")
        report = check_chain(_rows(conn), int(head.seq), head.hash)
        return Verification(report, int(head.seq), (), None, problems, notes)
    checked_store = _trusted_part(in_store, keys, "the store", problems)
    checked_file = _trusted_part(in_file, keys, label, problems)
    if use_store and use_file:
        merged = merge_sources(checked_store, checked_file, label)
        checked, problems, notes = merged.checkpoints, problems + merged.problems, notes + merged.notes
    else:
        checked = checked_store if use_store else checked_file
    report = check_chain(_rows(conn), int(head.seq), head.hash, checked)
    newest = max(checked, key=lambda c: (c.seq, c.number)) if checked else None
    if not checked:
        notes.append("no signed checkpoints: the chain is checked only against itself "
                     "(run `cloudctl audit checkpoint` from cron)")
    return Verification(report, int(head.seq), sources, newest, problems, notes)
