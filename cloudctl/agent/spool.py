"""A bounded on-disk spool: results wait here while the central API is unreachable.

Records are JSON lines in numbered segment files; replay is in order; the spool survives
an agent restart; when full, the oldest segment is dropped (counted, never silently).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SEGMENT_RECORDS = 500


class Spool:
    def __init__(self, directory: Path, *, max_records: int = 50_000) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_segments = max(2, max_records // SEGMENT_RECORDS)
        self.dropped = 0

    def _segments(self) -> list[Path]:
        return sorted(self.dir.glob("*.jsonl"), key=lambda p: int(p.stem))

    def append(self, record: dict[str, Any]) -> None:
        segments = self._segments()
        current = segments[-1] if segments else self.dir / "1.jsonl"
        if current.exists() and _count_lines(current) >= SEGMENT_RECORDS:
            current = self.dir / f"{int(current.stem) + 1}.jsonl"
            segments.append(current)
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with open(current, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        while len(segments) > self.max_segments:
            oldest = segments.pop(0)
            self.dropped += _count_lines(oldest)
            oldest.unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(_count_lines(p) for p in self._segments())

    def batches(self) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
        """Oldest segment first; call ack(path) after the batch was delivered."""
        for seg in self._segments():
            records = [json.loads(line) for line in seg.read_text(encoding="utf-8").splitlines() if line.strip()]
            yield seg, records

    def ack(self, segment: Path) -> None:
        segment.unlink(missing_ok=True)


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0
