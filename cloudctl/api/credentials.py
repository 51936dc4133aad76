"""Tokens and credentials: random, stored only as SHA-256 hashes, compared in constant time.

Both are 256-bit random secrets, so a fast hash is enough (no password stretching needed);
the stored hash is useless to someone who reads the database. Shape:
`cc<kind>.<agent_id>.<secret>` — the agent id lets the server find the one row to compare.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ENROL = "ccenrol"
CREDENTIAL = "ccagent"
OPERATOR = "ccop"
PREFIXES = {ENROL: "agt-", CREDENTIAL: "agt-", OPERATOR: "opt-"}
_DUMMY_HASH = "0" * 64


def new_agent_id() -> str:
    return "agt-" + secrets.token_hex(8)


def new_token_id() -> str:
    return "opt-" + secrets.token_hex(8)


def new_secret(kind: str, agent_id: str) -> str:
    return f"{kind}.{agent_id}.{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_secret(secret: str, kind: str) -> str | None:
    """The id (agent or token) a secret claims, or None when it is not of that kind's shape."""
    parts = secret.split(".")
    if len(parts) != 3 or parts[0] != kind or not parts[1].startswith(PREFIXES[kind]) or len(parts[1]) > 40:
        return None
    return parts[1]


def matches(secret: str, stored_hash: str | None) -> bool:
    """Constant time whether or not a hash is stored (no early return that leaks existence)."""
    ok = hmac.compare_digest(hash_secret(secret), stored_hash or _DUMMY_HASH)
    return ok and stored_hash is not None
