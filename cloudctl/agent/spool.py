"""A bounded on-disk spool: every round's heartbeat is written here before it is sent, and
stays until the API has answered it.

Records are JSON lines in numbered segment files (cloudctl/agent/durable.py: fsynced, the
directory too); replay is in order; the spool survives an agent restart and a torn write (a
line that is not a whole record is skipped and counted in `skipped`, never fatal); when full,
the oldest segment is dropped (counted in `dropped`, never silently).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudctl.agent import durable

SEGMENT_RECORDS = 500


class Spool:
    def __init__(self, directory: Path, *, max_records: int = 50_000) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_segments = max(2, max_records // SEGMENT_RECORDS)
        self.dropped = 0
        self.skipped = 0
        self._counted: set[str] = set()  # segments whose bad lines are in `skipped` already

    def _segments(self) -> list[Path]:
        return sorted((p for p in self.dir.glob("*.jsonl") if p.stem.isdigit()), key=lambda p: int(p.stem))

    def append(self, record: dict[str, Any]) -> None:
        segments = self._segments()
        current = segments[-1] if segments else self.dir / "1.jsonl"
        if current.exists() and _count_lines(current) >= SEGMENT_RECORDS:
            current = self.dir / f"{int(current.stem) + 1}.jsonl"
            segments.append(current)
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
        durable.append_line(current, line.encode("utf-8"))
        while len(segments) > self.max_segments:
            oldest = segments.pop(0)
            self.dropped += len(self._read(oldest))
            self._forget(oldest)

    def __len__(self) -> int:
        """Whole records waiting (bad lines are not records)."""
        return sum(len(self._read(p)) for p in self._segments())

    def _read(self, segment: Path) -> list[dict[str, Any]]:
        """The whole records of a segment; bad lines are skipped (counted once per segment)."""
        try:
            raw = segment.read_bytes()
        except FileNotFoundError:
            return []
        records, bad = [], 0
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            record = _parse(line)
            if record is None:
                bad += 1
            else:
                records.append(record)
        if segment.name not in self._counted:
            self._counted.add(segment.name)
            self.skipped += bad
        return records

    def batches(self) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
        """Oldest segment first; call ack(path) after the batch was delivered."""
        for seg in self._segments():
            yield seg, self._read(seg)

    def ack(self, segment: Path) -> None:
        self._forget(segment)

    def _forget(self, segment: Path) -> None:
        segment.unlink(missing_ok=True)
        self._counted.discard(segment.name)

    def max_seq(self) -> int:
        return max((int(r["seq"]) for _, batch in self.batches() for r in batch), default=0)

    def renumber(self, after: int) -> int:
        """Give the spooled records the sequence numbers after+1, after+2, ... in order (each
        segment replaced atomically; bad lines are left out). Returns the last number given."""
        seq = after
        for seg, batch in list(self.batches()):
            lines = []
            for record in batch:
                seq += 1
                lines.append(json.dumps({**record, "seq": seq}, separators=(",", ":"), ensure_ascii=False))
            durable.write_atomic(seg, "".join(line + "\n" for line in lines).encode("utf-8"))
        return seq


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(line: bytes) -> dict[str, Any] | None:
    """A heartbeat record, or None for a line that is not one (torn, zeroed, edited)."""
    try:
        record = json.loads(line, parse_constant=_not_json)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, NaN
        return None
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int) or record["seq"] < 1:
        return None
    if not isinstance(record.get("results"), list):
        return None
    return record


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0
