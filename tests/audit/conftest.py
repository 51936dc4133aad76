"""A signing key in a temporary directory, the append-only file beside it, and audited writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cloudctl.audit import Actor, record_change
from cloudctl.audit.keys import generate_key, load_private_key
from cloudctl.audit.signer import CheckpointResult, make_checkpoint
from cloudctl.audit.verify import Verification, verify_audit
from cloudctl.store import Store


@dataclass
class Signer:
    key: Ed25519PrivateKey
    key_path: Path
    public_path: Path
    file: Path

    @property
    def public(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def checkpoint(self, store: Store, **kw) -> CheckpointResult:  # type: ignore[no-untyped-def]
        return make_checkpoint(store, self.key, self.file, **kw)

    def verify(self, store: Store, source: str = "both") -> Verification:
        with store.connect() as conn:
            return verify_audit(conn, [self.public], self.file if self.file.exists() else None, source)


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    key_path = tmp_path / "keys" / "audit-signing.key"
    public_path, _ = generate_key(key_path)
    return Signer(load_private_key(key_path), key_path, public_path, tmp_path / "share" / "checkpoints.jsonl")


def write(store: Store, n: int, who: str = "alice") -> None:
    with store.begin() as conn:
        for i in range(n):
            record_change(conn, Actor(who, "cloudctl test"), "update", "thing", f"t{i}", before={"v": i},
                          after={"v": i + 1})
