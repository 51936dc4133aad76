"""Signed checkpoints of the audit chain (pure: no database, no files).

A checkpoint is the signer's statement "row SEQ of the chain has hash HASH, at time AT", like a
Certificate Transparency signed tree head (tree_size, root hash, timestamp) or immudb's signed
state (tx id, tx hash). Checkpoints are numbered 1, 2, 3 … and each names the digest of the
statement before it (`prev`), so they form a hash chain of their own: deleting, reordering or
forking checkpoints shows, and one valid signature on the newest checkpoint authenticates every
statement before it.

The signed bytes are the statement's lines (UTF-8), domain-separated by a first line naming the
format, so a signature made here means nothing anywhere else:

    cloudctl audit checkpoint v1
    number 7
    seq 1234
    hash <64 hex>
    at 2026-05-01T08:00:00.000000+00:00
    prev <64 hex: SHA-256 of checkpoint 6's statement, or 64 zeros>
    key <64 hex: SHA-256 of the raw Ed25519 public key>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cloudctl.audit.chain import GENESIS

FORMAT = "cloudctl audit checkpoint v1"
HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_LINE = 1024  # a checkpoint line is ~420 bytes; anything longer is not one


@dataclass(frozen=True)
class Checkpoint:
    number: int
    seq: int
    hash: str
    at: str  # UTC ISO 8601 (clock.stamp)
    prev: str  # SHA-256 of the previous checkpoint's statement (GENESIS for number 1)
    key_id: str
    signature: str  # base64 Ed25519 signature over statement()

    def statement(self) -> bytes:
        return statement(self.number, self.seq, self.hash, self.at, self.prev, self.key_id)

    def digest(self) -> str:
        """What the next checkpoint names as `prev`."""
        return hashlib.sha256(self.statement()).hexdigest()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_line(self) -> str:
        """One JSON line of the append-only file (and the shape `--format json` prints)."""
        return json.dumps({"v": 1, **self.as_dict()}, separators=(",", ":"), sort_keys=True)


def statement(number: int, seq: int, hash_: str, at: str, prev: str, key_id: str) -> bytes:
    return (f"{FORMAT}\nnumber {number}\nseq {seq}\nhash {hash_}\nat {at}\nprev {prev}\nkey {key_id}\n"
            ).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key (CT names a log by the hash of its key the same way)."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def sign_checkpoint(key: Ed25519PrivateKey, number: int, seq: int, hash_: str, at: str,
                    previous: Checkpoint | None) -> Checkpoint:
    prev = previous.digest() if previous else GENESIS
    kid = key_id(key.public_key())
    signature = key.sign(statement(number, seq, hash_, at, prev, kid))
    return Checkpoint(number, seq, hash_, at, prev, kid, base64.b64encode(signature).decode("ascii"))


def signature_ok(cp: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    key = keys.get(cp.key_id)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), cp.statement())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def trusted(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in public_keys}


def parse_checkpoint(data: object) -> Checkpoint:
    """A checkpoint from its JSON object (a file line or a store row); ValueError says why not."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    try:
        number, seq = data["number"], data["seq"]
        fields = {k: data[k] for k in ("hash", "at", "prev", "key_id", "signature")}
    except KeyError as e:
        raise ValueError(f"field {e.args[0]!r} is missing") from None
    if type(number) is not int or type(seq) is not int or number < 1 or seq < 0:
        raise ValueError("number and seq must be non-negative integers (number from 1)")
    if not all(isinstance(v, str) for v in fields.values()):
        raise ValueError("hash, at, prev, key_id and signature must be strings")
    for name in ("hash", "prev", "key_id"):
        if not HEX64.fullmatch(fields[name]):
            raise ValueError(f"{name} must be 64 lowercase hex digits")
    try:
        datetime.fromisoformat(fields["at"])
    except ValueError:
        raise ValueError("at must be an ISO 8601 time") from None
    if "\n" in fields["at"] or len(fields["signature"]) > 120:
        raise ValueError("at or signature is malformed")
    return Checkpoint(number, seq, **fields)


