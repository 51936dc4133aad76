"""Tables every capability shares: key/value metadata and the hash-chained audit log."""

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from cloudctl.store.tables.base import metadata

# Small facts about the store, e.g. a generation counter bumped on every division import
# so caches of derived arrays know when they are stale.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Append-only; each row's hash covers its content and the previous row's hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", String(40), nullable=False),  # ISO 8601 UTC with offset
    Column("actor", String(200), nullable=False),
    Column("command", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("before", Text, nullable=True),  # JSON summary
    Column("after", Text, nullable=True),  # JSON summary
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The chain's head, updated in the same transaction as each append: a deleted tail row
# or a truncated table shows up as a mismatch between the last row and the head.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Signed checkpoints of the chain (cloudctl/audit/checkpoints.py); append-only, and also appended
# to a file outside the store. Numbered from 1; each names the digest of the one before.
audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("number", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    Column("prev", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(120), nullable=False),
)
