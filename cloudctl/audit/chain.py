"""Pure hashing for the audit chain: no I/O, no database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "command", "action", "object_type", "object_id", "before",
          "after", "prev_hash")


def entry_hash(entry: dict[str, object]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (the hash itself excluded)."""
    payload = json.dumps([entry[f] for f in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def check_chain(rows: Iterable[dict[str, object]], head_seq: int, head_hash: str) -> ChainReport:
    """Walk the rows in seq order; name the first row that was edited, inserted or deleted."""
    prev_hash, prev_seq, n = GENESIS, 0, 0
    for row in rows:
        n += 1
        seq = int(row["seq"])  # type: ignore[call-overload]
        if seq != prev_seq + 1:
            return ChainReport(False, n, seq, f"rows {prev_seq + 1}..{seq - 1} are missing (deleted)")
        if row["prev_hash"] != prev_hash:
            why = "does not link to the row before it (inserted, or the row before was deleted or edited)"
            return ChainReport(False, n, seq, why)
        if entry_hash(row) != row["hash"]:
            return ChainReport(False, n, seq, "content does not match its hash (edited)")
        prev_hash, prev_seq = str(row["hash"]), seq
    if head_seq != prev_seq or head_hash != prev_hash:
        bad = prev_seq + 1 if head_seq > prev_seq else prev_seq
        why = (f"the chain ends at row {prev_seq} but the head records row {head_seq} "
               "(rows deleted at the end, or appended behind the log's back)")
        return ChainReport(False, n, bad, why)
    return ChainReport(True, n)
