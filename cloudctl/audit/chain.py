"""Pure hashing for the audit chain: no I/O, no database."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "command", "action", "object_type", "object_id", "before",
          "after", "prev_hash")


def entry_hash(entry: dict[str, object]) -> str:
    """SHA-256 over the canonical JSON of an entry's fields (the hash itself excluded)."""
    payload = json.dumps([entry[f] for f in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Anchor(Protocol):
    """What the walk needs of a signed checkpoint: which row it vouches for, and that row's hash."""

    number: int
    seq: int
    hash: str
    at: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    checkpoint: int | None = None  # the number of the checkpoint the chain contradicts
    checkpoints_checked: int = 0


def _short(h: object) -> str:
    return f"{str(h)[:16]}…"


def _contradiction(cp: Anchor, row_hash: str, since_seq: int, since: Anchor | None) -> str:
    after = f"checkpoint {since.number} (row {since.seq})" if since else "the start of the log"
    return (f"checkpoint {cp.number} (signed {cp.at}) vouches for row {cp.seq} with hash {_short(cp.hash)}, "
            f"the chain has {_short(row_hash)}: rows {since_seq + 1}..{cp.seq}, after {after}, "
            "were rewritten and the chain recomputed")


def check_chain(rows: Iterable[dict[str, object]], head_seq: int, head_hash: str,
                checkpoints: Sequence[Anchor] = (), start: Anchor | None = None) -> ChainReport:
    """Walk the rows in seq order; name the first row that was edited, inserted or deleted, or the
    first signed checkpoint the chain contradicts (a chain recomputed after an edit links up, but
    no longer has the hash a checkpoint signed for its row).

    With `start` (a checkpoint already trusted), `rows` are those after start.seq: the walk checks
    that they extend it (a signer's consistency check before signing a newer head)."""
    at_seq: dict[int, list[Anchor]] = defaultdict(list)
    for cp in sorted(checkpoints, key=lambda c: c.number):
        at_seq[cp.seq].append(cp)
    prev_hash, prev_seq, n, checked = (start.hash, start.seq, 0, 0) if start else (GENESIS, 0, 0, 0)
    last_good: Anchor | None = start
    for row in rows:
        n += 1
        seq = int(row["seq"])  # type: ignore[call-overload]
        if seq != prev_seq + 1:
            return ChainReport(False, n, seq, f"rows {prev_seq + 1}..{seq - 1} are missing (deleted)",
                               checkpoints_checked=checked)
        if row["prev_hash"] != prev_hash:
            why = "does not link to the row before it (inserted, or the row before was deleted or edited)"
            return ChainReport(False, n, seq, why, checkpoints_checked=checked)
        if entry_hash(row) != row["hash"]:
            return ChainReport(False, n, seq, "content does not match its hash (edited)", checkpoints_checked=checked)
        for cp in at_seq.get(seq, ()):
            if cp.hash != row["hash"]:
                since = last_good.seq if last_good else 0
                return ChainReport(False, n, seq, _contradiction(cp, str(row["hash"]), since, last_good),
                                   checkpoint=cp.number, checkpoints_checked=checked)
            checked, last_good = checked + 1, cp
        prev_hash, prev_seq = str(row["hash"]), seq
    if head_seq != prev_seq or head_hash != prev_hash:
        bad = prev_seq + 1 if head_seq > prev_seq else prev_seq
        why = (f"the chain ends at row {prev_seq} but the head records row {head_seq} "
               "(rows deleted at the end, or appended behind the log's back)")
        return ChainReport(False, n, bad, why, checkpoints_checked=checked)
    beyond = sorted((cp for cp in checkpoints if cp.seq > prev_seq), key=lambda c: c.number)
    if beyond:
        cp = beyond[0]
        why = (f"checkpoint {cp.number} (signed {cp.at}) vouches for row {cp.seq}, but the chain ends at row "
               f"{prev_seq}: rows {prev_seq + 1}..{cp.seq} were deleted (the log was truncated, or the store "
               "rolled back to an older state)")
        return ChainReport(False, n, prev_seq + 1, why, checkpoint=cp.number, checkpoints_checked=checked)
    return ChainReport(True, n, checkpoints_checked=checked)
