"""The spool keeps order across restarts, stays bounded, and survives torn writes."""

from __future__ import annotations

from pathlib import Path

from cloudctl.agent.spool import SEGMENT_RECORDS, Spool


def _rec(i: int) -> dict[str, object]:
    return {"seq": i + 1, "ts": 1000.0 + i, "results": []}


def test_replay_in_order_across_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(SEGMENT_RECORDS + 10):
        spool.append(_rec(i))
    reopened = Spool(tmp_path / "spool")  # an agent restart
    assert len(reopened) == SEGMENT_RECORDS + 10
    seen: list[int] = []
    for seg, batch in reopened.batches():
        seen.extend(int(r["seq"]) for r in batch)
        reopened.ack(seg)
    assert seen == list(range(1, SEGMENT_RECORDS + 11))
    assert len(reopened) == 0


def test_unacked_batch_is_replayed_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(_rec(0))
    first = [r for _, b in spool.batches() for r in b]
    second = [r for _, b in spool.batches() for r in b]  # delivery failed: no ack
    assert first == second == [_rec(0)]


def test_bounded_drops_oldest_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_records=2 * SEGMENT_RECORDS)
    total = 5 * SEGMENT_RECORDS
    for i in range(total):
        spool.append(_rec(i))
    kept = [int(r["seq"]) for _, b in spool.batches() for r in b]
    assert len(kept) <= 2 * SEGMENT_RECORDS
    assert kept == sorted(kept) and kept[-1] == total
    assert spool.dropped == total - len(kept)


def test_a_torn_last_line_is_skipped_counted_and_closed_off(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append(_rec(i))
    seg = tmp_path / "1.jsonl"
    seg.write_bytes(seg.read_bytes() + b'{"seq":4,"ts":1003.0,"res')  # power lost mid-write
    reopened = Spool(tmp_path)
    reopened.append(_rec(4))  # the next append must not glue onto the torn line
    records = [int(r["seq"]) for _, b in reopened.batches() for r in b]
    assert records == [1, 2, 3, 5]
    assert reopened.skipped == 1
    assert [int(r["seq"]) for _, b in reopened.batches() for r in b] == [1, 2, 3, 5]
    assert reopened.skipped == 1  # counted once, however often the segment is read


def test_lines_that_are_no_records_are_skipped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(_rec(0))
    seg = tmp_path / "1.jsonl"
    junk = [b"\x00" * 40, b"[1, 2]", b'{"seq": "7", "results": []}', b'{"seq": 8, "ts": NaN, "results": []}',
            b'{"seq": 0, "results": []}', b"\xff\xfe"]
    seg.write_bytes(seg.read_bytes() + b"\n".join(junk) + b"\n")
    spool.append(_rec(1))
    assert [int(r["seq"]) for _, b in spool.batches() for r in b] == [1, 2]
    assert spool.skipped == len(junk)
    assert spool.max_seq() == 2


def test_renumber_follows_a_given_seq_in_order_and_drops_bad_lines(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(SEGMENT_RECORDS + 2):
        spool.append(_rec(i))
    seg = tmp_path / "1.jsonl"
    seg.write_bytes(seg.read_bytes() + b"torn")
    assert spool.renumber(1000) == 1000 + SEGMENT_RECORDS + 2
    records = [r for _, b in Spool(tmp_path).batches() for r in b]
    assert [int(r["seq"]) for r in records] == list(range(1001, 1001 + SEGMENT_RECORDS + 2))
    assert [r["ts"] for r in records] == [1000.0 + i for i in range(SEGMENT_RECORDS + 2)]  # same rounds
    assert spool.renumber(1000) == 1000 + SEGMENT_RECORDS + 2  # idempotent (a crash may repeat it)
