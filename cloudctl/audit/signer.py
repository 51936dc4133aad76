"""`audit checkpoint`: sign the chain's head and append the checkpoint to the store and the file.

One signer at a time (an advisory lock on PostgreSQL, the write lock on SQLite, and an flock on
the file), so concurrent runs never fork the checkpoint chain. Before signing, the signer checks
that the chain still extends its newest checkpoint (a consistency check, as a CT log proves each
new tree head consistent with the previous one), so it never signs a rewritten history. The store
and the file are reconciled first: checkpoints the file holds and the store lacks (a crash after
the append, before the commit) are copied into the store after the same checks; checkpoints the
store holds and the file lacks (a new or replaced file) are appended to it. With nothing appended
since the newest checkpoint the run signs nothing: running it again is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select, text

from cloudctl import clock as clocks
from cloudctl.audit import external
from cloudctl.audit.chain import GENESIS, check_chain
from cloudctl.audit.checkpoints import Checkpoint, parse_checkpoint, sign_checkpoint, signature_ok, trusted
from cloudctl.errors import ConflictError
from cloudctl.store import Store
from cloudctl.store.tables.core import audit_checkpoint, audit_head, audit_log

SIGNER_LOCK = 0x636C_6F75_6463_7470  # pg_advisory_xact_lock key: one checkpoint signer per database


@dataclass(frozen=True)
class CheckpointResult:
    newest: Checkpoint | None  # the newest checkpoint after this run
    created: bool  # False: nothing was appended since the newest checkpoint
    imported: int  # checkpoints copied from the file into the store
    appended_missing: int  # store checkpoints appended to a file that lacked them
    file: Path
    head_seq: int


def stored_checkpoints(conn: Connection, after: int = 0, newest_only: bool = False) -> list[Checkpoint]:
    q = select(audit_checkpoint).where(audit_checkpoint.c.number > after)
    q = q.order_by(audit_checkpoint.c.number.desc()).limit(1) if newest_only else q.order_by(audit_checkpoint.c.number)
    return [parse_checkpoint(dict(r._mapping)) for r in conn.execute(q)]


def _refuse(why: str) -> ConflictError:
    return ConflictError(f"refusing to sign a checkpoint: {why}",
                         hint="run `cloudctl audit verify`; docs/audit.md says what to do after a restore")


def _reconcile(conn: Connection, stored: Checkpoint | None, path: Path, keys: dict[str, Ed25519PublicKey]
               ) -> tuple[list[Checkpoint], list[Checkpoint]]:
    """(checkpoints the file holds and the store lacks, checked and to be copied into the store;
    checkpoints the store holds and the file lacks, to be appended to it)."""
    s = stored.number if stored else 0
    tail = external.read_tail(path, min_count=2).checkpoints
    if tail and tail[0].number > max(s, 1):  # the tail window does not reach back far enough
        tail = external.read_all(path).checkpoints
    f = tail[-1].number if tail else 0
    by_number = {cp.number: cp for cp in tail}
    if f < s:
        lacking = stored_checkpoints(conn, after=max(f - 1, 0))
        if f and lacking[0] != tail[-1]:
            raise _refuse(f"checkpoint {f} differs between the store and {path} (the checkpoints forked)")
        return [], [cp for cp in lacking if cp.number > f]
    if stored and by_number.get(s) != stored:
        raise _refuse(f"checkpoint {s} differs between the store and {path}, or the file lacks it "
                      "(the checkpoints forked, or the file was edited)")
    ahead: list[Checkpoint] = []
    previous = stored
    for n in range(s + 1, f + 1):
        cp = by_number.get(n)
        if cp is None or cp.prev != (previous.digest() if previous else GENESIS) or \
                (previous is not None and cp.seq < previous.seq):
            raise _refuse(f"{path}: checkpoint {n} is missing or does not follow checkpoint {n - 1}")
        ahead.append(cp)
        previous = cp
    if ahead and not signature_ok(ahead[-1], keys):
        raise _refuse(f"{path}: checkpoint {f} is not signed by a trusted key")
    return ahead, []


def _check_extends(conn: Connection, base: Checkpoint | None, anchors: list[Checkpoint],
                   head_seq: int, head_hash: str) -> None:
    if base is not None:
        row_hash = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == base.seq)).scalar()
        if row_hash != base.hash:
            raise _refuse(f"row {base.seq} no longer has the hash checkpoint {base.number} signed "
                          "(rewritten, deleted, or the store rolled back)")
    start = base.seq if base else 0
    q = select(audit_log).where(audit_log.c.seq > start, audit_log.c.seq <= head_seq).order_by(audit_log.c.seq)
    rows = conn.execute(q.execution_options(stream_results=True))  # not conn.execution_options: that sticks
    report = check_chain((dict(r._mapping) for r in rows), head_seq, head_hash, anchors, start=base)
    if not report.ok:
        raise _refuse(f"row {report.first_bad_seq}: {report.problem}")


def make_checkpoint(store: Store, key: Ed25519PrivateKey, path: Path, *,
                    trusted_keys: Sequence[Ed25519PublicKey] = (), clock: clocks.Clock | None = None
                    ) -> CheckpointResult:
    """Sign the head (when it moved) and append the checkpoint to the store and to PATH, in one
    transaction with the file append made durable before the commit."""
    keys = trusted([key.public_key(), *trusted_keys])
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SIGNER_LOCK})
        with external.locked_for_append(path) as fd:
            newest = stored_checkpoints(conn, newest_only=True)
            stored = newest[0] if newest else None
            if stored and not signature_ok(stored, keys):
                raise _refuse(f"the store's checkpoint {stored.number} is not signed by a trusted key (forged, or "
                              "signed by an earlier key: pass its public key with --public-key)")
            imported, lacking = _reconcile(conn, stored, path, keys)
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
            base = imported[-1] if imported else stored
            if base is not None and head.seq < base.seq:
                raise _refuse(f"the chain's head is row {head.seq}, behind checkpoint {base.number} (row {base.seq}): "
                              "the log was truncated or the store rolled back")
            _check_extends(conn, stored, imported, int(head.seq), head.hash)
            new: Checkpoint | None = None
            if head.seq > 0 and (base is None or (head.seq, head.hash) != (base.seq, base.hash)):
                when = (clock or clocks.current()).stamp()  # taken under the locks: times only move forward
                when = max(when, base.at) if base else when  # (and a clock stepped back never reorders them)
                new = sign_checkpoint(key, (base.number if base else 0) + 1, int(head.seq), head.hash, when, base)
            to_store = [*imported, *([new] if new else [])]
            if to_store:
                conn.execute(insert(audit_checkpoint), [cp.as_dict() for cp in to_store])
            external.append(fd, path, [*lacking, *([new] if new else [])])
    return CheckpointResult(new or base, new is not None, len(imported), len(lacking), path, int(head.seq))