def parse_line(line: str) -> Checkpoint:
    if len(line) > MAX_LINE:
        raise ValueError(f"longer than {MAX_LINE} characters")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg})") from None
    return parse_checkpoint(data)


@dataclass(frozen=True)
class SequenceProblem:
    checkpoint: int
    problem: str


def check_sequence(cps: Sequence[Checkpoint], keys: Mapping[str, Ed25519PublicKey],
                   source: str) -> SequenceProblem | None:
    """Checkpoints of one source (the store, or the file) in number order: numbered 1..n without
    gaps, each naming the digest of the one before, heads never moving back, and the newest
    signed by a trusted key (which, through the `prev` links, vouches for every one before)."""
    previous: Checkpoint | None = None
    for cp in cps:
        expected = previous.number + 1 if previous else 1
        if cp.number != expected:
            what = f"checkpoints {expected}..{cp.number - 1} are missing" if cp.number > expected else \
                f"checkpoint {cp.number} appears twice"
            return SequenceProblem(cp.number, f"{source}: {what} (removed, or the checkpoints forked)")
        if cp.prev != (previous.digest() if previous else GENESIS):
            return SequenceProblem(cp.number, f"{source}: checkpoint {cp.number} does not name the digest of "
                                              "the checkpoint before it (edited, or the checkpoints forked)")
        if previous and (cp.seq < previous.seq or cp.at < previous.at):
            return SequenceProblem(cp.number, f"{source}: checkpoint {cp.number} moves back from checkpoint "
                                              f"{previous.number} (row {previous.seq} → {cp.seq}, signed "
                                              f"{previous.at} → {cp.at})")
        previous = cp
    if previous is not None and not signature_ok(previous, keys):
        why = ("its signature does not verify (forged or edited)" if previous.key_id in keys
               else f"it is signed by key {previous.key_id[:16]}…, which is not a trusted public key")
        return SequenceProblem(previous.number, f"{source}: checkpoint {previous.number}: {why}")
    return None


@dataclass(frozen=True)
class Merged:
    checkpoints: list[Checkpoint]
    problems: list[str]
    notes: list[str]


def _ranges(numbers: Sequence[int]) -> str:
    return f"{numbers[0]}..{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def merge_sources(in_store: Sequence[Checkpoint], in_file: Sequence[Checkpoint], file_label: str) -> Merged:
    """Both copies of the checkpoints, side by side: the same number must be the same checkpoint;
    the store lacking checkpoints the file holds means they were deleted from the store (or the
    store was rolled back); the file lacking the store's newest means an append is pending."""
    store_by, file_by = {cp.number: cp for cp in in_store}, {cp.number: cp for cp in in_file}
    problems, notes = [], []
    forks = sorted(n for n in store_by.keys() & file_by.keys() if store_by[n] != file_by[n])
    if forks:
        problems.append(f"checkpoint {forks[0]} differs between the store and {file_label}: two histories were "
                        "signed (a stolen key, or a store restored and signed again)")
    only_file = sorted(file_by.keys() - store_by.keys())
    if only_file:
        problems.append(f"the store lacks checkpoint(s) {_ranges(only_file)} that {file_label} holds: deleted from "
                        "the store, or the store rolled back (a crash between the append and the commit leaves "
                        "one, which the next `audit checkpoint` copies back)")
    only_store = sorted(store_by.keys() - file_by.keys())
    if only_store:
        notes.append(f"{file_label} lacks checkpoint(s) {_ranges(only_store)} that the store holds (the file was "
                     "unavailable, replaced or truncated; the next `audit checkpoint` appends them)")
    both = [*in_store, *(cp for cp in in_file if store_by.get(cp.number) != cp)]  # a fork: check both sides
    return Merged(sorted(both, key=lambda c: c.number), problems, notes)
